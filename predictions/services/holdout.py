"""Held-out versions: trained before a recent window, scored on it, predicting it walk-forward."""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass

from races.models import Race

from .. import selectors
from ..models import ModelVersion, Prediction
from .base import PredictionError, Progress, quiet
from .evaluation import model_version_evaluate
from .refresh import RefreshReport, predictions_refresh_range
from .versions import model_version_get_or_train


@dataclass
class Holdout:
    versions: list[ModelVersion]
    date_from: datetime.date
    date_to: datetime.date
    refresh: RefreshReport


def model_versions_holdout_ensure(
    *,
    algorithms_to_use: Iterable[str],
    train_until: datetime.date,
    date_to: datetime.date,
    progress: Progress = quiet,
) -> Holdout:
    """For each algorithm, a version trained on results up to `train_until`, evaluated on the
    settled races after it up to `date_to`, and those races' walk-forward predictions.

    Versions are reused like the backtest's, a stored evaluation of the same window is kept and
    only race days lacking a walk-forward version's predictions are refreshed, so calling it
    again trains, evaluates and predicts nothing.
    """
    date_from = train_until + datetime.timedelta(days=1)
    if date_to < date_from:
        raise PredictionError(f"the held-out window ends ({date_to}) before it starts")
    window = f"{date_from}..{date_to}"
    versions = []
    for algorithm in algorithms_to_use:
        version = model_version_get_or_train(
            algorithm=algorithm, train_until=train_until, progress=progress
        )
        if window not in version.metrics.get("evaluations", {}):
            progress(f"evaluating {version} on held-out races {date_from} to {date_to}")
            model_version_evaluate(version=version, date_from=date_from, date_to=date_to)
        versions.append(version)
    names = [version.algorithm for version in versions]
    missing = _days_without_predictions(
        date_from=date_from, date_to=date_to, algorithms_to_use=names
    )
    refresh = RefreshReport()
    if missing:
        refresh = predictions_refresh_range(
            date_from=min(missing), date_to=max(missing), algorithms_to_use=names
        )
    return Holdout(versions=versions, date_from=date_from, date_to=date_to, refresh=refresh)


def _days_without_predictions(
    *, date_from: datetime.date, date_to: datetime.date, algorithms_to_use: list[str]
) -> list[datetime.date]:
    """Race days in the window lacking the predictions of a version a refresh would use."""
    races = Race.objects.filter(meeting_date__range=(date_from, date_to)).exclude(
        status=Race.Status.ABANDONED
    )
    stored = set(
        Prediction.objects.filter(runner__race__in=races)
        .values_list("runner__race__meeting_date", "model_version_id")
        .distinct()
    )
    missing = []
    for day in sorted(set(races.values_list("meeting_date", flat=True))):
        for name in algorithms_to_use:
            version = selectors.model_version_for_day(algorithm=name, day=day)
            if version is not None and (day, version.pk) not in stored:
                missing.append(day)
                break
    return missing
