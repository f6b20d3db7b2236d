"""The providers endpoints, over the providers' selector and service when they exist."""

import datetime
import importlib

import pytest
from django.utils import timezone


def _registry():
    try:
        return importlib.import_module("races.providers.registry")
    except ImportError:
        return None


def _needs(module: str, name: str):
    try:
        found = importlib.import_module(module)
    except ImportError:
        found = None
    if not hasattr(found, name) or not hasattr(_registry(), "PROVIDER_NAMES"):
        pytest.skip(f"{module}.{name} does not exist yet")
    return found


@pytest.mark.django_db
@pytest.mark.parametrize("url", ["/api/v1/providers/", "/api/providers"])
def test_members_read_the_providers_status(member_api, monkeypatch, url):
    selectors = _needs("races.selectors", "providers_status")
    status = {"provider": "theracingapi", "configured": False, "last_sync": None}
    monkeypatch.setattr(selectors, "providers_status", lambda: [status])

    response = member_api.get(url)

    assert response.status_code == 200
    assert response.json() == [status]


@pytest.mark.django_db
@pytest.mark.parametrize("url", ["/api/v1/providers/", "/api/providers"])
def test_anonymous_clients_see_the_status_without_counts_or_errors(api_client, monkeypatch, url):
    selectors = _needs("races.selectors", "providers_status")
    last_sync = {
        "day": "2025-12-17",
        "status": "failed",
        "started_at": "2025-12-17T10:00:00Z",
        "finished_at": "2025-12-17T10:00:05Z",
        "counts": {},
        "error": "theracingapi: GET http://example/v1/racecards -> HTTP 500: boom",
    }
    status = {"provider": "theracingapi", "configured": True, "last_sync": last_sync}
    monkeypatch.setattr(selectors, "providers_status", lambda: [status])

    response = api_client.get(url)

    assert response.status_code == 200
    public = {k: v for k, v in last_sync.items() if k not in ("counts", "error")}
    assert response.json() == [{**status, "last_sync": public}]


@pytest.mark.django_db
def test_staff_sync_answers_202_with_what_to_poll(staff_api, monkeypatch):
    services = _needs("races.services", "provider_sync_enqueue")
    calls = []
    monkeypatch.setattr(services, "provider_sync_enqueue", lambda **kw: calls.append(kw))

    response = staff_api.post(
        "/api/v1/providers/theracingapi/sync/", {"day": "2024-03-02"}, format="json"
    )

    assert response.status_code == 202
    assert response.json() == {"status": "queued", "poll": "/api/v1/providers/"}
    assert calls == [{"provider": "theracingapi", "day": datetime.date(2024, 3, 2)}]


@pytest.mark.django_db
def test_members_cannot_sync(member_api, monkeypatch):
    services = _needs("races.services", "provider_sync_enqueue")
    calls = []
    monkeypatch.setattr(services, "provider_sync_enqueue", lambda **kw: calls.append(kw))

    response = member_api.post("/api/v1/providers/theracingapi/sync/")

    assert response.status_code == 403
    assert calls == []


@pytest.mark.django_db
def test_a_sync_for_a_bad_day_is_400(staff_api, monkeypatch):
    services = _needs("races.services", "provider_sync_enqueue")
    calls = []
    monkeypatch.setattr(services, "provider_sync_enqueue", lambda **kw: calls.append(kw))

    response = staff_api.post("/api/v1/providers/theracingapi/sync/", {"day": "x"}, format="json")

    assert response.status_code == 400
    assert response.json() == {
        "day": ["Date has wrong format. Use one of these formats instead: YYYY-MM-DD."]
    }
    assert calls == []


@pytest.mark.django_db
def test_a_sync_of_an_unknown_provider_is_404(staff_api, monkeypatch):
    services = _needs("races.services", "provider_sync_enqueue")
    calls = []
    monkeypatch.setattr(services, "provider_sync_enqueue", lambda **kw: calls.append(kw))

    response = staff_api.post("/api/v1/providers/nobody/sync/")

    assert response.status_code == 404
    assert response.json()["detail"].startswith("No provider 'nobody'; known: ")
    assert calls == []


@pytest.mark.django_db
def test_a_sync_without_a_day_syncs_today(staff_api, monkeypatch):
    services = _needs("races.services", "provider_sync_enqueue")
    calls = []
    monkeypatch.setattr(services, "provider_sync_enqueue", lambda **kw: calls.append(kw))

    response = staff_api.post("/api/v1/providers/theracingapi/sync/")

    assert response.status_code == 202
    assert calls == [{"provider": "theracingapi", "day": timezone.localdate()}]
