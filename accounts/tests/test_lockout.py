import datetime

import pytest
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
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
        api_client.post("/api/v1/tokens/", HTTP_AUTHORIZATION=basic("member", "wrong-password"))
        for _ in range(5)
    ]
    right = api_client.post(
        "/api/v1/tokens/", HTTP_AUTHORIZATION=basic("member", "a-long-member-password")
    )

    # As the HTML log-in: the fifth failure locks the account, and the lock-out says so.
    assert [response.status_code for response in wrong] == [401, 401, 401, 401, 429]
    assert right.status_code == 429
    assert right["Retry-After"] == "1800"
    assert right.json() == {
        "detail": "Too many failed log-ins: this account is locked for 30 minutes from where you "
        "are (1800 s). Forgotten your password? Reset it at /accounts/password/reset/."
    }
    assert wrong[3].json() == {"detail": "Invalid username/password."}
    assert AuthToken.objects.count() == 0


def test_a_username_too_long_is_a_form_error_and_not_recorded(client):
    response = log_in(client, "a" * 256, "wrong-password")

    assert response.status_code == 200
    assert response.context["form"].errors == {
        "username": ["Ensure this value has at most 150 characters (it has 256)."]
    }
    assert AccessAttempt.objects.count() == 0
    assert AccessFailureLog.objects.count() == 0


def test_a_username_too_long_is_a_form_error_on_the_admin_log_in_too(client):
    response = client.post(
        "/admin/login/", {"username": "a" * 256, "password": "wrong-password", "next": "/admin/"}
    )

    assert response.status_code == 200
    assert response.context["form"].errors == {
        "username": ["Ensure this value has at most 150 characters (it has 256)."]
    }
    assert AccessAttempt.objects.count() == 0


def test_a_username_too_long_is_refused_by_the_api_and_not_recorded(api_client):
    response = api_client.post(
        "/api/v1/tokens/", HTTP_AUTHORIZATION=basic("a" * 256, "wrong-password")
    )

    assert response.status_code == 401
    assert response.json() == {"detail": "Invalid username: a username has at most 150 characters."}
    assert AccessAttempt.objects.count() == 0
    assert AccessFailureLog.objects.count() == 0
    assert AuthToken.objects.count() == 0


def test_a_username_with_a_nul_is_refused_by_the_api_and_not_recorded(api_client):
    # PostgreSQL cannot store a NUL: axes recording this attempt was a 500 there.
    response = api_client.post(
        "/api/v1/tokens/", HTTP_AUTHORIZATION=basic("ri\x00der", "wrong-password")
    )

    assert response.status_code == 401
    assert response.json() == {"detail": "Invalid username: it contains a NUL character."}
    assert AccessAttempt.objects.count() == 0
    assert AccessFailureLog.objects.count() == 0
    assert AuthToken.objects.count() == 0


def test_a_username_with_a_nul_is_a_form_error_and_not_recorded(client):
    response = log_in(client, "ri\x00der", "wrong-password")

    assert response.status_code == 200
    assert response.context["form"].errors["username"] == ["Null characters are not allowed."]
    assert AccessAttempt.objects.count() == 0


def test_a_forwarded_for_that_is_no_address_does_not_fail_the_log_in(client):
    # given: a proxy in front, and a client that wrote junk where the proxy's entry should be
    UserFactory(username="rider")

    wrong = log_in(client, "rider", "wrong-password", X_Forwarded_For="not-an-address")
    right = log_in(client, "rider", PASSWORD, X_Forwarded_For="not-an-address")

    assert wrong.status_code == 200
    assert (right.status_code, right.url) == (302, "/")
    # The connection's own address stands in.
    assert list(AccessLog.objects.values_list("ip_address", flat=True)) == ["127.0.0.1"]


def test_a_forwarded_for_that_is_no_address_does_not_fail_the_api_either(api_client, member_user):
    response = api_client.post(
        "/api/v1/tokens/",
        HTTP_AUTHORIZATION=basic("member", "a-long-member-password"),
        HTTP_X_FORWARDED_FOR="junk, also junk",
    )

    assert response.status_code == 201
    assert AuthToken.objects.count() == 1


def test_with_no_proxy_in_front_forged_forwarded_for_does_not_dodge_the_lockout(client, settings):
    # given: nothing in front (make run, a container reached directly): every entry is forged
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 0}
    UserFactory(username="rider")

    statuses = [
        log_in(client, "rider", "wrong-password", X_Forwarded_For=f"198.51.100.{n}").status_code
        for n in range(5)
    ]
    sixth = log_in(client, "rider", PASSWORD, X_Forwarded_For="198.51.100.99")

    assert statuses == [200, 200, 200, 200, 429]
    assert sixth.status_code == 429
    assert SESSION_KEY not in client.session
    assert list(AccessAttempt.objects.values_list("ip_address", "failures_since_start")) == [
        ("127.0.0.1", 6)
    ]
