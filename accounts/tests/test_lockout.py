import datetime

import pytest
from axes.models import AccessAttempt
from django.contrib.auth import SESSION_KEY
from knox.models import AuthToken

from .clients import basic
from .factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

LOGIN = "/accounts/login/"


@pytest.fixture(autouse=True)
def _lockout_settings(settings):
    settings.AXES_FAILURE_LIMIT = 5
    settings.AXES_COOLOFF_TIME = datetime.timedelta(minutes=30)
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 1}


def log_in(client, username: str, password: str, **headers):
    return client.post(LOGIN, {"username": username, "password": password}, headers=headers)


def fail(client, username: str, times: int, **headers) -> list[int]:
    return [log_in(client, username, "wrong-password", **headers).status_code for _ in range(times)]


def test_five_failures_lock_the_account_even_for_the_right_password(client):
    UserFactory(username="rider")

    statuses = fail(client, "rider", 4)
    fifth = log_in(client, "rider", "wrong-password")
    sixth = log_in(client, "rider", PASSWORD)

    assert statuses == [200, 200, 200, 200]
    assert fifth.status_code == 429
    assert sixth.status_code == 429
    html = sixth.content.decode()
    assert "<h1>Account locked</h1>" in html
    assert "locked for 30 minutes" in html
    assert 'href="/accounts/password/reset/"' in html
    assert SESSION_KEY not in client.session


def test_forged_forwarded_for_entries_do_not_dodge_the_lockout(client):
    # given a client behind the platform's proxy, which appends the real address, writing a new
    # address of its own in front on every attempt
    UserFactory(username="rider")

    statuses = [
        log_in(
            client, "rider", "wrong-password", X_Forwarded_For=f"10.0.0.{n}, 203.0.113.7"
        ).status_code
        for n in range(5)
    ]
    sixth = log_in(client, "rider", PASSWORD, X_Forwarded_For="10.9.9.9, 203.0.113.7")

    assert statuses == [200, 200, 200, 200, 429]
    assert sixth.status_code == 429
    assert list(AccessAttempt.objects.values_list("ip_address", "failures_since_start")) == [
        ("203.0.113.7", 6)  # the refused sixth attempt counts too, and restarts the cool-off
    ]


def test_another_address_is_not_locked_out(client):
    UserFactory(username="rider")
    fail(client, "rider", 5, X_Forwarded_For="203.0.113.7")

    response = log_in(client, "rider", PASSWORD, X_Forwarded_For="198.51.100.1")

    assert (response.status_code, response.url) == (302, "/")


def test_another_username_is_not_locked_out(client):
    UserFactory(username="rider")
    other = UserFactory(username="trainer")
    fail(client, "rider", 5)

    response = log_in(client, "trainer", PASSWORD)

    assert (response.status_code, response.url) == (302, "/")
    assert int(client.session[SESSION_KEY]) == other.pk


def test_a_successful_login_resets_the_count(client):
    UserFactory(username="rider")
    fail(client, "rider", 4)

    logged_in = log_in(client, "rider", PASSWORD)
    client.post("/accounts/logout/")
    after = fail(client, "rider", 4)

    assert (logged_in.status_code, logged_in.url) == (302, "/")
    assert after == [200, 200, 200, 200]
    assert list(AccessAttempt.objects.values_list("failures_since_start", flat=True)) == [4]


def test_the_admin_login_locks_out_too(client, staff_user):
    data = {"username": "staff", "password": "wrong-password", "next": "/admin/"}

    statuses = [client.post("/admin/login/", data).status_code for _ in range(5)]
    right = client.post("/admin/login/", {**data, "password": "a-long-staff-password"})

    assert statuses == [200, 200, 200, 200, 429]
    assert right.status_code == 429
    assert "<h1>Account locked</h1>" in right.content.decode()
    assert SESSION_KEY not in client.session


def test_the_admin_login_still_works(client, staff_user):
    response = client.post(
        "/admin/login/",
        {"username": "staff", "password": "a-long-staff-password", "next": "/admin/"},
    )

    assert (response.status_code, response.url) == (302, "/admin/")


def test_api_token_creation_is_locked_out_too(api_client, member_user):
    wrong = [
        api_client.post(
            "/api/v1/tokens/", HTTP_AUTHORIZATION=basic("member", "wrong-password")
        ).status_code
        for _ in range(5)
    ]
    right = api_client.post(
        "/api/v1/tokens/", HTTP_AUTHORIZATION=basic("member", "a-long-member-password")
    )

    # DRF wraps the request, so AxesMiddleware never sees the flag: the API answers its usual 401.
    assert wrong == [401] * 5
    assert right.status_code == 401
    assert right.json() == {"detail": "Invalid username/password."}
    assert AuthToken.objects.count() == 0
