"""Celery tasks: thin wrappers that call one service and return something small."""

from __future__ import annotations

import datetime

from celery import shared_task
from django.db import InterfaceError, OperationalError
from django.utils import timezone

from . import services
from .providers.base import ProviderTransientError
from .providers.registry import providers_configured

# A provider's 5xx or time-out (after the client's own retries) and a lost database connection
# are worth another try later; a 4xx, bad JSON or bad data is not.
TRANSIENT = (ProviderTransientError, OperationalError, InterfaceError)


@shared_task(
    acks_late=True,
    autoretry_for=TRANSIENT,
    retry_backoff=60,
    max_retries=3,
    soft_time_limit=9 * 60,
    time_limit=10 * 60,
)
def sync_provider_task(provider: str, day: str | None = None) -> dict:
    """Sync a provider's racecards for a day (default: today). Re-runs update rows in place."""
    on_day = datetime.date.fromisoformat(day) if day else timezone.localdate()
    sync = services.provider_sync(provider=provider, day=on_day)
    return {"sync": sync.pk, "provider": provider, "day": on_day.isoformat(), **sync.counts}


@shared_task(soft_time_limit=60, time_limit=90)
def sync_providers_task() -> list[str]:
    """The beat's entry: queue today's sync of every configured provider, one task each."""
    names = providers_configured()
    for name in names:
        sync_provider_task.delay(name)
    return names
