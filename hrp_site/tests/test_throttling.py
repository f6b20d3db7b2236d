import logging
import socket

import pytest
from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache

from hrp_site import throttling

# 45 s into a minute of the throttles' fixed windows.
NOW = 1_800_000_045.0


@pytest.fixture
def redis_refusing(settings, monkeypatch):
    """The default cache pointed at a local port nobody listens on: Redis is down."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{port}/0",
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 1.0},
        }
    }


@pytest.mark.django_db
def test_api_answers_while_the_throttle_cache_is_down(redis_refusing, member_api, caplog):
    caplog.set_level(logging.WARNING, logger="hrp_site.throttling")

    codes = [member_api.get("/api/v1/racecourses/").status_code for _ in range(3)]

    assert codes == [200, 200, 200]
    # One warning for the outage, not one per request.
    assert [record.getMessage()[:48] for record in caplog.records] == [
        "API throttles off for 10 s: the cache is unreach"
    ]


@pytest.mark.django_db
def test_anonymous_status_page_answers_while_the_throttle_cache_is_down(redis_refusing, client):
    response = client.get("/api/providers")

    assert response.status_code == 200


@pytest.mark.django_db
def test_throttles_count_again_once_the_back_off_is_over(member_api, monkeypatch):
    # given: an earlier outage whose back-off has run out (conftest resets it for each test)
    monkeypatch.setattr(throttling.UserRateThrottle, "THROTTLE_RATES", {"user": "2/minute"})
    # Inside one window of the fixed-window count, however slow the requests.
    monkeypatch.setattr(throttling.UserRateThrottle, "timer", staticmethod(lambda: NOW))

    codes = [member_api.get("/api/v1/racecourses/").status_code for _ in range(3)]

    assert codes == [200, 200, 429]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("num_proxies", "forwarded_for"),
    [(0, "198.51.100.{n}"), (1, "203.0.113.7, not-an-address-{n}")],
)
def test_forged_forwarded_for_entries_do_not_dodge_the_anonymous_throttle(
    api_client, settings, monkeypatch, num_proxies, forwarded_for
):
    # given: with no proxy in front every entry is the client's; with one, the proxy's entry is
    # junk the client wrote to look like a new address each time
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": num_proxies}
    monkeypatch.setattr(throttling.AnonRateThrottle, "THROTTLE_RATES", {"anon": "2/minute"})
    monkeypatch.setattr(throttling.AnonRateThrottle, "timer", staticmethod(lambda: NOW))

    codes = [
        api_client.get("/api/providers", HTTP_X_FORWARDED_FOR=forwarded_for.format(n=n)).status_code
        for n in range(3)
    ]

    assert codes == [200, 200, 429]


@pytest.fixture
def two_a_minute(monkeypatch):
    monkeypatch.setattr(throttling.UserRateThrottle, "THROTTLE_RATES", {"user": "2/minute"})
    monkeypatch.setattr(throttling.UserRateThrottle, "timer", staticmethod(lambda: NOW))


@pytest.mark.django_db
def test_the_refusal_says_when_the_window_ends(member_api, two_a_minute):
    responses = [member_api.get("/api/v1/racecourses/") for _ in range(3)]

    assert [response.status_code for response in responses] == [200, 200, 429]
    assert responses[2]["Retry-After"] == "15"
    assert responses[2].json() == {
        "detail": "Request was throttled. Expected available in 15 seconds."
    }


@pytest.mark.django_db
def test_the_next_window_counts_afresh(member_api, two_a_minute, monkeypatch):
    first = [member_api.get("/api/v1/racecourses/").status_code for _ in range(3)]
    monkeypatch.setattr(throttling.UserRateThrottle, "timer", staticmethod(lambda: NOW + 15))

    second = [member_api.get("/api/v1/racecourses/").status_code for _ in range(3)]

    assert (first, second) == ([200, 200, 429], [200, 200, 429])


@pytest.mark.django_db
def test_redis_holds_one_counter_per_user_and_window_that_expires_with_it(
    member_api, member_user, two_a_minute
):
    cache = caches["default"]
    if not isinstance(cache, RedisCache):
        pytest.skip("the default cache is not Redis (REDIS_URL is unset)")

    for _ in range(3):
        member_api.get("/api/v1/racecourses/")

    key = cache.make_key(f"throttle:user:{member_user.pk}:{int(NOW // 60)}")
    client = cache._cache.get_client(key)
    assert int(client.get(key)) == 3
    # The 15 s left of the window and one more.
    assert 15_000 < client.pttl(key) <= 16_000


@pytest.mark.django_db
def test_without_redis_the_in_process_cache_counts(member_api, settings, two_a_minute):
    # As make run and the tests without REDIS_URL have it.
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": "test_without_redis_the_in_process_cache_counts",
        }
    }

    codes = [member_api.get("/api/v1/racecourses/").status_code for _ in range(3)]

    assert codes == [200, 200, 429]
