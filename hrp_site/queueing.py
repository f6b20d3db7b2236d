"""Handing tasks to the broker, so that whoever asked learns at once when it could not be done.

Celery's own `delay()` retries a publish for as long as its policy says and raises whatever the
transport raised; a caller then either hangs or answers 500 and leaves behind rows that wait for
a task that was never sent. Every enqueue goes through here instead: a publish is bounded by the
retry policy and socket time-outs in settings (`# Celery`), and a failure is one exception,
`QueueingError`, after the caller's own clean-up ran.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from celery import Task
from django.db import transaction
from kombu.exceptions import OperationalError as BrokerError

logger = logging.getLogger(__name__)


class QueueingError(Exception):
    """The broker did not take a task (Redis down, unreachable or hanging)."""


def task_send(task: Task, *args: Any, **kwargs: Any) -> str:
    """Publish the task now and return its id, or raise `QueueingError`."""
    try:
        return task.apply_async(args=args, kwargs=kwargs).id
    except BrokerError as exc:
        logger.error("%s could not be queued: %s", task.name, exc)
        # Without its full stop, so that callers can end their own sentence.
        raise QueueingError(f"could not be queued: {str(exc).rstrip('.')}") from exc


def task_send_on_commit(
    task: Task,
    *args: Any,
    on_error: Callable[[QueueingError], None] | None = None,
    **kwargs: Any,
) -> None:
    """Publish the task once the current transaction commits (at once outside one).

    If the broker does not take it, `on_error` runs first (to mark the rows that wait for the task
    as failed), then `QueueingError` is raised where the commit happened: from this call outside a
    transaction, else where the outermost `atomic` block exits.
    """

    def send() -> None:
        try:
            task_send(task, *args, **kwargs)
        except QueueingError as exc:
            if on_error is not None:
                on_error(exc)
            raise

    transaction.on_commit(send)
