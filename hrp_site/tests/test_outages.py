"""Outages met for real: private PostgreSQL and Redis servers are stopped, hung and restarted
under a gunicorn started as the image starts it (hrp_site.testing.processes)."""

import json
import time

import pytest

from hrp_site.testing import processes
from hrp_site.testing.required import skip_unless_required

pytestmark = pytest.mark.faults

MEMBER_PAGES = ["/", "/racing/", "/search/"]
STAFF_PAGES = ["/admin/", "/admin/races/race/"]
API_READS = ["/api/v1/racecourses/", "/api/v1/races/"]

# A member and a staff user with a signed-in session each, and a member's API token.
MAKE_USERS = """
import json
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.auth import get_user_model
from django.contrib.sessions.backends.db import SessionStore
from knox.models import AuthToken

def signed_in(user):
    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.create()
    return session.session_key

User = get_user_model()
member = User.objects.create_user(username="member", password="a-long-member-password")
staff = User.objects.create_user(
    username="staff", password="a-long-staff-password", is_staff=True, is_superuser=True
)
print(json.dumps({
    "member_session": signed_in(member),
    "staff_session": signed_in(staff),
    "member_token": AuthToken.objects.create(member)[1],
    "member_id": member.pk,
}))
"""


@pytest.fixture(scope="module")
def _binaries():
    missing = processes.missing_binaries()
    if missing:
        skip_unless_required("HRP_REQUIRE_FAULTS", f"fault tests need {missing}")


def _running(server):
    """Start `server`, yield it, close it (also when it failed to start)."""
    try:
        server.start()
        yield server
    finally:
        server.close()


@pytest.fixture(scope="module")
def postgres(_binaries):
    yield from _running(processes.PrivatePostgres())


@pytest.fixture(scope="module")
def redis(_binaries):
    yield from _running(processes.RedisServer())


@pytest.fixture(scope="module")
def deploy(postgres, redis):
    """The pre-deploy migrate job started twice at once on a fresh database, as two deploys close
    together start it, beside collectstatic as the image build runs it."""
    env = processes.app_environment(
        database_url=postgres.create_database("hrp"), redis_url=redis.url(0)
    )
    static = processes.start_manage("collectstatic", "--no-input", env=env)
    jobs = [processes.start_manage("migrate", "--no-input", env=env) for _ in range(2)]
    outputs = [job.communicate(timeout=300) for job in jobs]
    processes.finish(static)
    results = [(job.returncode, *out) for job, out in zip(jobs, outputs, strict=True)]
    return {"env": env, "migrate_jobs": results}


@pytest.fixture(scope="module")
def site(deploy):
    """The web service on the deployed database, with a member and a staff user."""
    env = deploy["env"]
    users = json.loads(processes.manage("shell", "-c", MAKE_USERS, env=env).splitlines()[-1])
    web = processes.Gunicorn(env=env)
    try:
        web.start()
        yield {"web": web, **users}
    finally:
        web.close()


def get(site, path, *, as_user=None, token=None):
    headers = {}
    if as_user:
        headers["Cookie"] = f"sessionid={site[f'{as_user}_session']}"
    if token:
        headers["Authorization"] = f"Token {site['member_token']}"
    status, response_headers, body = processes.http_get(site["web"].url + path, headers=headers)
    return status, response_headers, body


def statuses(site):
    """Every page, admin page and API read as its user would ask for it."""
    answers = {}
    for path in MEMBER_PAGES:
        answers[f"member {path}"] = get(site, path, as_user="member")[0]
    for path in STAFF_PAGES:
        answers[f"staff {path}"] = get(site, path, as_user="staff")[0]
    for path in API_READS:
        answers[f"token {path}"] = get(site, path, token=True)[0]
        answers[f"session {path}"] = get(site, path, as_user="member")[0]
    answers["anonymous /"] = get(site, "/")[0]
    answers["anonymous /api/providers"] = get(site, "/api/providers")[0]
    answers["probe /healthz/"] = get(site, "/healthz/")[0]
    return answers


def test_everything_answers_while_redis_is_down_and_counts_again_once_it_is_back(site, redis):
    # given: throttles counting in Redis
    assert set(statuses(site).values()) == {200}
    # (one counter per user and minute: hrp:1:throttle:user:<id>:<minute>)
    throttle_key = f"hrp:1:throttle:user:{site['member_id']}:".encode()
    assert any(key.startswith(throttle_key) for key in redis_keys(redis))

    # when: Redis goes away
    redis.stop()
    try:
        started = time.monotonic()
        during = statuses(site)
        elapsed = time.monotonic() - started
    finally:
        redis.start()
    print(f"\n{len(during)} requests with Redis down took {elapsed:.2f} s")

    # then
    assert during == {name: 200 for name in during}
    # and once it is back, the throttles count again without a restart
    back = time.monotonic()
    processes.wait_for(
        lambda: (
            get(site, API_READS[0], token=True)[0] == 200
            and any(key.startswith(throttle_key) for key in redis_keys(redis))
        ),
        timeout=60,
        what="throttles counting in Redis again",
    )
    recovery = time.monotonic() - back
    print(f"Redis back -> throttles counting again: {recovery:.2f} s")


def test_a_hung_redis_costs_a_request_about_a_second_not_the_request(site, redis):
    # given: Redis accepts connections but never answers (stopped, not dead)
    redis.pause()
    try:
        # when
        started = time.monotonic()
        during = [get(site, API_READS[0], token=True)[0] for _ in range(4)]
        elapsed = time.monotonic() - started
    finally:
        redis.resume()
    print(f"\n4 API reads with Redis hung took {elapsed:.2f} s")

    # then
    assert during == [200, 200, 200, 200]


def test_postgres_down_answers_503_and_recovers_by_itself(site, postgres):
    # given: the gunicorn threads that serve these hold pooled connections (CONN_MAX_AGE) that
    # the restart below leaves stale
    for _ in range(16):
        assert get(site, API_READS[0], token=True)[0] == 200

    # when: PostgreSQL stops, ending every session
    postgres.stop()
    try:
        page = get(site, MEMBER_PAGES[0], as_user="member")
        api = get(site, API_READS[0], token=True)
        during = statuses(site)
    finally:
        started = time.monotonic()
        postgres.start()
    back = time.monotonic()

    # then: a page in the site's layout, and JSON for the API, each saying when to retry
    status, headers, body = page
    assert (status, headers["Retry-After"], headers["Content-Type"]) == (
        503,
        "30",
        "text/html; charset=utf-8",
    )
    assert "<h1>HRP is temporarily unavailable</h1>" in body.decode()
    assert 'class="site-header"' in body.decode()
    status, headers, body = api
    assert (status, headers["Retry-After"], json.loads(body)) == (
        503,
        "30",
        {"detail": "The service is temporarily unavailable. Try again shortly."},
    )
    # the probe says so too; only the public status page, which reads nothing, is "down" alike
    assert during == {name: 503 for name in during}

    # and: with PostgreSQL back, the very first requests succeed on every thread
    after = [get(site, API_READS[0], token=True)[0]]
    first_answer = time.monotonic()
    after += [get(site, API_READS[0], token=True)[0] for _ in range(15)]
    print(
        f"\nPostgreSQL start took {back - started:.2f} s; "
        f"PostgreSQL back -> first 200: {first_answer - back:.2f} s"
    )
    assert after == [200] * 16
    assert set(statuses(site).values()) == {200}


def test_two_migrate_jobs_at_once_both_succeed(deploy):
    # given/when: the deploy fixture's two migrate jobs on one fresh database
    jobs = deploy["migrate_jobs"]

    # then: both succeed, one after the other, and nothing is left to apply
    assert [code for code, _, _ in jobs] == [0, 0], [stderr[-2000:] for _, _, stderr in jobs]
    assert sum("waiting for it" in stdout for _, stdout, _ in jobs) == 1
    processes.manage("migrate", "--check", env=deploy["env"])


def redis_keys(redis):
    import redis as redis_client

    client = redis_client.Redis.from_url(redis.url(0), socket_timeout=2)
    try:
        return set(client.keys("*"))
    finally:
        client.close()
