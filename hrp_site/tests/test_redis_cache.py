"""The Redis cache backend keeps one redis-py client per pool and per thread's backend."""

import os
import threading

import pytest
import redis

from hrp_site import throttling
from hrp_site.redis_cache import RedisCache

pytestmark = pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="needs Redis (REDIS_URL)")


@pytest.fixture
def backend():
    cache = RedisCache(os.environ["REDIS_URL"], {"KEY_PREFIX": "test-redis-cache"})
    yield cache
    cache.delete_many(["a", "b"])


def test_one_client_serves_every_call(backend):
    first = backend._cache.get_client("a", write=True)
    again = backend._cache.get_client("b", write=False)

    backend.set("a", {"x": 1})
    assert backend.get("a") == {"x": 1}
    assert first is again
    assert isinstance(first, redis.Redis)


def test_threads_share_a_client_safely(backend):
    errors = []

    def work(n):
        try:
            for i in range(50):
                backend.set(f"t{n}", i)
                assert backend.get(f"t{n}") == i
        except Exception as error:  # noqa: BLE001  (reported below)
            errors.append(error)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    backend.delete_many([f"t{n}" for n in range(4)])
    assert errors == []


def test_the_throttle_counter_survives_redis_forgetting_its_script(settings, monkeypatch):
    # given: the counter's script loaded once, then unknown to Redis (a restarted Redis keeps no
    # scripts; the shared server's are not flushed here, so the SHA the client sends is changed)
    settings.CACHES = {
        "default": {
            "BACKEND": "hrp_site.redis_cache.RedisCache",
            "LOCATION": os.environ["REDIS_URL"],
        }
    }
    monkeypatch.setattr(throttling, "_count_script", None)
    key = f"test-redis-cache-count-{os.getpid()}"
    assert throttling.count_hit(key, lifetime=5) == 1
    monkeypatch.setattr(throttling._count_script, "sha", "0" * 40)

    # when / then: it is sent again and the count goes on
    assert throttling.count_hit(key, lifetime=5) == 2
