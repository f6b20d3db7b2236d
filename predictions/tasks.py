"""Celery tasks: thin wrappers that take ids, call one service and return something small."""

from __future__ import annotations

import dataclasses
import datetime
import logging

from celery import Task, shared_task
from celery.exceptions import TimeLimitExceeded
from django.conf import settings
from django.db import InterfaceError, OperationalError

from .services.enqueue import model_versions_requeue_lost, model_versions_retrain_stale
from .services.refresh import predictions_refresh_races
from .services.versions import model_version_fail, model_version_train_queued

logger = logging.getLogger(__name__)

# Only a lost database connection is worth another try; a bad model or bad data is not.
TRANSIENT = (OperationalError, InterfaceError)
# A refresh takes minutes at most; never longer than the visibility time-out allows (settings).
REFRESH_TIME_LIMIT = min(10 * 60, settings.CELERY_TASK_TIME_LIMIT)


class TrainingTask(Task):
    def on_failure(self, exc, task_id, args, kwargs, einfo) -> None:
        # The hard time limit kills the pool process before the service can record anything;
        # left "training", the sweep would send it again and again.
        if isinstance(exc, TimeLimitExceeded):
            reason = f"hard time limit of {exc.args[0]} s exceeded"
            model_version_fail(version_id=args[0], reason=reason, task_id=task_id)


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
def train_model_task(self: Task, version_id: int, activate: bool = False) -> dict:
    """Train a queued version; a version that is ready or being trained by another task is left
    alone."""
    training = model_version_train_queued(
        version_id=version_id, task_id=self.request.id or "", activate=activate
    )
    return dataclasses.asdict(training)


# Refreshing rewrites the same rows (one upsert per runner and version), so running it again
# after a crash is harmless.
@shared_task(
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=TRANSIENT,
    retry_backoff=10,
    max_retries=3,
    soft_time_limit=REFRESH_TIME_LIMIT * 9 // 10,
    time_limit=REFRESH_TIME_LIMIT,
)
def refresh_predictions_task(race_ids: list[int] | None = None, day: str | None = None) -> dict:
    """Refresh the predictions of the given races, or of a day's races, or of every declared race
    from today on."""
    on_day = None if day is None else datetime.date.fromisoformat(day)
    return predictions_refresh_races(race_ids=race_ids, day=on_day).summary()


@shared_task(soft_time_limit=60, time_limit=120)
def requeue_lost_trainings_task() -> list[int]:
    """The beat's sweep: trainings whose worker died go back to the queue."""

    return model_versions_requeue_lost()


@shared_task(soft_time_limit=60, time_limit=120)
def retrain_models_task() -> list[int]:
    """The weekly retrain: a new version of each active algorithm on every settled race so far,
    activated once it is ready."""

    return model_versions_retrain_stale()
