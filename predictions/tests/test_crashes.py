"""Trainings and refreshes survive a worker killed or stopped in their middle.

Real processes: a private redis-server, Celery workers started and killed as subprocesses, the
test database on PostgreSQL. Each test prints how long recovery took, from the fault to the
effect in the database (`pytest -s` shows it; the crash report lists them).
"""

from __future__ import annotations

import datetime
import os
import signal
import time

import pytest
import redis
from django.utils import timezone

from hrp_site.queueing import task_send
from hrp_site.testing.processes import wait_for
from predictions.models import ModelVersion, Prediction
from predictions.services.enqueue import model_version_enqueue_training
from predictions.services.versions import (
    STALE_TRAINING,
    model_version_create,
    model_versions_ensure,
)
from predictions.tasks import refresh_predictions_task, requeue_lost_trainings_task
from races.demo import demo_data_seed
from races.models import Race, Runner

pytestmark = pytest.mark.django_db(transaction=True)

# The workers' hard time limit: several times a training's length on a busy machine. Visibility
# time-out and stale window follow from it (settings): a killed worker's message is back in 65 s.
TIME_LIMIT = 60
# Enough trees that the fit lasts seconds, so a test can catch it in the middle.
SLOW = {"n_estimators": 400, "calibration_folds": 2, "n_jobs": 1}


def report(fault: str, seconds: float, version: ModelVersion | None = None) -> None:
    line = f"\nRECOVERY {fault}: {seconds:.1f} s"
    if version is not None:
        line += f" (of which the training itself: {version.metrics['training']['seconds']} s)"
    print(line)


@pytest.fixture
def today():
    day = timezone.localdate()
    demo_data_seed(seed=3, today=day, days_ahead=1, history_days=40)
    return day


def fitting(version: ModelVersion) -> ModelVersion | None:
    version.refresh_from_db()
    return version if version.progress == "fitting" else None


def ready(version: ModelVersion) -> ModelVersion | None:
    version.refresh_from_db()
    assert version.status != "failed", version.error
    return version if version.status == "ready" else None


def queued_training(today) -> ModelVersion:
    version = model_version_create(
        algorithm="lightgbm", train_until=today - datetime.timedelta(days=1), hyperparameters=SLOW
    )
    model_version_enqueue_training(version=version)
    return version


@pytest.mark.parametrize("victim", ["worker", "pool process"])
def test_a_training_killed_mid_fit_is_delivered_again_and_trained_once(
    victim, today, celery_workers, publish_to_private_redis
):
    # given: a worker fitting a version
    worker = celery_workers(time_limit=TIME_LIMIT)
    version = queued_training(today)
    claimed = wait_for(lambda: fitting(version), timeout=120, what="the fit to start")
    task_id = claimed.task_id

    # when: SIGKILL to the whole worker (a destroyed container) or to its pool process only
    # (the OOM killer)
    killed = time.monotonic()
    if victim == "worker":
        worker.kill()
        celery_workers(time_limit=TIME_LIMIT)
    else:
        os.kill(worker.pool_pids()[0], signal.SIGKILL)
    trained = wait_for(lambda: ready(version), timeout=240, what="the version to be ready")
    report(f"kill -9 {victim} mid-training -> version ready", time.monotonic() - killed, trained)

    # then: the same task took it up again and trained it once more, to the end
    assert (trained.status, trained.task_id, trained.attempts) == ("ready", task_id, 2)
    assert trained.metrics["training"]["races"] > 0
    assert list(ModelVersion.objects.values_list("pk", flat=True)) == [version.pk]


def test_a_worker_stopped_mid_fit_finishes_the_training_first(
    today, celery_workers, publish_to_private_redis
):
    # given
    worker = celery_workers(time_limit=TIME_LIMIT)
    version = queued_training(today)
    wait_for(lambda: fitting(version), timeout=120, what="the fit to start")

    # when: SIGTERM, as a deploy sends
    stopped = time.monotonic()
    returncode = worker.stop(timeout=TIME_LIMIT + 30)
    report("SIGTERM mid-training -> worker exits", time.monotonic() - stopped)

    # then: the warm shutdown waited for the training
    version.refresh_from_db()
    assert returncode == 0
    assert (version.status, version.attempts) == ("ready", 1)


def test_the_sweep_sends_back_a_training_whose_worker_and_message_were_lost(
    today, celery_workers, publish_to_private_redis
):
    # given: a worker killed mid-fit, and its message lost with the broker's data
    worker = celery_workers(time_limit=TIME_LIMIT)
    version = queued_training(today)
    lost_task = wait_for(lambda: fitting(version), timeout=120, what="the fit to start").task_id
    worker.kill()
    killed = time.monotonic()
    with redis.Redis(port=publish_to_private_redis.port) as client:
        client.flushall()
    # as if the stale window had passed
    ModelVersion.objects.filter(pk=version.pk).update(
        started_at=timezone.now() - STALE_TRAINING - datetime.timedelta(hours=1)
    )

    # when: a new worker runs the beat's sweep
    celery_workers(time_limit=TIME_LIMIT)
    task_send(requeue_lost_trainings_task)
    trained = wait_for(lambda: ready(version), timeout=240, what="the version to be ready")
    report("kill -9 worker + lost message -> sweep -> ready", time.monotonic() - killed, trained)

    # then: a new task trained it; the attempts kept counting
    assert trained.status == "ready"
    assert trained.task_id not in ("", lost_task)
    assert trained.attempts == 2


@pytest.fixture
def scored_races(today):
    """A ready market version and the ids of the races after its window, with their starters."""
    train_until = today - datetime.timedelta(days=20)
    model_versions_ensure(algorithms_to_train=["market"], train_until=train_until)
    races = Race.objects.filter(meeting_date__gt=train_until).exclude(status="abandoned")
    starters = Runner.objects.filter(race__in=races, non_runner=False)
    return list(races.values_list("pk", flat=True)), starters.count()


@pytest.mark.parametrize("victim", ["worker", "pool process"])
def test_a_refresh_killed_midway_runs_again_without_duplicates(
    victim, scored_races, celery_workers, publish_to_private_redis
):
    # given: a worker that has started refreshing
    race_ids, starters = scored_races
    worker = celery_workers(time_limit=TIME_LIMIT)
    task_id = task_send(refresh_predictions_task, race_ids=race_ids)
    # Logged once the message is held as unacknowledged: kombu's Redis transport loses a message
    # whose worker dies between taking it off the queue and recording it there.
    wait_for(
        lambda: f"refresh_predictions_task[{task_id}] received" in worker.output(),
        timeout=60,
        what="the worker to receive the refresh",
    )

    # when: killed before the refresh wrote anything
    if victim == "worker":
        worker.kill()
    else:
        os.kill(worker.pool_pids()[0], signal.SIGKILL)
    killed = time.monotonic()
    assert not Prediction.objects.exists(), "the refresh finished before the kill"
    if victim == "worker":
        celery_workers(time_limit=TIME_LIMIT)
    wait_for(Prediction.objects.exists, timeout=180, what="the predictions")
    report(f"kill -9 {victim} mid-refresh -> predictions written", time.monotonic() - killed)

    # then: one prediction per starter, none twice
    assert Prediction.objects.count() == starters > 0
    pairs = Prediction.objects.values_list("runner_id", "model_version_id").distinct()
    assert pairs.count() == starters
