"""Every sync ends: refused up front, or recorded as failed however it fails; its task retries
only transient errors."""

import datetime

import pytest
from django.utils import timezone

from hrp_site.testing.sent import record_sent_tasks
from races.models import ProviderSync
from races.providers.base import ProviderError, ProviderTransientError
from races.providers.theracingapi import RACECARDS_PATH
from races.services.provider_sync import provider_sync, provider_sync_create, provider_sync_enqueue
from races.tasks import sync_provider_task, sync_providers_task
from races.tests.providers.recorded import DAY, EMPTY_DAY, NO_RESULTS, scripted


def _task_run(queued):
    """The worker's run of a queued sync of The Racing API's DAY, retries included."""
    return sync_provider_task.apply(
        kwargs={"provider": "theracingapi", "day": DAY.isoformat(), "sync_id": queued.pk},
        throw=False,
    )


@pytest.mark.django_db
def test_sync_provider_task_syncs_a_day_and_returns_its_counts(racingapi_settings):
    # when
    result = sync_provider_task.apply(args=("theracingapi", "2025-12-18")).get()

    # then
    sync = ProviderSync.objects.get()
    assert result == {
        "sync": sync.pk,
        "provider": "theracingapi",
        "day": "2025-12-18",
        "races_created": 0,
        "races_updated": 0,
        "races_unchanged": 0,
        "runners_created": 0,
        "runners_updated": 0,
        "runners_unchanged": 0,
        "non_runners_marked": 0,
        **NO_RESULTS,
    }


@pytest.mark.django_db
def test_a_provider_unconfigured_between_enqueue_and_run_fails_its_row(
    racingapi_settings, racingapi, django_capture_on_commit_callbacks, monkeypatch
):
    # given: a sync queued while the provider was configured
    sent = record_sent_tasks(monkeypatch, sync_provider_task)
    with django_capture_on_commit_callbacks(execute=True):
        queued = provider_sync_enqueue(provider="theracingapi", day=DAY)
    racingapi_settings.THERACINGAPI_PASSWORD = ""

    # when: the worker runs it
    _task_run(queued)

    # then
    sync = ProviderSync.objects.get()
    assert (sync.pk, sync.status, sync.error) == (
        queued.pk,
        ProviderSync.Status.FAILED,
        "provider 'theracingapi' is not configured: missing THERACINGAPI_PASSWORD",
    )
    assert sync.finished_at is not None
    assert sent == [
        (
            sync_provider_task.name,
            (),
            {"provider": "theracingapi", "day": DAY.isoformat(), "sync_id": sync.pk},
        )
    ]
    assert racingapi.requests == []


@pytest.mark.django_db
def test_bad_data_fails_the_sync_at_once_without_a_retry(racingapi_settings, racingapi):
    # given: a provider answering with something that is not JSON
    racingapi.routes[RACECARDS_PATH] = scripted((200, b"<html>maintenance</html>"))
    queued = provider_sync_create(provider="theracingapi", day=DAY)

    # when
    result = _task_run(queued)

    # then: one attempt, and the row failed with the error
    assert isinstance(result.result, ProviderError)
    assert len(racingapi.requests) == 1
    sync = ProviderSync.objects.get()
    assert (sync.pk, sync.status) == (queued.pk, ProviderSync.Status.FAILED)
    assert sync.error.startswith(f"theracingapi: GET {racingapi.url}{RACECARDS_PATH}?day=")


@pytest.mark.django_db
def test_a_transient_error_keeps_the_sync_running_and_says_it_will_be_retried(
    racingapi_settings, racingapi
):
    # given
    racingapi.routes[RACECARDS_PATH] = scripted((503, b"busy"))
    queued = provider_sync_create(provider="theracingapi", day=DAY)

    # when: an attempt that is not the last one
    with pytest.raises(ProviderTransientError):
        provider_sync(provider="theracingapi", day=DAY, sync_id=queued.pk, will_retry=True)

    # then: still running for the poll, with the reason
    sync = ProviderSync.objects.get()
    assert (sync.status, sync.finished_at) == (ProviderSync.Status.RUNNING, None)
    assert sync.error == (
        "this attempt failed and will be retried: "
        f"theracingapi: GET {racingapi.url}{RACECARDS_PATH}?day=2025-12-17 -> HTTP 503: busy"
    )


@pytest.mark.django_db
def test_transient_errors_fail_the_same_row_once_the_retries_are_exhausted(
    racingapi_settings, racingapi, eager_retries
):
    # given: a provider that stays down
    racingapi.routes[RACECARDS_PATH] = scripted((503, b"busy"))
    queued = provider_sync_create(provider="theracingapi", day=DAY)

    # when: the task and its retries (run in turn, eagerly)
    result = _task_run(queued)

    # then: four attempts on one row, which ends failed
    assert isinstance(result.result, ProviderTransientError)
    assert len(racingapi.requests) == 1 + sync_provider_task.max_retries
    sync = ProviderSync.objects.get()
    assert (sync.pk, sync.status) == (queued.pk, ProviderSync.Status.FAILED)
    assert sync.error.endswith("-> HTTP 503: busy")
    assert not sync.error.startswith("this attempt failed")


@pytest.mark.django_db
def test_a_retry_that_succeeds_ends_the_same_row_succeeded(
    racingapi_settings, racingapi, shared_data_dir, eager_retries
):
    # given: one 503, then the recorded day
    recorded = (shared_data_dir / "theracingapi" / "racecards_2025-12-17.json").read_bytes()
    racingapi.routes[RACECARDS_PATH] = scripted((503, b"busy"), (200, recorded))
    queued = provider_sync_create(provider="theracingapi", day=DAY)

    # when
    result = _task_run(queued)

    # then
    assert result.result["sync"] == queued.pk
    sync = ProviderSync.objects.get()
    assert (sync.status, sync.error, sync.counts["races_created"]) == (
        ProviderSync.Status.SUCCEEDED,
        "",
        32,
    )


@pytest.mark.django_db
def test_a_redelivered_sync_that_ended_does_nothing(racingapi_settings, racingapi):
    # given
    sync = provider_sync(provider="theracingapi", day=EMPTY_DAY)
    requests = len(racingapi.requests)

    # when
    again = provider_sync(provider="theracingapi", day=EMPTY_DAY, sync_id=sync.pk)

    # then
    assert (again.pk, again.status) == (sync.pk, ProviderSync.Status.SUCCEEDED)
    assert len(racingapi.requests) == requests
    assert ProviderSync.objects.count() == 1


@pytest.mark.django_db
def test_syncs_no_worker_will_end_are_failed_by_the_beat(settings):
    # given: a sync queued three hours ago and never run, and a fresh one
    settings.HRP_PROVIDERS = []
    old = provider_sync_create(provider="betfair", day=DAY)
    ProviderSync.objects.filter(pk=old.pk).update(
        started_at=timezone.now() - datetime.timedelta(hours=3)
    )
    fresh = provider_sync_create(provider="betfair", day=DAY)

    # when
    sync_providers_task.apply()

    # then
    old.refresh_from_db()
    fresh.refresh_from_db()
    assert (old.status, old.error) == (
        ProviderSync.Status.FAILED,
        "no worker ended this sync within 2:00:00; it was given up",
    )
    assert fresh.status == ProviderSync.Status.QUEUED
