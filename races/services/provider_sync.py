"""Provider syncs: a provider's racecards and results for a day, fetched and stored."""

from __future__ import annotations

import datetime
from functools import partial

from django.db import transaction
from django.utils import timezone

from hrp_site.queueing import QueueingError, task_send, task_send_on_commit
from races.models import ExternalRecord, ProviderSync, Race
from races.providers.base import ProviderTransientError
from races.providers.hkcsv import HkracingFileProvider
from races.providers.registry import (
    ProviderNotConfigured,
    provider_get,
    provider_missing_settings,
    providers_configured,
)
from races.signals import race_cards_changed, race_data_stored

from .jobs import DATABASE_TRANSIENT, job_end, jobs_expire
from .operations import operation_end
from .race_cards import race_cards_store
from .race_results import RESULT_COUNTS, race_results_store

PROVIDER_SOURCES = {
    "theracingapi": ExternalRecord.Source.THERACINGAPI,
    "betfair": ExternalRecord.Source.BETFAIR,
    "hkracing": ExternalRecord.Source.HKRACING,
}


# A provider's 5xx or time-out (after the client's own retries) and a lost database connection
# are worth another try later; a 4xx, bad JSON or bad data is not.
SYNC_TRANSIENT = (ProviderTransientError, *DATABASE_TRANSIENT)
# A sync row still queued or running this long after it was written has no worker left to end
# it (its message was lost, or the worker died and the message with it): longer than the four
# attempts of 10 minutes at most and their back-off (1 + 2 + 4 minutes), plus time in the queue.
SYNC_STALE_AFTER = datetime.timedelta(hours=2)


def provider_sync(
    *, provider: str, day: datetime.date, sync_id: int | None = None, will_retry: bool = False
) -> ProviderSync:
    """Fetch a provider's racecards and results for a day and store them; record the run either
    way.

    The sync row (the queued one `sync_id` names, or a new one) is marked running before any work
    and outside the store's transaction, so every failure is recorded with its error and
    re-raised for the caller or the task's retry. When `will_retry` and the error is transient
    the row stays running, its error saying that another attempt follows; otherwise it ends
    failed. A re-fetch updates rows in place; a runner that left the card is marked a
    non-runner, never deleted. `race_cards_changed` names the stored races after the commit.
    """
    sync = _provider_sync_start(provider=provider, day=day, sync_id=sync_id)
    if sync.status != ProviderSync.Status.RUNNING:
        return sync  # a redelivery of a sync that already ended
    try:
        # Inside the try: a provider unconfigured since the sync was queued fails the row.
        client = provider_get(provider)
        source = PROVIDER_SOURCES[provider]
        if isinstance(client, HkracingFileProvider):
            report = client.file_import()
            counts = {
                f"{name}_{kind}": getattr(counted, kind)
                for name, counted in report.counts.items()
                if name in ("races", "runners")
                for kind in ("created", "updated", "unchanged")
            }
            counts["non_runners_marked"] = 0
            counts |= dict.fromkeys(RESULT_COUNTS, 0)
        else:
            cards = client.racecards(day)
            results = client.results(day)
            with transaction.atomic():
                counts, race_pks = race_cards_store(cards, source=source)
                counts |= race_results_store(results=results, source=source, race_pks=race_pks)
                race_ids = sorted(race_pks.values())
                # Whoever builds on the cards (predictions) hears of them once they are stored.
                transaction.on_commit(
                    partial(race_cards_changed.send, sender=Race, race_ids=race_ids)
                )
                # And whoever tells of declarations and results (accounts' alerts).
                transaction.on_commit(partial(race_data_stored.send, sender=Race))
    except Exception as exc:
        # Any failure is recorded; only the task decides which ones are worth a retry.
        if will_retry and isinstance(exc, SYNC_TRANSIENT):
            sync.error = f"this attempt failed and will be retried: {exc}"
            sync.save(update_fields=["error"])
        else:
            job_end(sync, status=ProviderSync.Status.FAILED, error=str(exc) or type(exc).__name__)
        raise
    job_end(sync, status=ProviderSync.Status.SUCCEEDED, counts=counts)
    return sync


def _provider_sync_start(*, provider: str, day: datetime.date, sync_id: int | None) -> ProviderSync:
    """The sync's row, marked running; an ended row is returned as it is, for an early return."""
    if sync_id is None:
        return ProviderSync.objects.create(provider=provider, day=day)
    with transaction.atomic():
        sync = ProviderSync.objects.select_for_update().get(pk=sync_id)
        if sync.status in (ProviderSync.Status.QUEUED, ProviderSync.Status.RUNNING):
            sync.status = ProviderSync.Status.RUNNING
            sync.started_at = timezone.now()
            sync.save(update_fields=["status", "started_at"])
    return sync


def provider_sync_enqueue(
    *, provider: str, day: datetime.date, operation_id: int | None = None
) -> ProviderSync:
    """Sync a provider's day in the background, after the commit; the task ends the operation
    `operation_id` names, if any.

    Refused up front (`ProviderNotConfigured`, nothing written) when the provider is not
    configured. Otherwise the sync is written "queued" for whoever polls; if the broker cannot
    take the task, the row is failed at once with the reason ("could not be queued: ...") and
    `QueueingError` is raised (see `task_send_on_commit`: from here outside a transaction).
    """
    # Celery's documented pattern: the tasks module imports this one, so the task is imported here.
    from races.tasks import sync_provider_task

    missing = provider_missing_settings(provider)
    if missing:
        raise ProviderNotConfigured(provider, missing)
    sync = provider_sync_create(provider=provider, day=day)

    def fail(exc: QueueingError) -> None:
        _provider_sync_not_queued(sync=sync, reason=str(exc))
        operation_end(operation_id=operation_id, error=str(exc))

    extra = {} if operation_id is None else {"operation_id": operation_id}
    task_send_on_commit(
        sync_provider_task,
        provider=provider,
        day=day.isoformat(),
        sync_id=sync.pk,
        on_error=fail,
        **extra,
    )
    return sync


def provider_syncs_queue() -> list[str]:
    """Fail the syncs no worker will end, then queue today's sync of every configured provider,
    one task each; returns their names."""
    # Celery's documented pattern: the tasks module imports this one, so the task is imported here.
    from races.tasks import sync_provider_task

    provider_syncs_expire()
    names = providers_configured()
    for name in names:
        task_send(sync_provider_task, name)
    return names


def provider_sync_create(*, provider: str, day: datetime.date) -> ProviderSync:
    """A queued sync's row, written before its task is sent."""
    return ProviderSync.objects.create(
        provider=provider, day=day, status=ProviderSync.Status.QUEUED
    )


def _provider_sync_not_queued(*, sync: ProviderSync, reason: str) -> None:
    job_end(sync, status=ProviderSync.Status.FAILED, error=reason)


def provider_syncs_expire(*, now: datetime.datetime | None = None) -> int:
    """Fail the syncs that no worker will end (see SYNC_STALE_AFTER), so their poll ends."""
    return jobs_expire(
        ProviderSync,
        since="started_at",
        stale_after=SYNC_STALE_AFTER,
        error=f"no worker ended this sync within {SYNC_STALE_AFTER}; it was given up",
        now=now,
    )
