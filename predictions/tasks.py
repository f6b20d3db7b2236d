"""Celery tasks: thin wrappers that take ids, call one service and return something small."""

from __future__ import annotations

import datetime
import logging

from celery import Task, shared_task
from celery.exceptions import TimeLimitExceeded
from django.conf import settings
from django.db import InterfaceError, OperationalError

from races.models import Race

from . import selectors, services
from .models import ModelVersion

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
            services.model_version_fail(version_id=args[0], reason=reason, task_id=task_id)


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
    if not services.model_version_claim(version_id=version_id, task_id=self.request.id or ""):
        status = ModelVersion.objects.filter(pk=version_id).values_list("status", flat=True)
        return {"version": version_id, "status": status.first(), "trained": False}
    version = ModelVersion.objects.get(pk=version_id)
    services.model_version_train(version=version)
    if activate or version.activate_when_ready:
        services.model_version_activate(version=version)
    return {"version": version_id, "status": version.status, "trained": True}


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
    if race_ids is None:
        if day is not None:
            on_day = datetime.date.fromisoformat(day)
            race_ids = list(Race.objects.filter(meeting_date=on_day).values_list("pk", flat=True))
        else:
            race_ids = selectors.declared_race_ids()
    report = services.predictions_refresh(race_ids=race_ids)
    return {
        "races": report.races,
        "predictions": report.predictions,
        "versions": sorted(report.versions),
        "skipped": report.skipped,
    }


@shared_task(soft_time_limit=60, time_limit=120)
def requeue_lost_trainings_task() -> list[int]:
    """The beat's sweep: trainings whose worker died go back to the queue."""
    return services.model_versions_requeue_lost()


@shared_task(soft_time_limit=60, time_limit=120)
def retrain_models_task() -> list[int]:
    """The weekly retrain: a new version of each active algorithm on every settled race so far,
    activated once it is ready."""
    last_result = selectors.last_settled_day()
    if last_result is None:
        return []
    pending = ModelVersion.objects.filter(
        train_until__gte=last_result,
        status__in=[ModelVersion.Status.QUEUED, ModelVersion.Status.TRAINING],
    ).values_list("algorithm", flat=True)
    stale = ModelVersion.objects.active().filter(train_until__lt=last_result)
    return [
        services.model_version_retrain(version=active, activate=True).pk
        for active in stale.exclude(algorithm__in=list(pending))
    ]
