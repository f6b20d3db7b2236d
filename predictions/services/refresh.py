"""The stored predictions of races: each algorithm's walk-forward version scores the starters."""

from __future__ import annotations

import datetime
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from django.db import transaction
from django.utils import timezone

from races.models import Race
from races.place_terms import race_place_terms

from .. import selectors
from ..ml import algorithms, features, probability
from ..models import ModelVersion, Prediction
from .artifacts import ArtifactError, model_version_load
from .base import PredictionError, Progress, quiet
from .cache import race_predictions_invalidate

logger = logging.getLogger(__name__)

EXPLANATION_SIZE = 5
# What a refresh writes again on a stored prediction: every column but its key and its birth.
REFRESHED_FIELDS = [
    f.name
    for f in Prediction._meta.concrete_fields
    if f.name not in ("id", "runner", "model_version", "created_at")
]


@dataclass
class RefreshReport:
    races: int = 0
    predictions: int = 0
    versions: set[int] = field(default_factory=set)
    skipped: list[str] = field(default_factory=list)
    # Per algorithm, the race days it had no version for (`skipped` says the same in words).
    skipped_days: dict[str, list[datetime.date]] = field(default_factory=dict)
    # Per version whose stored model is missing or broken, why it was skipped (also in `skipped`).
    unusable: dict[int, str] = field(default_factory=dict)

    def summary(self) -> dict[str, Any]:
        """The counts, versions and reasons, for a task's result or a log line."""
        return {
            "races": self.races,
            "predictions": self.predictions,
            "versions": sorted(self.versions),
            "skipped": self.skipped,
        }


def predictions_refresh(
    *, race_ids: Iterable[int], algorithms_to_use: Iterable[str] | None = None
) -> RefreshReport:
    """Store each model's predictions for the races' starters, walk-forward.

    A race on day D is predicted by the active version of each algorithm if it was trained
    before D, else by the latest version that was; an algorithm with no such version, or whose
    version's stored model is missing or cannot be loaded, is skipped and said so. Re-running
    rewrites the same rows.
    """
    race_ids = list(race_ids)
    report = RefreshReport()
    races = list(
        Race.objects.filter(pk__in=race_ids)
        .exclude(status=Race.Status.ABANDONED)
        .select_related("racecourse")
        .only("pk", "meeting_date", "name", "source", "racecourse__place_terms")
    )
    if not races:
        return report
    frame, targets, kept = selectors.frame_with_kept_history(race_ids=[race.pk for race in races])
    targets &= ~frame["non_runner"]
    # Built once per distinct priors: the versions trained on one window share theirs.
    feature_frames: dict[features.FeaturePriors, pd.DataFrame] = {}
    scored = frame[targets]
    report.races = int(scored["race_id"].nunique())

    places = _places_paid(races, scored)
    days = sorted({race.meeting_date for race in races})
    names = list(algorithms_to_use or algorithms.ALGORITHMS)
    batches: list[tuple[ModelVersion, pd.DataFrame, dict[str, np.ndarray]]] = []
    for name in names:
        for day in days:
            version = selectors.model_version_for_day(algorithm=name, day=day)
            if version is None:
                report.skipped.append(f"{name}: no ready version trained before {day}")
                report.skipped_days.setdefault(name, []).append(day)
                continue
            rows = scored[scored["meeting_date"] == pd.Timestamp(day)]
            if rows.empty or version.pk in report.unusable:
                continue
            try:
                estimator = model_version_load(version)
            except ArtifactError as exc:
                # One broken model must not keep the other algorithms' predictions stale.
                report.unusable[version.pk] = f"{name}: skipped, {exc}"
                report.skipped.append(report.unusable[version.pk])
                logger.warning("refresh skips %s version %s: %s", name, version.pk, exc)
                continue
            priors = estimator.feature_priors()
            if priors not in feature_frames:
                feature_frames[priors] = features.build_features(
                    frame, targets=targets, kept=kept, priors=priors
                )
            feature_rows = feature_frames[priors].loc[rows.index]
            values = _predict(estimator, feature_rows, rows, places[rows.index])
            batches.append((version, rows, values))
            report.versions.add(version.pk)

    with transaction.atomic():
        # Withdrawn runners keep no stale prediction.
        Prediction.objects.filter(runner__race_id__in=race_ids, runner__non_runner=True).delete()
        for version, rows, values in batches:
            report.predictions += _predictions_store(version=version, rows=rows, values=values)
        race_predictions_invalidate(race_ids=race_ids)  # bulk writes send no signals
    return report


def race_ids_to_refresh(*, day: datetime.date | None = None) -> list[int]:
    """The races of `day` (whatever their status), or every declared race from today on."""
    if day is None:
        return selectors.declared_race_ids()
    return list(Race.objects.filter(meeting_date=day).values_list("pk", flat=True))


def predictions_refresh_races(
    *, race_ids: Iterable[int] | None = None, day: datetime.date | None = None
) -> RefreshReport:
    """`predictions_refresh` of the given races, else of `day`'s, else of every declared race
    from today on."""
    if race_ids is None:
        race_ids = race_ids_to_refresh(day=day)
    return predictions_refresh(race_ids=race_ids)


def predictions_refresh_range(
    *,
    date_from: datetime.date,
    date_to: datetime.date,
    chunk_days: int = 31,
    algorithms_to_use: Iterable[str] | None = None,
    progress: Progress = quiet,
) -> RefreshReport:
    """`predictions_refresh` for every race that was not abandoned in [date_from, date_to],
    `chunk_days` at a time so that one chunk's frame is in memory at once; one progress line a
    chunk. Days without a usable version are summed up per algorithm in `skipped`."""
    if date_to < date_from:
        raise PredictionError(f"the range ends ({date_to}) before it starts ({date_from})")
    if chunk_days < 1:
        raise PredictionError("a chunk is at least one day")
    names = list(algorithms_to_use) if algorithms_to_use is not None else None
    total = RefreshReport()
    start = date_from
    while start <= date_to:
        end = min(start + datetime.timedelta(days=chunk_days - 1), date_to)
        race_ids = list(
            Race.objects.filter(meeting_date__range=(start, end))
            .exclude(status=Race.Status.ABANDONED)
            .values_list("pk", flat=True)
        )
        report = predictions_refresh(race_ids=race_ids, algorithms_to_use=names)
        total.races += report.races
        total.predictions += report.predictions
        total.versions |= report.versions
        for name, days in report.skipped_days.items():
            total.skipped_days.setdefault(name, []).extend(days)
        total.unusable.update(report.unusable)
        progress(
            f"{start} to {end}: {report.predictions} predictions for {report.races} races"
            + (f" (no version for {', '.join(report.skipped_days)})" if report.skipped_days else "")
        )
        start = end + datetime.timedelta(days=1)
    total.skipped = [
        f"{name}: no ready version trained before {len(days)} race days ({days[0]} to {days[-1]})"
        for name, days in total.skipped_days.items()
    ] + list(total.unusable.values())
    return total


def _places_paid(races: list[Race], scored: pd.DataFrame) -> pd.Series:
    """Per scored runner, how many places its race's terms pay for the starters scored."""
    field_sizes = scored["race_id"].value_counts()
    by_race = {
        race.pk: race_place_terms(race=race, field_size=int(field_sizes.get(race.pk, 0))).places
        for race in races
    }
    return scored["race_id"].map(by_race).astype(int)


def _predict(
    estimator: algorithms.Algorithm,
    feature_rows: pd.DataFrame,
    rows: pd.DataFrame,
    places: pd.Series,
):
    win = estimator.predict(feature_rows, rows)
    race_ids = rows["race_id"].to_numpy()
    place = probability.place_probabilities(win, race_ids, places=places.to_numpy())
    rank = (
        pd.Series(-win, index=rows.index)
        .groupby(rows["race_id"].to_numpy())
        .rank(method="first")
        .to_numpy()
    )
    odds = rows["win_odds"].to_numpy()
    edge = np.where(np.isnan(odds), np.nan, win * odds - 1)
    contributions = estimator.contributions(feature_rows, rows)
    return {"win": win, "place": place, "rank": rank, "edge": edge, "contributions": contributions}


def _explanations(contributions: pd.DataFrame) -> list[list[list[Any]]]:
    if contributions.empty:
        return [[] for _ in range(len(contributions))]
    names = np.asarray(contributions.columns)
    values = contributions.to_numpy()
    order = np.argsort(-np.abs(values), axis=1)[:, :EXPLANATION_SIZE]
    return [
        [[str(names[j]), round(float(values[i, j]), 4)] for j in order[i]]
        for i in range(len(values))
    ]


def _place_or_none(value: float) -> float | None:
    # NaN: the race has no place terms.
    return None if np.isnan(value) else min(max(float(value), 0.0), 1.0)


def _predictions_store(*, version: ModelVersion, rows: pd.DataFrame, values: dict[str, Any]) -> int:
    explanations = _explanations(values["contributions"])
    now = timezone.now()
    predictions = []
    for i, runner_id in enumerate(rows["runner_id"].tolist()):
        win = float(values["win"][i])
        edge = float(values["edge"][i])
        predictions.append(
            Prediction(
                runner_id=runner_id,
                model_version=version,
                win_probability=win,
                place_probability=_place_or_none(values["place"][i]),
                rank=int(values["rank"][i]),
                fair_odds=1 / max(win, 1e-9),
                edge=None if np.isnan(edge) else edge,
                explanation=explanations[i],
                created_at=now,
                updated_at=now,
            )
        )
    # One INSERT ... ON CONFLICT per batch: a refresh rewrites the same rows in place.
    Prediction.objects.bulk_create(
        predictions,
        batch_size=1000,
        update_conflicts=True,
        unique_fields=["runner", "model_version"],
        update_fields=REFRESHED_FIELDS,
    )
    return len(predictions)
