"""The providers endpoints: each provider's status, and a sync asked for by staff."""

import datetime

import pytest
from django.utils import timezone

from hrp_site.testing.sent import record_sent_tasks
from races.models import Operation, ProviderSync
from races.tasks import sync_provider_task

NOT_CONFIGURED = [
    {"provider": name, "configured": False, "last_sync": None}
    for name in ("theracingapi", "betfair", "hkracing")
]


@pytest.fixture
def failed_sync(racingapi_configured):
    return ProviderSync.objects.create(
        provider="theracingapi",
        day=datetime.date(2025, 12, 17),
        status=ProviderSync.Status.FAILED,
        started_at=datetime.datetime(2025, 12, 17, 10, 0, 0, tzinfo=datetime.UTC),
        finished_at=datetime.datetime(2025, 12, 17, 10, 0, 5, tzinfo=datetime.UTC),
        counts={"races_created": 1},
        error="theracingapi: GET http://example/v1/racecards -> HTTP 500: boom",
    )


LAST_SYNC = {
    "day": "2025-12-17",
    "status": "failed",
    "started_at": "2025-12-17T10:00:00Z",
    "finished_at": "2025-12-17T10:00:05Z",
}


@pytest.mark.django_db
@pytest.mark.parametrize("url", ["/api/v1/providers/", "/api/providers"])
def test_members_read_the_providers_status(member_api, url):
    response = member_api.get(url)

    assert response.status_code == 200
    assert response.json() == NOT_CONFIGURED


@pytest.mark.django_db
@pytest.mark.parametrize("url", ["/api/v1/providers/", "/api/providers"])
def test_members_read_the_counts_and_error_of_the_last_sync(member_api, failed_sync, url):
    response = member_api.get(url)

    assert response.status_code == 200
    assert response.json()[0] == {
        "provider": "theracingapi",
        "configured": True,
        "last_sync": {**LAST_SYNC, "counts": failed_sync.counts, "error": failed_sync.error},
    }


@pytest.mark.django_db
@pytest.mark.parametrize("url", ["/api/v1/providers/", "/api/providers"])
def test_anonymous_clients_see_the_status_without_counts_or_errors(api_client, failed_sync, url):
    response = api_client.get(url)

    assert response.status_code == 200
    assert response.json() == [
        {"provider": "theracingapi", "configured": True, "last_sync": LAST_SYNC},
        *NOT_CONFIGURED[1:],
    ]


@pytest.fixture
def racingapi_configured(settings):
    # Nothing listens there: these tests stop at the queue.
    settings.HRP_PROVIDERS = ["theracingapi"]
    settings.THERACINGAPI_URL = "http://127.0.0.1:9"
    settings.THERACINGAPI_USERNAME = "user"
    settings.THERACINGAPI_PASSWORD = "password"
    return settings


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("data", "day"),
    [({"day": "2024-03-02"}, datetime.date(2024, 3, 2)), ({}, None)],
    ids=["a-day", "today"],
)
def test_staff_sync_answers_202_with_what_to_poll(
    staff_api, racingapi_configured, django_capture_on_commit_callbacks, monkeypatch, data, day
):
    sent = record_sent_tasks(monkeypatch, sync_provider_task)

    # when
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = staff_api.post("/api/v1/providers/theracingapi/sync/", data, format="json")

    # then: a queued row for the poll (for today without a day), its task sent after the commit
    operation = Operation.objects.get()
    assert response.status_code == 202
    poll = f"http://testserver/api/v1/operations/{operation.pk}/"
    assert (response.json()["status"], response.json()["poll"], response["Location"]) == (
        "queued",
        poll,
        poll,
    )
    sync = ProviderSync.objects.get()
    assert (operation.kind, operation.parameters) == (
        "provider_sync",
        {"provider": "theracingapi", "day": sync.day.isoformat()},
    )
    assert (sync.provider, sync.day, sync.status) == (
        "theracingapi",
        day or timezone.localdate(),
        ProviderSync.Status.QUEUED,
    )
    assert len(callbacks) == 1  # sent from the commit's callback, not before
    assert sent == [
        (
            sync_provider_task.name,
            (),
            {
                "provider": "theracingapi",
                "day": sync.day.isoformat(),
                "sync_id": sync.pk,
                "operation_id": operation.pk,
            },
        )
    ]
    providers = staff_api.get("/api/v1/providers/").json()
    assert providers[0]["last_sync"]["status"] == "queued"


@pytest.mark.django_db
def test_members_cannot_sync(member_api, racingapi_configured, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        response = member_api.post("/api/v1/providers/theracingapi/sync/")

    assert response.status_code == 403
    assert (ProviderSync.objects.count(), Operation.objects.count(), len(callbacks)) == (0, 0, 0)


@pytest.mark.django_db
def test_a_sync_for_a_bad_day_is_400(
    staff_api, racingapi_configured, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as callbacks:
        response = staff_api.post(
            "/api/v1/providers/theracingapi/sync/", {"day": "x"}, format="json"
        )

    assert response.status_code == 400
    assert response.json() == {
        "day": ["Date has wrong format. Use one of these formats instead: YYYY-MM-DD."]
    }
    assert (ProviderSync.objects.count(), len(callbacks)) == (0, 0)


@pytest.mark.django_db
def test_a_sync_of_an_unknown_provider_is_404(staff_api, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        response = staff_api.post("/api/v1/providers/nobody/sync/")

    assert response.status_code == 404
    assert response.json()["detail"].startswith("No provider 'nobody'; known: ")
    assert (ProviderSync.objects.count(), len(callbacks)) == (0, 0)


@pytest.mark.django_db
def test_a_sync_of_a_provider_not_configured_is_400_naming_what_is_missing(
    staff_api, settings, django_capture_on_commit_callbacks
):
    # given: betfair enabled but without its credentials
    settings.HRP_PROVIDERS = ["betfair"]
    settings.BETFAIR_URL = "http://127.0.0.1:9"
    settings.BETFAIR_APP_KEY = ""
    settings.BETFAIR_SESSION_TOKEN = ""

    # when
    with django_capture_on_commit_callbacks() as callbacks:
        response = staff_api.post("/api/v1/providers/betfair/sync/")

    # then: refused, nothing written, nothing sent
    assert response.status_code == 400
    assert response.json() == {
        "detail": "provider 'betfair' is not configured: missing BETFAIR_APP_KEY, "
        "BETFAIR_SESSION_TOKEN",
        "provider": "betfair",
        "missing": ["BETFAIR_APP_KEY", "BETFAIR_SESSION_TOKEN"],
    }
    assert (ProviderSync.objects.count(), len(callbacks)) == (0, 0)


@pytest.mark.django_db
def test_a_sync_of_a_provider_not_enabled_says_to_add_it_to_hrp_providers(
    staff_api, settings, django_capture_on_commit_callbacks
):
    # given: the default deployment, which enables no provider
    settings.HRP_PROVIDERS = []
    settings.THERACINGAPI_USERNAME = ""
    settings.THERACINGAPI_PASSWORD = ""

    # when
    with django_capture_on_commit_callbacks() as callbacks:
        response = staff_api.post("/api/v1/providers/theracingapi/sync/")

    # then
    assert response.status_code == 400
    assert response.json()["missing"] == [
        "HRP_PROVIDERS (add 'theracingapi')",
        "THERACINGAPI_USERNAME",
        "THERACINGAPI_PASSWORD",
    ]
    assert (ProviderSync.objects.count(), len(callbacks)) == (0, 0)
