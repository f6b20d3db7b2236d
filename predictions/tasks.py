"""Celery tasks: thin wrappers that take ids, call one service and return something small."""

from __future__ import annotations

import datetime
import logging

from celery import shared_task
from django.db import InterfaceError, OperationalError

from races.models import Race

from . import selectors, services
from .models import ModelVersion

logger = logging.getLogger(__name__)

# Only a lost database connection is worth another try; a bad model or bad data is not.
TRANSIENT = (OperationalError, InterfaceError)


@shared_task(
    acks_late=True,
    autoretry_for=TRANSIENT,
    retry_backoff=30,
    max_retries=3,
    soft_time_limit=55 * 60,
    time_limit=60 * 60,
)
def train_model_task(version_id: int, activate: bool = False) -> dict:
    """Train a queued version; a version that is ready or being trained is left alone."""
    if not services.model_version_claim(version_id=version_id):
        status = ModelVersion.objects.filter(pk=version_id).values_list("status", flat=True)
        return {"version": version_id, "status": status.first(), "trained": False}
    version = ModelVersion.objects.get(pk=version_id)
    services.model_version_train(version=version)
    if activate:
        services.model_version_activate(version=version)
    return {"version": version_id, "status": version.status, "trained": True}


@shared_task(
    acks_late=True,
    autoretry_for=TRANSIENT,
    retry_backoff=10,
    max_retries=3,
    soft_time_limit=9 * 60,
    time_limit=10 * 60,
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
