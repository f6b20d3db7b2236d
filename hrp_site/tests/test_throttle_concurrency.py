"""The API throttles under concurrent requests, met for real: gunicorn started as the image starts
it (two workers of four threads), on a private PostgreSQL and Redis.

DRF's stock throttles read a history, append and write it back, so concurrent requests each saw
room and far more than the limit got through. Counted with one atomic INCR each, exactly the
limit does."""

import json
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from hrp_site.testing import processes
from hrp_site.testing.required import skip_unless_required

pytestmark = pytest.mark.faults

LIMIT = 30
REQUESTS = 200

MAKE_TOKEN = """
import json
from django.contrib.auth import get_user_model
from knox.models import AuthToken

member = get_user_model().objects.create_user(username="member", password="a-long-member-password")
print(json.dumps({"token": AuthToken.objects.create(member)[1]}))
"""


@pytest.fixture(scope="module")
def site():
    missing = processes.missing_binaries()
    if missing:
        skip_unless_required("HRP_REQUIRE_FAULTS", f"the concurrency test needs {missing}")
    with processes.private_site(DJANGO_API_THROTTLE_USER=f"{LIMIT}/minute") as env:
        token = json.loads(processes.manage("shell", "-c", MAKE_TOKEN, env=env).splitlines()[-1])
        web = processes.Gunicorn(env=env)
        try:
            web.start()
            yield {"url": web.url, **token}
        finally:
            web.close()


def wait_for_the_start_of_a_window(*, within: float) -> None:
    """Sleep until the throttles' minute has at least 60 - `within` seconds left, so that a burst
    shorter than that is counted in one window."""
    into = time.time() % 60
    if into > within:
        time.sleep(60 - into + 0.1)


def test_concurrent_requests_get_exactly_the_limit_through(site):
    headers = {"Authorization": f"Token {site['token']}"}

    def read(_) -> int:
        return processes.http_get(
            f"{site['url']}/api/v1/racecourses/", headers=headers, timeout=60
        )[0]

    wait_for_the_start_of_a_window(within=15)
    window = int(time.time() // 60)
    with ThreadPoolExecutor(max_workers=50) as pool:
        codes = list(pool.map(read, range(REQUESTS)))
    assert int(time.time() // 60) == window, "the burst outlasted its window; run it again"

    assert {code: codes.count(code) for code in set(codes)} == {200: LIMIT, 429: REQUESTS - LIMIT}
