"""API tokens are checked with one query: the token presented, with its user. Expired tokens are
refused at once and deleted by a daily task and at each log-in, not swept on every request."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from knox.models import AuthToken

from accounts.services import expired_tokens_delete
from accounts.tasks import expired_tokens_delete_task

from .clients import basic
from .factories import UserFactory

HOUR = datetime.timedelta(hours=1)


def _token(user, *, expires_in=HOUR) -> tuple[AuthToken, str]:
    return AuthToken.objects.create(user, expiry=expires_in)


def _token_queries(queries) -> list[str]:
    return [q["sql"] for q in queries if "knox_authtoken" in q["sql"]]


@pytest.mark.django_db
def test_a_request_reads_only_its_own_token(api_client, member_user):
    # given: the member holds a live token and two that expired
    _, live = _token(member_user)
    for _ in range(2):
        _token(member_user, expires_in=-HOUR)
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {live}")

    # when
    with CaptureQueriesContext(connection) as queries:
        response = api_client.get("/api/v1/racecourses/")

    # then: one read of the token table, the user joined in; the expired ones left to the sweep
    assert response.status_code == 200
    reads = _token_queries(queries)
    assert len(reads) == 1, reads
    assert "accounts_user" in reads[0]
    assert AuthToken.objects.filter(user=member_user).count() == 3


@pytest.mark.django_db
def test_an_expired_token_is_refused_and_deleted(api_client, member_user):
    stored, expired = _token(member_user, expires_in=-datetime.timedelta(seconds=1))
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {expired}")

    response = api_client.get("/api/v1/racecourses/")

    assert response.status_code == 401
    assert response.json() == {"detail": "Invalid token."}
    assert not AuthToken.objects.filter(pk=stored.pk).exists()


@pytest.mark.django_db
def test_a_token_of_an_inactive_user_is_refused(api_client):
    user = UserFactory(is_active=False)
    _, token = _token(user)
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {token}")

    response = api_client.get("/api/v1/racecourses/")

    assert response.status_code == 401


@pytest.mark.django_db
def test_the_sweep_deletes_every_expired_token_and_only_those(member_user):
    other = UserFactory()
    live, _ = _token(member_user)
    forever, _ = AuthToken.objects.create(other, expiry=None)
    for user in (member_user, other):
        _token(user, expires_in=-HOUR)

    first = expired_tokens_delete_task.apply().get()
    second = expired_tokens_delete_task.apply().get()

    assert (first, second) == (2, 0)
    assert set(AuthToken.objects.values_list("pk", flat=True)) == {live.pk, forever.pk}


@pytest.mark.django_db
def test_creating_a_token_deletes_the_users_expired_ones(api_client, member_user):
    # given: an expired token of the member's and one of someone else's
    _token(member_user, expires_in=-HOUR)
    other = UserFactory()
    others, _ = _token(other, expires_in=-HOUR)

    # when the member signs in with the password for a new token
    created = api_client.post(
        "/api/v1/tokens/", HTTP_AUTHORIZATION=basic("member", "a-long-member-password")
    )

    # then the member's expired token is gone; the other user's waits for the sweep
    assert created.status_code in (200, 201)
    assert [t.expiry > timezone.now() for t in AuthToken.objects.filter(user=member_user)] == [True]
    assert AuthToken.objects.filter(pk=others.pk).exists()
    assert expired_tokens_delete(user=other) == 1


def test_the_schema_describes_the_token_as_knox_does(client):
    schema = client.get("/api/schema/?format=json").json()

    assert schema["components"]["securitySchemes"]["knoxApiToken"] == {
        "type": "apiKey",
        "in": "header",
        "name": "Authorization",
        "description": 'Token-based authentication with required prefix "Token"',
    }
