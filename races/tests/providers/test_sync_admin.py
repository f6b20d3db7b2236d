"""Syncs started from the admin and the API."""

import pytest
from django.urls import reverse

from races.models import ProviderSync, Race
from races.tests.providers.recorded import DAY


@pytest.mark.django_db
def test_admin_sync_now_syncs_the_selected_provider_day_again(
    racingapi_settings, staff_client, django_capture_on_commit_callbacks, celery_eager
):
    # given
    failed = ProviderSync.objects.create(
        provider="theracingapi", day=DAY, status=ProviderSync.Status.FAILED, error="HTTP 500"
    )

    # when
    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(
            reverse("admin:races_providersync_changelist"),
            {"action": "sync_now", "_selected_action": [failed.pk]},
        )

    # then
    assert response.status_code == 302
    latest = ProviderSync.objects.exclude(pk=failed.pk).get()
    assert (latest.provider, latest.day, latest.status) == (
        "theracingapi",
        DAY,
        ProviderSync.Status.SUCCEEDED,
    )
    assert Race.objects.count() == 32


@pytest.mark.django_db
def test_provider_sync_changelist_shows_the_syncs(staff_client):
    # given
    ProviderSync.objects.create(
        provider="betfair", day=DAY, status=ProviderSync.Status.FAILED, error="HTTP 401"
    )

    # when
    response = staff_client.get(reverse("admin:races_providersync_changelist"))

    # then
    assert response.status_code == 200
    assert b"HTTP 401" in response.content


@pytest.mark.django_db
def test_admin_sync_now_refuses_a_provider_not_configured(
    settings, staff_client, django_capture_on_commit_callbacks
):
    # given
    settings.HRP_PROVIDERS = []
    failed = ProviderSync.objects.create(
        provider="betfair", day=DAY, status=ProviderSync.Status.FAILED, error="HTTP 401"
    )

    # when
    with django_capture_on_commit_callbacks() as callbacks:
        response = staff_client.post(
            reverse("admin:races_providersync_changelist"),
            {"action": "sync_now", "_selected_action": [failed.pk]},
            follow=True,
        )

    # then
    shown = [(m.level_tag, m.message) for m in response.context["messages"]]
    assert shown == [
        (
            "error",
            "Not queued: provider 'betfair' is not configured: missing HRP_PROVIDERS (add "
            "'betfair'), BETFAIR_URL, BETFAIR_APP_KEY, BETFAIR_SESSION_TOKEN.",
        )
    ]
    assert list(ProviderSync.objects.values_list("pk", flat=True)) == [failed.pk]
    assert callbacks == []


@pytest.mark.django_db(transaction=True)
def test_a_sync_the_broker_cannot_take_is_failed_and_the_api_answers_503(
    racingapi_settings, staff_api, broker_down
):
    # when
    response = staff_api.post("/api/v1/providers/theracingapi/sync/")

    # then
    assert response.status_code == 503
    assert response.json()["detail"].startswith(f"The sync of theracingapi {broker_down}.")
    sync = ProviderSync.objects.get()
    assert sync.status == ProviderSync.Status.FAILED
    assert sync.error.startswith(f"{broker_down}.")


@pytest.mark.django_db(transaction=True)
def test_admin_sync_now_says_when_the_broker_cannot_take_the_sync(
    racingapi_settings, staff_client, broker_down
):
    # given
    failed = ProviderSync.objects.create(
        provider="theracingapi", day=DAY, status=ProviderSync.Status.FAILED, error="HTTP 500"
    )

    # when
    response = staff_client.post(
        reverse("admin:races_providersync_changelist"),
        {"action": "sync_now", "_selected_action": [failed.pk]},
        follow=True,
    )

    # then
    [(level, message)] = [(m.level_tag, m.message) for m in response.context["messages"]]
    assert level == "error"
    assert message.startswith("The sync of theracingapi on 2025-12-17 could not be queued: ")
    latest = ProviderSync.objects.exclude(pk=failed.pk).get()
    assert latest.status == ProviderSync.Status.FAILED
