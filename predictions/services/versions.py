"""A model version's life in this process: create, claim, train, fail, activate.

Sending versions to the training queue is `enqueue`'s job; the training task calls
`model_version_train_queued` here.
"""

from __future__ import annotations

import datetime
import time
from collections.abc import Iterable
from dataclasses import dataclass
from importlib import metadata
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from .. import selectors
from ..ml import algorithms, evaluation, features
from ..models import ModelVersion
from .artifacts import model_artifact_store
from .base import PredictionError, Progress, quiet
from .cache import model_versions_invalidate

LIBRARIES = ("numpy", "pandas", "scipy", "scikit-learn", "lightgbm", "xgboost-cpu", "joblib")
# A claim older than the training task's hard time limit (plus a margin) lost its worker.
STALE_TRAINING: datetime.timedelta = settings.HRP_STALE_TRAINING
# A version whose worker is lost this many times in a row (killed for memory each time, say) is
# failed rather than redelivered for ever.
TRAINING_ATTEMPTS = 5


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


def free_to_train() -> Q:
    """Versions no live worker may be training: queued, failed, or training under a claim older
    than `STALE_TRAINING`."""
    stale = timezone.now() - STALE_TRAINING
    return Q(status__in=[ModelVersion.Status.QUEUED, ModelVersion.Status.FAILED]) | Q(
        status=ModelVersion.Status.TRAINING, started_at__lt=stale
    )


def model_version_claim(*, version_id: int, task_id: str = "") -> bool:
    """Mark a version as training by the task `task_id`, unless it is ready or another task
    trains it.

    The same task may claim it again: a redelivery after its worker was killed or a retry
    after a database error carries the task's id. Another task may take over only a claim older
    than `STALE_TRAINING`. After `TRAINING_ATTEMPTS` claims the version is failed instead.
    """
    claimable = free_to_train()
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


def model_version_train(*, version: ModelVersion, progress: Progress = quiet) -> ModelVersion:
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
        # The window's own results choose the shrinkage, never a season it will be scored on.
        priors = features.priors_estimate(frame)
        feature_frame = features.build_features(frame, priors=priors)
        step("fitting")
        estimator = algorithms.ALGORITHMS[version.algorithm](
            seed=version.seed, **version.hyperparameters
        )
        estimator.fit(feature_frame, frame)
        estimator.feature_priors_ = priors  # stored with the model: its predictions use them
        fit_seconds = time.perf_counter() - started
        value = _value_margin(estimator, frame)

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
                "tuning_window": estimator.tuning_window(),
                "feature_priors": priors.summary(),
            },
            "fit": estimator.summary(),
            "value_margin": value,
        }
        version.value_margin = value["margin"]
        version.status = ModelVersion.Status.READY
        version.progress = "ready"
        version.error = ""
        version.finished_at = timezone.now()
        model_artifact_store(
            version=version,
            estimator=estimator,
            update_fields=[
                "features",
                "hyperparameters",
                "library_versions",
                "metrics",
                "value_margin",
                "status",
                "progress",
                "error",
                "finished_at",
            ],
        )
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


def _value_margin(estimator: algorithms.Algorithm, frame) -> dict[str, Any]:
    """The value margin chosen on the fit's out-of-sample probabilities of the training window
    (`evaluation.value_margin_choose`); no margin for an algorithm that has none to offer."""
    held = estimator.out_of_sample()
    if held is None:
        return {"margin": None, "races": 0, "tried": [], "price": "final"}
    index, probs = held
    return evaluation.value_margin_choose(frame.loc[index], probs)


@transaction.atomic
def model_version_activate(*, version: ModelVersion) -> ModelVersion:
    """Make the version the one race cards show for its algorithm."""
    version = ModelVersion.objects.select_for_update().get(pk=version.pk)
    if version.status != ModelVersion.Status.READY:
        raise PredictionError(f"version {version.pk} is {version.status}, not ready")
    ModelVersion.objects.filter(algorithm=version.algorithm, is_active=True).exclude(
        pk=version.pk
    ).update(is_active=False)
    model_versions_invalidate()  # update() sends no signals
    if not version.is_active:
        version.is_active = True
        version.save(update_fields=["is_active"])
    return version


def model_version_annotate(*, version: ModelVersion, notes: str) -> ModelVersion:
    """Set staff's notes on a version, the one thing staff may change on a trained one."""
    version.notes = notes
    version.save(update_fields=["notes"])
    return version


def model_version_train_new(
    *,
    algorithm: str,
    train_until: datetime.date,
    train_from: datetime.date | None = None,
    hyperparameters: dict[str, Any] | None = None,
    seed: int = 0,
    activate: bool = False,
    progress: Progress = quiet,
) -> ModelVersion:
    """Create a version and train it here and now, without the queue (commands, the demo's
    models, backtests); with `activate`, make it the active version once it is ready."""
    version = model_version_create(
        algorithm=algorithm,
        train_until=train_until,
        train_from=train_from,
        hyperparameters=hyperparameters,
        seed=seed,
    )
    model_version_claim(version_id=version.pk)  # new: nobody else holds it
    progress(f"training version {version.pk} ({algorithm}) on races up to {train_until}")
    return _train_claimed(version, activate=activate, progress=progress)


@dataclass(frozen=True)
class QueuedTraining:
    """What became of a training task: its version, that version's status, whether it trained."""

    version: int
    status: str | None
    trained: bool


def model_version_train_queued(
    *, version_id: int, task_id: str, activate: bool = False
) -> QueuedTraining:
    """Train a queued version for the task `task_id`; a version that is ready or being trained by
    another task is left alone. Activates it if asked now or when it was sent."""
    if not model_version_claim(version_id=version_id, task_id=task_id):
        status = ModelVersion.objects.filter(pk=version_id).values_list("status", flat=True)
        return QueuedTraining(version=version_id, status=status.first(), trained=False)
    version = ModelVersion.objects.get(pk=version_id)
    version = _train_claimed(version, activate=activate or version.activate_when_ready)
    return QueuedTraining(version=version_id, status=version.status, trained=True)


def _train_claimed(
    version: ModelVersion, *, activate: bool, progress: Progress = quiet
) -> ModelVersion:
    version = model_version_train(version=version, progress=progress)
    return model_version_activate(version=version) if activate else version


def model_version_get_or_train(
    *, algorithm: str, train_until: datetime.date, progress: Progress = quiet
) -> ModelVersion:
    """A ready version of the algorithm trained up to `train_until` the way a new one would be
    (all races up to then, default settings, feature priors from its own window): an existing
    one, else one trained now. Backtests and held-out models reuse versions so, and train
    nothing twice; a version stored before priors were estimated per window is not reused, for
    its fixed ones came from seasons a backtest scores."""
    defaults = algorithms.ALGORITHMS[algorithm](seed=0).params()
    existing = (
        ModelVersion.objects.ready()
        .filter(
            algorithm=algorithm,
            train_until=train_until,
            train_from=None,
            seed=0,
            hyperparameters=defaults,
            metrics__training__has_key="feature_priors",
        )
        .order_by("-pk")
        .first()
    )
    if existing is not None:
        progress(f"reusing version {existing.pk} trained up to {train_until}")
        return existing
    return model_version_train_new(algorithm=algorithm, train_until=train_until, progress=progress)


def model_versions_ensure(
    *, algorithms_to_train: Iterable[str], train_until: datetime.date, progress: Progress = quiet
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
            version = model_version_train_new(
                algorithm=algorithm, train_until=train_until, progress=progress
            )
        versions.append(model_version_activate(version=version))
    return versions


def _library_versions() -> dict[str, str]:
    found = {}
    for name in LIBRARIES:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return found
