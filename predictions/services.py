"""Writes of the prediction engine: training model versions, evaluating them, storing predictions.

`predictions.ml` does the numerical work on frames; these services feed it from the selectors and
store what it returns.
"""

from __future__ import annotations

import datetime
import functools
import hashlib
import io
import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from importlib import metadata
from typing import Any

import joblib
import numpy as np
import pandas as pd
from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from hrp_site.queueing import QueueingError, task_send_on_commit
from races.models import Race

from . import selectors
from .ml import algorithms, evaluation, features, probability
from .models import ModelArtifact, ModelVersion, Prediction

logger = logging.getLogger(__name__)

Progress = Callable[[str], None]

LIBRARIES = ("numpy", "pandas", "scipy", "scikit-learn", "lightgbm", "xgboost-cpu", "joblib")
EXPLANATION_SIZE = 5
# A claim older than the training task's hard time limit (plus a margin) lost its worker.
STALE_TRAINING: datetime.timedelta = settings.HRP_STALE_TRAINING
# A version whose worker is lost this many times in a row (killed for memory each time, say) is
# failed rather than redelivered for ever.
TRAINING_ATTEMPTS = 5


class PredictionError(Exception):
    """A request the engine refuses, with a reason a user can act on."""


def _quiet(message: str) -> None:
    pass


# --- model versions ------------------------------------------------------------------------------


def model_version_create(
    *,
    algorithm: str,
    train_until: datetime.date,
    train_from: datetime.date | None = None,
    hyperparameters: dict[str, Any] | None = None,
    seed: int = 0,
) -> ModelVersion:
    if algorithm not in algorithms.ALGORITHMS:
        known = ", ".join(sorted(algorithms.ALGORITHMS))
        raise PredictionError(f"unknown algorithm {algorithm!r}; known: {known}")
    if train_from is not None and train_from > train_until:
        raise PredictionError(f"the training window starts ({train_from}) after it ends")
    return ModelVersion.objects.create(
        algorithm=algorithm,
        train_until=train_until,
        train_from=train_from,
        hyperparameters=hyperparameters or {},
        seed=seed,
    )


def model_version_claim(*, version_id: int, task_id: str = "") -> bool:
    """Mark a version as training by the task `task_id`, unless it is ready or another task
    trains it.

    The same task may claim it again: a redelivery after its worker was killed or a retry
    after a database error carries the task's id. Another task may take over only a claim older
    than `STALE_TRAINING`. After `TRAINING_ATTEMPTS` claims the version is failed instead.
    """
    stale = timezone.now() - STALE_TRAINING
    claimable = Q(status__in=[ModelVersion.Status.QUEUED, ModelVersion.Status.FAILED]) | Q(
        status=ModelVersion.Status.TRAINING, started_at__lt=stale
    )
    if task_id:
        claimable |= Q(status=ModelVersion.Status.TRAINING, task_id=task_id)
    claimed = ModelVersion.objects.filter(
        claimable, pk=version_id, attempts__lt=TRAINING_ATTEMPTS
    ).update(
        status=ModelVersion.Status.TRAINING,
        task_id=task_id,
        attempts=F("attempts") + 1,
        started_at=timezone.now(),
        finished_at=None,
        error="",
        progress="claimed",
    )
    if not claimed:
        ModelVersion.objects.filter(
            claimable, pk=version_id, attempts__gte=TRAINING_ATTEMPTS
        ).update(
            status=ModelVersion.Status.FAILED,
            error=f"gave up after {TRAINING_ATTEMPTS} attempts: its worker was lost each time",
            progress="failed",
            finished_at=timezone.now(),
        )
    return claimed == 1


def model_version_fail(*, version_id: int, reason: str, task_id: str | None = None) -> bool:
    """Record that a version's training failed; with `task_id`, only while that task holds it."""
    versions = ModelVersion.objects.filter(pk=version_id).exclude(status=ModelVersion.Status.READY)
    if task_id is not None:
        versions = versions.filter(status=ModelVersion.Status.TRAINING, task_id=task_id)
    failed = versions.update(
        status=ModelVersion.Status.FAILED,
        error=reason,
        progress="failed",
        finished_at=timezone.now(),
    )
    return failed == 1


def model_version_train(*, version: ModelVersion, progress: Progress = _quiet) -> ModelVersion:
    """Fit the version's algorithm on settled races in its window and store the artifact.

    The caller claims the version first (`model_version_claim`). Any failure is recorded on the
    version and raised again.
    """

    def step(message: str) -> None:
        ModelVersion.objects.filter(pk=version.pk).update(progress=message)
        progress(message)

    version.refresh_from_db()  # the claim set its status and start time
    try:
        started = time.perf_counter()
        step("reading races")
        frame = selectors.training_frame(
            train_until=version.train_until, train_from=version.train_from
        )
        if frame.empty:
            raise PredictionError(f"no settled races up to {version.train_until}")
        step(f"building features for {len(frame):,} runners")
        feature_frame = features.build_features(frame)
        step("fitting")
        estimator = algorithms.ALGORITHMS[version.algorithm](
            seed=version.seed, **version.hyperparameters
        )
        estimator.fit(feature_frame, frame)
        fit_seconds = time.perf_counter() - started

        buffer = io.BytesIO()
        joblib.dump(estimator, buffer)
        data = buffer.getvalue()
        version.features = list(features.FEATURE_COLUMNS)
        version.hyperparameters = estimator.params()
        version.library_versions = _library_versions()
        version.metrics = {
            **version.metrics,
            "training": {
                "races": int(frame["race_id"].nunique()),
                "runners": len(frame),
                "first_day": frame["meeting_date"].min().date().isoformat(),
                "last_day": frame["meeting_date"].max().date().isoformat(),
                "seconds": round(fit_seconds, 2),
            },
            "fit": estimator.summary(),
        }
        version.status = ModelVersion.Status.READY
        version.progress = "ready"
        version.error = ""
        version.finished_at = timezone.now()
        # A version is never ready without its model, nor its model stored beside a failed run.
        with transaction.atomic():
            # Two runs of one version (a reclaimed stale one) take turns: no duplicate-key error.
            ModelVersion.objects.select_for_update().filter(pk=version.pk).values("pk").first()
            ModelArtifact.objects.update_or_create(
                version=version,
                defaults={
                    "data": data,
                    "sha256": hashlib.sha256(data).hexdigest(),
                    "size": len(data),
                },
            )
            version.save()
        step("ready")
        return version
    except Exception as exc:
        ModelVersion.objects.filter(pk=version.pk).update(
            status=ModelVersion.Status.FAILED,
            error=f"{type(exc).__name__}: {exc}",
            progress="failed",
            finished_at=timezone.now(),
        )
        raise


@transaction.atomic
def model_version_activate(*, version: ModelVersion) -> ModelVersion:
    """Make the version the one race cards show for its algorithm."""
    version = ModelVersion.objects.select_for_update().get(pk=version.pk)
    if version.status != ModelVersion.Status.READY:
        raise PredictionError(f"version {version.pk} is {version.status}, not ready")
    ModelVersion.objects.filter(algorithm=version.algorithm, is_active=True).exclude(
        pk=version.pk
    ).update(is_active=False)
    if not version.is_active:
        version.is_active = True
        version.save(update_fields=["is_active"])
    return version


class ArtifactError(PredictionError):
    """A version's stored model is missing or cannot be loaded."""


@functools.lru_cache(maxsize=16)
def _load_artifact(version_id: int, sha256: str) -> algorithms.Algorithm:
    # Keyed by the digest too: bytes written again under the same version are never served stale.
    data = ModelArtifact.objects.filter(version_id=version_id).values_list("data", flat=True)
    try:
        return joblib.load(io.BytesIO(bytes(data.get())))
    # Unpickling damaged bytes can raise nearly anything (EOFError, UnpicklingError, KeyError,
    # ValueError, ModuleNotFoundError...); each means the same: this model cannot be used.
    except Exception as exc:
        raise ArtifactError(
            f"version {version_id}'s model cannot be loaded ({type(exc).__name__}: {exc})"
        ) from exc


def model_version_load(version: ModelVersion) -> algorithms.Algorithm:
    """The fitted algorithm, read from the database once per process and version."""
    if version.status != ModelVersion.Status.READY:
        raise PredictionError(f"version {version.pk} has no trained model ({version.status})")
    digest = ModelArtifact.objects.filter(version_id=version.pk).values_list("sha256", flat=True)
    sha256 = digest.first()
    if sha256 is None:
        raise ArtifactError(f"version {version.pk} is ready but its model is not stored")
    return _load_artifact(version.pk, sha256)


def _library_versions() -> dict[str, str]:
    found = {}
    for name in LIBRARIES:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return found


# --- evaluation ----------------------------------------------------------------------------------


def model_version_evaluate(
    *,
    version: ModelVersion,
    date_from: datetime.date,
    date_to: datetime.date,
    margin: float = 0.0,
    kelly_fraction: float | None = None,
    store: bool = True,
) -> dict[str, Any]:
    """Score the version on settled races in [date_from, date_to] against the market.

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
    race_ids = [pk for pk, _ in races]
    frame, targets = selectors.frame_with_history(race_ids=race_ids)
    targets &= ~frame["non_runner"]
    feature_frame = features.build_features(frame, targets=targets)
    scored = frame[targets]
    probs = estimator.predict(feature_frame.loc[scored.index], scored)
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
    progress: Progress = _quiet,
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
        version = _backtest_version(algorithm=algorithm, train_until=train_until, progress=progress)
        progress(f"season {season}: evaluating version {version.pk}")
        metrics = model_version_evaluate(
            version=version, date_from=start, date_to=min(end, date_to)
        )
        rows.append(BacktestSeason(season, start, min(end, date_to), version.pk, metrics))
    return rows


def _backtest_version(*, algorithm: str, train_until: datetime.date, progress: Progress):
    # Reuse only a version trained the way this one would be: same window, default settings.
    defaults = algorithms.ALGORITHMS[algorithm](seed=0).params()
    existing = (
        ModelVersion.objects.ready()
        .filter(
            algorithm=algorithm,
            train_until=train_until,
            train_from=None,
            seed=0,
            hyperparameters=defaults,
        )
        .order_by("-pk")
        .first()
    )
    if existing is not None:
        progress(f"reusing version {existing.pk} trained up to {train_until}")
        return existing
    version = model_version_create(algorithm=algorithm, train_until=train_until)
    model_version_claim(version_id=version.pk)
    progress(f"training version {version.pk} up to {train_until}")
    return model_version_train(version=version, progress=progress)


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
    progress: Progress = _quiet,
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
        version = _backtest_version(algorithm=algorithm, train_until=train_until, progress=progress)
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


# --- predictions ---------------------------------------------------------------------------------


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
        .values_list("pk", "meeting_date")
    )
    if not races:
        return report
    frame, targets = selectors.frame_with_history(race_ids=[pk for pk, _ in races])
    targets &= ~frame["non_runner"]
    feature_frame = features.build_features(frame, targets=targets)
    scored = frame[targets]
    report.races = int(scored["race_id"].nunique())

    days = sorted({day for _, day in races})
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
            values = _predict(estimator, feature_frame.loc[rows.index], rows)
            batches.append((version, rows, values))
            report.versions.add(version.pk)

    with transaction.atomic():
        # Withdrawn runners keep no stale prediction.
        Prediction.objects.filter(runner__race_id__in=race_ids, runner__non_runner=True).delete()
        for version, rows, values in batches:
            report.predictions += _predictions_store(version=version, rows=rows, values=values)
    return report


def predictions_refresh_range(
    *,
    date_from: datetime.date,
    date_to: datetime.date,
    chunk_days: int = 31,
    algorithms_to_use: Iterable[str] | None = None,
    progress: Progress = _quiet,
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


def _predict(estimator: algorithms.Algorithm, feature_rows: pd.DataFrame, rows: pd.DataFrame):
    win = estimator.predict(feature_rows, rows)
    race_ids = rows["race_id"].to_numpy()
    place = probability.place_probabilities(win, race_ids)
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
                place_probability=min(max(float(values["place"][i]), 0.0), 1.0),
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
        update_fields=[
            "win_probability",
            "place_probability",
            "rank",
            "fair_odds",
            "edge",
            "explanation",
            "updated_at",
        ],
    )
    return len(predictions)


# --- enqueueing ----------------------------------------------------------------------------------


def model_version_enqueue_training(*, version: ModelVersion, activate: bool = False) -> None:
    """Send the version to the training queue once the current transaction commits.

    If the broker does not take it, the version is failed with the reason (nothing would ever
    train it) and `QueueingError` is raised to the caller.
    """
    from .tasks import train_model_task  # the tasks module imports this one

    version_id = version.pk
    version.activate_when_ready, version.queued_at = activate, timezone.now()
    ModelVersion.objects.filter(pk=version_id).update(
        activate_when_ready=activate, queued_at=version.queued_at
    )

    def fail(exc: QueueingError) -> None:
        model_version_fail(version_id=version_id, reason=str(exc))

    task_send_on_commit(train_model_task, version_id, activate=activate, on_error=fail)


def model_version_requeue(*, version: ModelVersion) -> bool:
    """Staff send a queued, failed or stuck version to the training queue again; its attempts
    count from zero again.

    Refuses (False) a version that is ready or whose training claim is still fresh: a worker may
    still be training it.
    """
    stale = timezone.now() - STALE_TRAINING
    resendable = Q(status__in=[ModelVersion.Status.QUEUED, ModelVersion.Status.FAILED]) | Q(
        status=ModelVersion.Status.TRAINING, started_at__lt=stale
    )
    requeued = ModelVersion.objects.filter(resendable, pk=version.pk).update(
        status=ModelVersion.Status.QUEUED,
        progress="sent again",
        task_id="",
        attempts=0,
        error="",
        finished_at=None,
    )
    if requeued:
        version.refresh_from_db()
        model_version_enqueue_training(version=version, activate=version.activate_when_ready)
    return requeued == 1


def model_versions_requeue_lost() -> list[int]:
    """The sweep: send back to the queue every version whose task was lost: still "training"
    past `STALE_TRAINING` (a live worker would have hit the hard time limit by then), or still
    "queued" that long after it was sent (Redis lost the message, or kombu did: a worker killed
    between taking a message and recording it as unacknowledged). Their attempts keep counting,
    so a training that kills its worker every time ends failed; a message sent twice is
    harmless, since only one task can claim the version."""
    stale = timezone.now() - STALE_TRAINING
    lost = Q(status=ModelVersion.Status.TRAINING, started_at__lt=stale) | Q(
        status=ModelVersion.Status.QUEUED, queued_at__lt=stale
    )
    requeued = []
    for version in ModelVersion.objects.filter(lost):
        moved = ModelVersion.objects.filter(lost, pk=version.pk).update(
            status=ModelVersion.Status.QUEUED, progress="re-queued: its task was lost"
        )
        if moved:
            model_version_enqueue_training(version=version, activate=version.activate_when_ready)
            requeued.append(version.pk)
    return requeued


def model_version_retrain(*, version: ModelVersion, activate: bool = False) -> ModelVersion:
    """A new version like `version`, trained on every race settled before today."""
    last_day = selectors.last_settled_day()
    if last_day is None:
        raise PredictionError("there are no settled races to train on")
    new = model_version_create(
        algorithm=version.algorithm,
        train_until=last_day,
        hyperparameters=version.hyperparameters,
        seed=version.seed,
    )
    model_version_enqueue_training(version=new, activate=activate)
    return new


def predictions_enqueue_refresh(
    *, race_ids: Iterable[int] | None = None, day: datetime.date | None = None
) -> None:
    """Refresh the races' predictions, or a day's (default: every declared race), after the
    commit; `QueueingError` if the broker does not take it."""
    from .tasks import refresh_predictions_task

    ids = None if race_ids is None else list(race_ids)
    on_day = None if day is None else day.isoformat()
    task_send_on_commit(refresh_predictions_task, race_ids=ids, day=on_day)


def model_versions_ensure(
    *, algorithms_to_train: Iterable[str], train_until: datetime.date, progress: Progress = _quiet
) -> list[ModelVersion]:
    """An active, ready version of each algorithm trained up to `train_until`; trains only the
    missing ones, so calling it again the same day trains nothing."""
    versions = []
    for algorithm in algorithms_to_train:
        version = (
            ModelVersion.objects.ready()
            .filter(algorithm=algorithm, train_until=train_until, train_from=None)
            .order_by("-pk")
            .first()
        )
        if version is None:
            progress(f"training {algorithm} on races up to {train_until}")
            version = model_version_create(algorithm=algorithm, train_until=train_until)
            model_version_claim(version_id=version.pk)
            version = model_version_train(version=version, progress=progress)
        versions.append(model_version_activate(version=version))
    return versions
