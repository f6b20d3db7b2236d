"""Celery tasks: thin wrappers that take ids, call one service and return something small."""

from __future__ import annotations

import dataclasses
import datetime
import logging

from celery import Task, shared_task
from celery.exceptions import TimeLimitExceeded
from django.conf import settings
from django.db import InterfaceError, OperationalError

from races.services.operations import (
    OperationTask,
    failure_reason,
    operation_end,
    operation_start,
)

from .models import ModelVersion
from .selectors import model_version_error
from .services.enqueue import model_versions_requeue_lost, model_versions_retrain_stale
from .services.refresh import predictions_refresh_races
from .services.versions import model_version_fail, model_version_train_queued

logger = logging.getLogger(__name__)

# Only a lost database connection is worth another try; a bad model or bad data is not.
TRANSIENT = (OperationalError, InterfaceError)
# A refresh takes minutes at most; never longer than the visibility time-out allows (settings).
REFRESH_TIME_LIMIT = min(10 * 60, settings.CELERY_TASK_TIME_LIMIT)


class TrainingTask(OperationTask):
    def on_failure(self, exc, task_id, args, kwargs, einfo) -> None:
        super().on_failure(exc, task_id, args, kwargs, einfo)
        # The hard time limit kills the pool process before the service can record anything;
        # left "training", the sweep would send it again and again.
        if isinstance(exc, TimeLimitExceeded):
            model_version_fail(version_id=args[0], reason=failure_reason(exc), task_id=task_id)


# A killed worker's training is delivered again (reject_on_worker_lost for the pool process,
# the visibility time-out for the main one) and reclaimed by its own task id.
@shared_task(
    base=TrainingTask,
    bind=True,
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=TRANSIENT,
    retry_backoff=30,
    max_retries=3,
    soft_time_limit=settings.CELERY_TASK_SOFT_TIME_LIMIT,
    time_limit=settings.CELERY_TASK_TIME_LIMIT,
)
def train_model_task(
    self: Task, version_id: int, activate: bool = False, operation_id: int | None = None
) -> dict:
    """Train a queued version; a version that is ready or being trained by another task is left
    alone. The operation that asked for it, if any, ends as the version does."""
    operation_start(operation_id=operation_id)
    training = model_version_train_queued(
        version_id=version_id, task_id=self.request.id or "", activate=activate
    )
    result = dataclasses.asdict(training)
    failed = training.status == ModelVersion.Status.FAILED
    error = model_version_error(version_id=version_id) if failed else ""
    operation_end(operation_id=operation_id, outcome=result, error=error)
    return result


# Refreshing rewrites the same rows (one upsert per runner and version), so running it again
# after a crash is harmless.
@shared_task(
    base=OperationTask,
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=TRANSIENT,
    retry_backoff=10,
    max_retries=3,
    soft_time_limit=REFRESH_TIME_LIMIT * 9 // 10,
    time_limit=REFRESH_TIME_LIMIT,
)
def refresh_predictions_task(
    race_ids: list[int] | None = None, day: str | None = None, operation_id: int | None = None
) -> dict:
    """Refresh the predictions of the given races, or of a day's races, or of every declared race
    from today on."""
    operation_start(operation_id=operation_id)
    on_day = None if day is None else datetime.date.fromisoformat(day)
    summary = predictions_refresh_races(race_ids=race_ids, day=on_day).summary()
    operation_end(operation_id=operation_id, outcome=summary)
    return summary


@shared_task(soft_time_limit=60, time_limit=120)
def requeue_lost_trainings_task() -> list[int]:
    """The beat's sweep: trainings whose worker died go back to the queue."""

    return model_versions_requeue_lost()


@shared_task(soft_time_limit=60, time_limit=120)
def retrain_models_task() -> list[int]:
    """The weekly retrain: a new version of each active algorithm on every settled race so far,
    activated once it is ready."""

    return model_versions_retrain_stale()
