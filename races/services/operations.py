"""Operations: background work staff asked the API for, recorded from queued to its end.

A task that carries an `operation_id` marks it running when it starts and done or failed when it
ends; `OperationTask`, the base class of those tasks, fails it when the task raises for good
(retries exhausted, a bug, the hard time limit). Every step is a conditional update: an ended
operation is never rewritten, so a redelivered task changes nothing.
"""

from __future__ import annotations

import datetime
from typing import Any

from celery import Task
from celery.exceptions import TimeLimitExceeded
from django.db.models import Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from races.models import Operation

# An operation still queued or running this long after it was asked for has no task left to end
# it: longer than the longest task (a training's hard time limit) and its retries.
OPERATION_STALE_AFTER = datetime.timedelta(hours=6)

_OPEN = [Operation.Status.QUEUED, Operation.Status.RUNNING]


def operation_create(*, kind: str, requested_by: Any, parameters: dict[str, Any]) -> Operation:
    """A queued operation, written before its task is sent."""
    return Operation.objects.create(kind=kind, requested_by=requested_by, parameters=parameters)


def operation_start(*, operation_id: int | None) -> None:
    """Queued -> running; a retry of a running one keeps its first start."""
    if operation_id is None:
        return
    Operation.objects.filter(pk=operation_id, status=Operation.Status.QUEUED).update(
        status=Operation.Status.RUNNING, started_at=timezone.now()
    )


def operation_end(
    *, operation_id: int | None, outcome: dict[str, Any] | None = None, error: str = ""
) -> None:
    """Running (or queued) -> done, or failed when there is an error; an ended one stays."""
    if operation_id is None:
        return
    now = timezone.now()
    Operation.objects.filter(pk=operation_id, status__in=_OPEN).update(
        status=Operation.Status.FAILED if error else Operation.Status.DONE,
        outcome=outcome or {},
        error=error,
        # Never started: refused before its task ran, or failed before it could say so.
        started_at=Coalesce("started_at", Value(now)),
        finished_at=now,
    )


def operations_expire(*, now: datetime.datetime | None = None) -> int:
    """Fail the operations no task will end (see OPERATION_STALE_AFTER), so their poll ends."""
    now = now or timezone.now()
    return Operation.objects.filter(
        status__in=_OPEN, created_at__lt=now - OPERATION_STALE_AFTER
    ).update(
        status=Operation.Status.FAILED,
        error=f"no worker ended this operation within {OPERATION_STALE_AFTER}; it was given up",
        finished_at=now,
    )


class OperationTask(Task):
    """The base of tasks that may carry an `operation_id` keyword: a task that fails for good
    fails its operation with the reason."""

    def on_failure(self, exc, task_id, args, kwargs, einfo) -> None:
        operation_end(operation_id=(kwargs or {}).get("operation_id"), error=failure_reason(exc))
        super().on_failure(exc, task_id, args, kwargs, einfo)


def failure_reason(exc: BaseException) -> str:
    """Why a task failed, in words: the hard time limit's exception holds only the limit."""
    if isinstance(exc, TimeLimitExceeded):
        return f"hard time limit of {exc.args[0]} s exceeded"
    return str(exc) or type(exc).__name__
