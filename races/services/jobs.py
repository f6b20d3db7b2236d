"""Rows that follow a background job (an upload's import, a provider's sync) to its end."""

from __future__ import annotations

import datetime
from typing import Any

from django.db import InterfaceError, OperationalError, models
from django.utils import timezone

# A lost or refused database connection: worth another attempt of the job later.
DATABASE_TRANSIENT = (OperationalError, InterfaceError)


def job_end(job: models.Model, *, status: str, error: str = "", **outcome: Any) -> None:
    """Record how the job ended, with any other fields of its outcome."""
    job.status = status
    job.error = error
    job.finished_at = timezone.now()
    for name, value in outcome.items():
        setattr(job, name, value)
    job.save(update_fields=["status", "error", "finished_at", *outcome])


def jobs_expire(
    model: type[models.Model],
    *,
    since: str,
    stale_after: datetime.timedelta,
    error: str,
    now: datetime.datetime | None = None,
    **outcome: Any,
) -> int:
    """Fail the jobs still queued or running `stale_after` past their `since` stamp: no worker
    is left to end them. Returns how many."""
    now = now or timezone.now()
    return model.objects.filter(
        status__in=[model.Status.QUEUED, model.Status.RUNNING],
        **{f"{since}__lt": now - stale_after},
    ).update(status=model.Status.FAILED, error=error, finished_at=now, **outcome)
