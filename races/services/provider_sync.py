"""Provider syncs: a provider's racecards and results for a day, fetched and stored."""

from __future__ import annotations

import datetime
from functools import partial

from django.db import InterfaceError, OperationalError, transaction
from django.utils import timezone

from hrp_site.queueing import task_send, task_send_on_commit
from races.models import (
    ExternalRecord,
    Horse,
    Jockey,
    ProviderSync,
    Race,
    Racecourse,
    Runner,
    Trainer,
)
from races.providers.base import ProviderTransientError, RaceCard
from races.providers.hkcsv import HkracingFileProvider
from races.providers.registry import (
    ProviderNotConfigured,
    provider_get,
    provider_missing_settings,
    providers_configured,
)
from races.signals import race_cards_changed

from .jobs import job_end, jobs_expire
from .race_results import RESULT_COUNTS, race_results_store
from .upsert import external_id_fit, records_upsert

PROVIDER_SOURCES = {
    "theracingapi": ExternalRecord.Source.THERACINGAPI,
    "betfair": ExternalRecord.Source.BETFAIR,
    "hkracing": ExternalRecord.Source.HKRACING,
}


# A provider's 5xx or time-out (after the client's own retries) and a lost database connection
# are worth another try later; a 4xx, bad JSON or bad data is not.
SYNC_TRANSIENT = (ProviderTransientError, OperationalError, InterfaceError)
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
                counts, race_pks = _cards_store(cards, source=source)
                counts |= race_results_store(results=results, source=source, race_pks=race_pks)
                race_ids = sorted(race_pks.values())
                # Whoever builds on the cards (predictions) hears of them once they are stored.
                transaction.on_commit(
                    partial(race_cards_changed.send, sender=Race, race_ids=race_ids)
                )
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


def provider_sync_enqueue(*, provider: str, day: datetime.date) -> ProviderSync:
    """Sync a provider's day in the background, after the commit.

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
    task_send_on_commit(
        sync_provider_task,
        provider=provider,
        day=day.isoformat(),
        sync_id=sync.pk,
        on_error=lambda exc: _provider_sync_not_queued(sync=sync, reason=str(exc)),
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


def _cards_store(cards: list[RaceCard], *, source: str) -> tuple[dict[str, int], dict[str, int]]:
    courses = {
        external_id_fit(card.course_external_id): {
            "code": card.course_code,
            "name": card.course_name,
            "country": card.course_country,
        }
        for card in cards
    }
    _, course_pks = records_upsert(
        Racecourse, courses, source=source, natural_key=("code", "country")
    )
    runners = [runner for card in cards for runner in card.runners]
    horses = {
        external_id_fit(r.horse_external_id): {
            "name": r.horse_name,
            "country": r.horse_country,
            "sex": r.horse_sex,
        }
        for r in runners
    }
    _, horse_pks = records_upsert(Horse, horses, source=source)
    jockeys = {
        external_id_fit(r.jockey_external_id): {"name": r.jockey_name}
        for r in runners
        if r.jockey_external_id
    }
    _, jockey_pks = records_upsert(Jockey, jockeys, source=source)
    trainers = {
        external_id_fit(r.trainer_external_id): {"name": r.trainer_name}
        for r in runners
        if r.trainer_external_id
    }
    _, trainer_pks = records_upsert(Trainer, trainers, source=source)

    races = {
        external_id_fit(card.external_id): {
            "racecourse_id": course_pks[external_id_fit(card.course_external_id)],
            "meeting_date": card.date,
            "race_number": card.race_number,
            "post_time": card.off_time,
            "name": card.name,
            "distance_m": card.distance_m,
            "surface": card.surface,
            "going": card.going,
            "race_class": card.race_class,
            "rating_band": card.rating_band,
            "prize": card.prize,
            "prize_currency": card.prize_currency,
        }
        for card in cards
    }
    race_counts, race_pks = records_upsert(
        Race, races, source=source, natural_key=("meeting_date", "racecourse_id", "race_number")
    )

    stored = list(
        Runner.objects.filter(race_id__in=race_pks.values()).values(
            "pk", "race_id", "horse_id", "saddle_number"
        )
    )
    stored_numbers = {(r["race_id"], r["horse_id"]): r["saddle_number"] for r in stored}
    rows = {}
    for card in cards:
        race_pk = race_pks[external_id_fit(card.external_id)]
        taken = {r["saddle_number"] for r in stored if r["race_id"] == race_pk}
        taken |= {r.saddle_number for r in card.runners if r.saddle_number}
        for runner in card.runners:
            horse_pk = horse_pks[external_id_fit(runner.horse_external_id)]
            number = runner.saddle_number or stored_numbers.get((race_pk, horse_pk))
            if number is None:
                # A non-runner the card no longer numbers: a number clear of the field's.
                number = max(taken, default=0) + 1
                taken.add(number)
            key = external_id_fit(f"{card.external_id}:{runner.horse_external_id}")
            rows[key] = {
                "race_id": race_pk,
                "horse_id": horse_pk,
                "jockey_id": jockey_pks.get(external_id_fit(runner.jockey_external_id)),
                "trainer_id": trainer_pks.get(external_id_fit(runner.trainer_external_id)),
                "saddle_number": number,
                "draw": runner.draw,
                "carried_weight_lb": runner.weight_lb,
                "rating": runner.rating,
                "age": runner.age,
                "gear": runner.gear,
                "win_odds": runner.win_odds,
                "non_runner": runner.non_runner,
            }
    runner_counts, runner_pks = records_upsert(
        Runner, rows, source=source, natural_key=("race_id", "horse_id")
    )
    gone = (
        Runner.objects.filter(race_id__in=race_pks.values(), non_runner=False)
        .exclude(pk__in=runner_pks.values())
        .update(
            non_runner=True,
            finish_position=None,
            dead_heat=False,
            lengths_behind=None,
            finish_time=None,
            updated_at=timezone.now(),
        )
    )
    counts = {
        "races_created": race_counts.created,
        "races_updated": race_counts.updated,
        "races_unchanged": race_counts.unchanged,
        "runners_created": runner_counts.created,
        "runners_updated": runner_counts.updated,
        "runners_unchanged": runner_counts.unchanged,
        "non_runners_marked": gone,
    }
    return counts, race_pks
