"""Celery tasks: thin wrappers that call one service and return something small."""

from __future__ import annotations

import datetime

from celery import shared_task
from django.utils import timezone

from .services.hkracing_uploads import (
    HKRACING_UPLOAD_MAX_ATTEMPTS,
    UPLOAD_TRANSIENT,
    hkracing_upload_import,
    hkracing_uploads_expire,
)
from .services.operations import (
    OperationTask,
    operation_end,
    operation_start,
    operations_expire,
)
from .services.provider_sync import (
    SYNC_TRANSIENT,
    provider_sync,
    provider_sync_create,
    provider_syncs_queue,
)

SYNC_RETRY_BACKOFF = 60  # seconds before the first retry; doubled for each one after


@shared_task(
    base=OperationTask,
    bind=True,
    acks_late=True,
    ignore_result=True,
    max_retries=3,
    soft_time_limit=9 * 60,
    time_limit=10 * 60,
)
def sync_provider_task(
    self,
    provider: str,
    day: str | None = None,
    sync_id: int | None = None,
    operation_id: int | None = None,
) -> dict:
    """Sync a provider's racecards for a day (default: today). Re-runs update rows in place.

    Transient errors (SYNC_TRANSIENT) are retried on the same sync row, which stays
    running until the last attempt; so the row ends within SYNC_STALE_AFTER whatever happens.
    """
    on_day = datetime.date.fromisoformat(day) if day else timezone.localdate()
    if sync_id is None:  # the beat's syncs and messages sent before syncs were queued as rows
        sync_id = provider_sync_create(provider=provider, day=on_day).pk
    operation_start(operation_id=operation_id)
    will_retry = self.request.retries < self.max_retries
    try:
        sync = provider_sync(provider=provider, day=on_day, sync_id=sync_id, will_retry=will_retry)
    except SYNC_TRANSIENT as exc:
        if not will_retry:
            raise
        raise self.retry(
            exc=exc,
            args=(),
            kwargs={
                "provider": provider,
                "day": on_day.isoformat(),
                "sync_id": sync_id,
                "operation_id": operation_id,
            },
            countdown=SYNC_RETRY_BACKOFF * 2**self.request.retries,
        ) from exc
    result = {"sync": sync.pk, "provider": provider, "day": on_day.isoformat(), **sync.counts}
    # A redelivery of a sync that had failed returns its row as it was.
    error = sync.error if sync.status == sync.Status.FAILED else ""
    operation_end(operation_id=operation_id, outcome=result, error=error)
    return result


@shared_task(soft_time_limit=60, time_limit=90)
def sync_providers_task() -> list[str]:
    """The beat's entry: fail the syncs no worker will end, then queue today's sync of every
    configured provider, one task each."""
    return provider_syncs_queue()


UPLOAD_RETRY_BACKOFF = 30  # seconds before retrying an import after a database blip


@shared_task(
    bind=True,
    acks_late=True,
    # Handed back when its worker dies: the job's lock tells a live import from a lost one.
    reject_on_worker_lost=True,
    ignore_result=True,
    max_retries=HKRACING_UPLOAD_MAX_ATTEMPTS - 1,
    soft_time_limit=9 * 60,
    time_limit=10 * 60,
)
def import_hkracing_upload_task(self, upload_id: int) -> dict:
    """Import a staff upload of the Hong Kong pair; a redelivery of a finished job does nothing."""
    will_retry = self.request.retries < self.max_retries
    try:
        upload = hkracing_upload_import(upload_id=upload_id, will_retry=will_retry)
    except UPLOAD_TRANSIENT as exc:
        if not will_retry:
            raise
        raise self.retry(exc=exc, countdown=UPLOAD_RETRY_BACKOFF) from exc
    return {"upload": upload.pk, "status": upload.status}


@shared_task(soft_time_limit=60, time_limit=90)
def expire_hkracing_uploads_task() -> int:
    """The beat's entry: fail the uploads no worker will end, so their page says so."""
    return hkracing_uploads_expire()


@shared_task(soft_time_limit=60, time_limit=90)
def expire_operations_task() -> int:
    """The beat's entry: fail the operations no task will end, so their poll ends."""
    return operations_expire()
