"""Token creation is throttled per client address and per username before any password is
checked: a refused attempt costs no password hash and is not an axes attempt."""

import pytest
from axes.models import AccessAttempt
from django.contrib.auth.hashers import MD5PasswordHasher
from knox.models import AuthToken

from hrp_site import throttling

from .clients import basic

pytestmark = pytest.mark.django_db

TOKENS = "/api/v1/tokens/"
# 45 s into a minute and 645 s into an hour of the throttles' fixed windows.
NOW = 1_800_000_645.0


class CountingHasher(MD5PasswordHasher):
    """MD5, counting every hash it computes: a check of a password (verify) or, for a username
    that has no account, Django's hash of it to take as long (encode)."""

    algorithm = "counting_md5"
    hashes = 0

    def encode(self, password, salt):
        CountingHasher.hashes += 1
        return super().encode(password, salt)


@pytest.fixture(autouse=True)
def _token_throttles(settings, monkeypatch, password_hashers):
    password_hashers([f"{__name__}.CountingHasher"])
    monkeypatch.setattr(CountingHasher, "hashes", 0)
    monkeypatch.setattr(
        throttling.RateThrottle,
        "THROTTLE_RATES",
        {"login_address": "10/minute", "login_username": "20/hour"},
    )
    monkeypatch.setattr(throttling.RateThrottle, "timer", staticmethod(lambda: NOW))
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 1}


def create(api_client, username: str, password: str, address: str = "203.0.113.7"):
    return api_client.post(
        TOKENS, HTTP_AUTHORIZATION=basic(username, password), HTTP_X_FORWARDED_FOR=address
    )


def test_the_eleventh_attempt_from_one_address_is_refused_before_any_password_is_checked(
    api_client,
):
    failed = [create(api_client, f"guess-{n}", "wrong-password").status_code for n in range(10)]
    hashes_before = CountingHasher.hashes

    eleventh = create(api_client, "guess-10", "wrong-password")

    assert failed == [401] * 10
    assert hashes_before == 10
    assert eleventh.status_code == 429
    assert eleventh["Retry-After"] == "15"
    assert eleventh.json() == {"detail": "Request was throttled. Expected available in 15 seconds."}
    assert CountingHasher.hashes == 10
    assert AccessAttempt.objects.count() == 10
    assert not AccessAttempt.objects.filter(username="guess-10").exists()


def test_successful_creations_count_too(api_client, member_user):
    created = [
        create(api_client, "member", "a-long-member-password").status_code for _ in range(10)
    ]

    eleventh = create(api_client, "member", "a-long-member-password")

    assert created == [201] * 10
    assert eleventh.status_code == 429
    assert AuthToken.objects.count() == 10


def test_another_address_is_not_refused(api_client):
    for n in range(10):
        create(api_client, f"guess-{n}", "wrong-password")

    other = create(api_client, "guess-10", "wrong-password", address="198.51.100.1")

    assert other.status_code == 401


def test_one_username_from_many_addresses_is_refused_after_twenty_an_hour(api_client, member_user):
    hashes_before = CountingHasher.hashes  # the member's own, when the account was made
    failed = [
        create(api_client, "member", "wrong-password", address=f"198.51.100.{n}").status_code
        for n in range(20)
    ]

    right = create(api_client, "member", "a-long-member-password", address="192.0.2.1")

    assert failed == [401] * 20
    assert right.status_code == 429
    assert right["Retry-After"] == "2955"  # when the hour's window ends
    assert CountingHasher.hashes - hashes_before == 20
    assert AuthToken.objects.count() == 0
    assert not AccessAttempt.objects.filter(ip_address="192.0.2.1").exists()


def test_another_username_is_not_refused(api_client, member_user):
    for n in range(20):
        create(api_client, "someone-else", "wrong-password", address=f"198.51.100.{n}")

    response = create(api_client, "member", "a-long-member-password", address="192.0.2.1")

    assert response.status_code == 201


def test_a_forged_forwarded_for_does_not_dodge_the_address_throttle_with_no_proxy(
    api_client, settings
):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 0}

    codes = [
        create(api_client, f"guess-{n}", "wrong-password", address=f"198.51.100.{n}").status_code
        for n in range(11)
    ]

    assert codes == [401] * 10 + [429]
    assert CountingHasher.hashes == 10
