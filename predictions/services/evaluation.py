"""Scoring versions beside the betting market: one window, or walk-forward season by season."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

import pandas as pd

from races.models import Race

from .. import selectors
from ..ml import evaluation, features, probability
from ..models import ModelVersion
from .artifacts import model_version_load
from .base import PredictionError, Progress, quiet
from .versions import model_version_get_or_train


def model_version_evaluate(
    *,
    version: ModelVersion,
    date_from: datetime.date,
    date_to: datetime.date,
    margin: float | None = None,
    kelly_fraction: float | None = None,
    store: bool = True,
) -> dict[str, Any]:
    """Score the version on settled races in [date_from, date_to] against the market.

    Value bets clear `margin`, by default the version's own (chosen on its training window;
    none when it chose none), and are decided and paid at the recorded final price.

    Refuses any window that reaches into the version's training window.
    """
    if date_from <= version.train_until:
        raise PredictionError(
            f"version {version.pk} was trained on races up to {version.train_until}; "
            f"evaluate it from {version.train_until + datetime.timedelta(days=1)} on"
        )
    if date_to < date_from:
        raise PredictionError(f"the window ends ({date_to}) before it starts ({date_from})")
    estimator = model_version_load(version)
    races = Race.objects.results().filter(meeting_date__range=(date_from, date_to))
    races = list(races.values_list("pk", "source"))
    if not races:
        raise PredictionError(f"no settled races between {date_from} and {date_to}")
    _priors_unseen_check(version, estimator, date_from, {source for _, source in races})
    race_ids = [pk for pk, _ in races]
    frame, targets = selectors.frame_with_history(race_ids=race_ids)
    targets &= ~frame["non_runner"]
    feature_frame = features.build_features(
        frame, targets=targets, priors=estimator.feature_priors()
    )
    scored = frame[targets]
    probs = estimator.predict(feature_frame.loc[scored.index], scored)
    if margin is None:
        margin = version.value_margin
    metrics = evaluation.evaluate(scored, probs, margin=margin, kelly_fraction=kelly_fraction)
    metrics = {
        "model_version": version.pk,
        "algorithm": version.algorithm,
        "from": date_from.isoformat(),
        "to": date_to.isoformat(),
        # Where the races came from: pages must say so when the figures are the synthetic demo's.
        "sources": sorted({source for _, source in races}),
        **metrics,
    }
    if store:
        evaluations = {**version.metrics.get("evaluations", {})}
        evaluations[f"{date_from}..{date_to}"] = metrics
        version.metrics = {**version.metrics, "evaluations": evaluations}
        version.save(update_fields=["metrics"])
    return metrics


def _priors_unseen_check(
    version: ModelVersion,
    estimator: Any,
    date_from: datetime.date,
    sources: set[str],
) -> None:
    """Refuse Hong Kong races that chose the fixed feature priors a version stored before they
    were estimated per training window still builds with: its training window ends before them,
    but its features would not."""
    priors = estimator.feature_priors()
    if priors is not features.FIXED_PRIORS or Race.Source.HKRACING not in sources:
        return
    last_day = datetime.date.fromisoformat(priors.last_day)
    if date_from <= last_day:
        raise PredictionError(
            f"version {version.pk} builds its features with the fixed priors estimated on the "
            f"Hong Kong races of {priors.first_day} to {priors.last_day}, which overlap this "
            f"window; train a new version up to {version.train_until} (its priors come from its "
            f"own window) or evaluate from {last_day + datetime.timedelta(days=1)} on"
        )


@dataclass
class BacktestSeason:
    season: int
    date_from: datetime.date
    date_to: datetime.date
    model_version: int
    metrics: dict[str, Any]


def backtest_run(
    *,
    algorithm: str,
    date_from: datetime.date,
    date_to: datetime.date,
    progress: Progress = quiet,
) -> list[BacktestSeason]:
    """Walk forward: for each season starting in the window, train on everything before it and
    evaluate on it. Versions are reused when one with the same window already exists, so a
    re-run trains nothing twice; they stay for walk-forward predictions of past races."""
    days = pd.Series(
        sorted(set(Race.objects.results().values_list("meeting_date", flat=True))),
        dtype="datetime64[ns]",
    )
    if days.empty:
        raise PredictionError("no settled races to backtest on")
    season_of_day = probability.seasons(days)
    rows = []
    for season, season_days in days.groupby(season_of_day):
        start, end = season_days.min().date(), season_days.max().date()
        if not date_from <= start <= date_to:
            continue
        earlier = days[days < season_days.min()]
        if earlier.empty:
            progress(f"season {season}: nothing before it to train on; skipped")
            continue
        train_until = earlier.max().date()
        version = model_version_get_or_train(
            algorithm=algorithm, train_until=train_until, progress=progress
        )
        progress(f"season {season}: evaluating version {version.pk}")
        metrics = model_version_evaluate(
            version=version, date_from=start, date_to=min(end, date_to)
        )
        rows.append(BacktestSeason(season, start, min(end, date_to), version.pk, metrics))
    return rows
