import datetime

import pytest
from django.utils import timezone
from knox.crypto import hash_token
from knox.models import AuthToken

from .clients import basic
from .factories import UserFactory


@pytest.fixture
def member_login(member_user):
    return basic("member", "a-long-member-password")


@pytest.mark.django_db
def test_a_token_is_created_used_and_revoked(api_client, member_user, member_login):
    # given a token created with the member's password
    created = api_client.post("/api/v1/tokens/", HTTP_AUTHORIZATION=member_login)
    token = created.json()["token"]

    # when it is used, then revoked
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    used = api_client.get("/api/v1/races/")
    revoked = api_client.post("/api/v1/tokens/revoke/")
    after = api_client.get("/api/v1/races/")

    # then it worked until it was revoked
    assert created.status_code == 201
    assert (used.status_code, revoked.status_code, after.status_code) == (200, 204, 401)
    assert after.json() == {"detail": "Invalid token."}
    assert AuthToken.objects.count() == 0


@pytest.mark.django_db
def test_tokens_are_stored_hashed_and_expire(api_client, member_user, member_login, settings):
    before = timezone.now()

    response = api_client.post("/api/v1/tokens/", HTTP_AUTHORIZATION=member_login)

    token = response.json()["token"]
    stored = AuthToken.objects.get()
    assert stored.user == member_user
    assert stored.digest == hash_token(token)
    assert token not in stored.digest
    assert stored.token_key == token[:15]
    ttl = settings.REST_KNOX["TOKEN_TTL"]
    assert before + ttl <= stored.expiry <= timezone.now() + ttl
    assert datetime.datetime.fromisoformat(response.json()["expiry"]) == stored.expiry


@pytest.mark.django_db
def test_an_expired_token_is_refused(api_client, member_user, member_login):
    token = api_client.post("/api/v1/tokens/", HTTP_AUTHORIZATION=member_login).json()["token"]
    AuthToken.objects.update(expiry=timezone.now() - datetime.timedelta(seconds=1))

    api_client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    response = api_client.get("/api/v1/races/")

    assert response.status_code == 401
    assert AuthToken.objects.count() == 0  # knox deletes the expired token it meets


@pytest.mark.django_db
def test_each_client_has_its_own_token(api_client, member_user, member_login):
    first = api_client.post("/api/v1/tokens/", HTTP_AUTHORIZATION=member_login).json()["token"]
    second = api_client.post("/api/v1/tokens/", HTTP_AUTHORIZATION=member_login).json()["token"]

    api_client.credentials(HTTP_AUTHORIZATION=f"Token {first}")
    api_client.post("/api/v1/tokens/revoke/")
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {second}")
    still = api_client.get("/api/v1/races/")

    assert first != second
    assert still.status_code == 200
    assert AuthToken.objects.get().digest == hash_token(second)


@pytest.mark.django_db
def test_the_browser_session_can_create_a_token(member_api):
    response = member_api.post("/api/v1/tokens/")

    assert response.status_code == 201
    assert AuthToken.objects.get().digest == hash_token(response.json()["token"])


@pytest.mark.django_db
def test_a_wrong_password_creates_no_token(api_client, member_user):
    response = api_client.post(
        "/api/v1/tokens/", HTTP_AUTHORIZATION=basic("member", "not-the-password")
    )

    assert response.status_code == 401
    assert response.json() == {"detail": "Invalid username/password."}
    assert AuthToken.objects.count() == 0


@pytest.mark.django_db
def test_revoking_needs_a_token(api_client):
    response = api_client.post("/api/v1/tokens/revoke/")

    assert response.status_code == 401


@pytest.fixture
def other_user():
    return UserFactory(username="other")


@pytest.mark.django_db
def test_a_member_lists_only_their_own_live_tokens_and_never_a_token(
    api_client, member_user, other_user
):
    # given: two live tokens and an expired one of the member's, and another member's token
    older, older_token = AuthToken.objects.create(user=member_user)
    current, current_token = AuthToken.objects.create(user=member_user)
    AuthToken.objects.create(user=member_user, expiry=-datetime.timedelta(seconds=1))
    AuthToken.objects.create(user=other_user)

    # when
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {current_token}")
    response = api_client.get("/api/v1/tokens/")

    # then
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 2
    assert body["results"] == [
        {
            "digest_prefix": token.digest[:10],
            "created": api_datetime(token.created),
            "expiry": api_datetime(token.expiry),
            "current": token == current,
        }
        for token in (current, older)
    ]
    for token in (older_token, current_token):
        assert token not in response.content.decode()


def api_datetime(value: datetime.datetime) -> str:
    return value.isoformat().replace("+00:00", "Z")


@pytest.mark.django_db
def test_listing_tokens_needs_a_sign_in(api_client):
    response = api_client.get("/api/v1/tokens/")

    assert response.status_code == 401


@pytest.mark.django_db
def test_a_token_cannot_create_another_token(api_client, member_user):
    # given
    _, token = AuthToken.objects.create(user=member_user)

    # when
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    response = api_client.post("/api/v1/tokens/")

    # then
    assert response.status_code == 401
    assert AuthToken.objects.count() == 1


@pytest.mark.django_db
def test_revoke_all_removes_every_token_of_the_caller_and_nobody_elses(
    api_client, member_user, other_user
):
    # given
    _, token = AuthToken.objects.create(user=member_user)
    AuthToken.objects.create(user=member_user)
    others = {AuthToken.objects.create(user=other_user)[0].digest for _ in range(2)}

    # when
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    response = api_client.post("/api/v1/tokens/revoke-all/")
    after = api_client.get("/api/v1/tokens/")

    # then
    assert response.status_code == 204
    assert after.status_code == 401
    assert set(AuthToken.objects.values_list("digest", flat=True)) == others


@pytest.mark.django_db
def test_a_member_revokes_all_tokens_from_the_browser_session(member_api, member_user, other_user):
    # given
    AuthToken.objects.create(user=member_user)
    _, other = AuthToken.objects.create(user=other_user)

    # when
    response = member_api.post("/api/v1/tokens/revoke-all/")

    # then
    assert response.status_code == 204
    assert list(AuthToken.objects.values_list("digest", flat=True)) == [hash_token(other)]


@pytest.mark.django_db
def test_revoke_all_needs_a_sign_in(api_client, member_user):
    # given
    AuthToken.objects.create(user=member_user)

    # when
    response = api_client.post("/api/v1/tokens/revoke-all/")

    # then
    assert response.status_code == 401
    assert AuthToken.objects.count() == 1
