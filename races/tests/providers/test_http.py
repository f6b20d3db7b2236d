"""The providers' HTTP client against a real local server."""

import base64
import logging

import pytest

from races.providers.base import ProviderError, ProviderTransientError
from races.providers.theracingapi import RACECARDS_PATH, TheRacingApiProvider
from races.tests.providers.recorded import BASIC, DAY, PASSWORD, USERNAME, client_for, scripted


def test_client_retries_a_500_and_returns_the_next_answer(server):
    # given
    server.routes["/cards"] = scripted((500, b"busy"), (200, b'{"ok": true}'))

    # when
    payload = client_for(server).get("/cards", {"day": "2025-12-17"})

    # then
    assert payload == {"ok": True}
    assert [r["path"] for r in server.requests] == ["/cards?day=2025-12-17"] * 2


def test_client_gives_up_after_its_tries_naming_provider_request_status_and_body(server):
    # given
    server.routes["/cards"] = scripted((500, b'{"error": "database is down"}' + b"x" * 500))

    # when
    with pytest.raises(ProviderTransientError) as caught:
        client_for(server, retries=3).get("/cards", {"day": "2025-12-17"})

    # then
    message = str(caught.value)
    assert message == (
        f"testprovider: GET {server.url}/cards?day=2025-12-17 -> HTTP 500: "
        '{"error": "database is down"}' + "x" * 171
    )
    assert len(server.requests) == 3


def test_client_times_out_and_retries(server):
    # given
    server.routes["/slow"] = scripted((1.0, b"{}"))

    # when
    with pytest.raises(ProviderTransientError) as caught:
        client_for(server, timeout=0.2, retries=2).get("/slow")

    # then
    assert str(caught.value) == f"testprovider: GET {server.url}/slow -> no answer within 0.2s"
    assert len(server.requests) == 2


def test_client_rejects_malformed_json_without_retrying(server):
    # given
    server.routes["/cards"] = scripted((200, b'{"racecards": [tru'))

    # when
    with pytest.raises(ProviderError) as caught:
        client_for(server).get("/cards")

    # then
    assert not isinstance(caught.value, ProviderTransientError)
    assert str(caught.value) == (
        f'testprovider: GET {server.url}/cards -> HTTP 200, not JSON: {{"racecards": [tru'
    )
    assert len(server.requests) == 1


def test_401_is_not_retried_and_the_credentials_never_show(racingapi, caplog):
    # given
    provider = TheRacingApiProvider(
        base_url=racingapi.url, username=USERNAME, password="wrong", backoff=0
    )
    caplog.set_level(logging.DEBUG)

    # when
    with pytest.raises(ProviderError) as caught:
        provider.racecards(DAY)

    # then
    assert not isinstance(caught.value, ProviderTransientError)
    assert str(caught.value) == (
        f"theracingapi: GET {racingapi.url}{RACECARDS_PATH}?day=2025-12-17 -> HTTP 401: "
        '{"detail": "Invalid credentials"}'
    )
    assert len(racingapi.requests) == 1
    wrong = base64.b64encode(f"{USERNAME}:wrong".encode()).decode()
    assert racingapi.requests[0]["headers"]["Authorization"] == f"Basic {wrong}"
    for secret in ("wrong", wrong, PASSWORD):
        assert secret not in str(caught.value)
        assert secret not in caplog.text


def test_retries_are_logged_without_the_credentials(server, caplog):
    # given
    server.routes["/cards"] = scripted((503, b"unavailable"), (200, b"{}"))
    caplog.set_level(logging.DEBUG)

    # when
    client_for(server).get("/cards")

    # then
    assert server.requests[1]["headers"]["Authorization"] == BASIC
    assert "HTTP 503: unavailable (try 1 of 3)" in caplog.text
    assert BASIC.split()[1] not in caplog.text
    assert PASSWORD not in caplog.text
