"""A real Celery worker on Redis trains a model and refreshes predictions end to end.

Runs where the suite has PostgreSQL and Redis (CI); the worker is a separate process, so it
needs a database both processes see and a real broker.
"""

import datetime
import os
import subprocess
import sys
import time
import uuid

import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone

from predictions.models import ModelVersion, Prediction
from predictions.tasks import refresh_predictions_task, train_model_task
from races.demo import demo_data_seed
from races.models import Race, Runner

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def celery_worker_process(tmp_path):
    if settings.CELERY_TASK_ALWAYS_EAGER or connection.vendor != "postgresql":
        pytest.skip("needs REDIS_URL and a PostgreSQL DATABASE_URL (a worker in another process)")
    db = connection.settings_dict
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "DJANGO_MEDIA_ROOT": str(tmp_path),
        "CELERY_TASK_ALWAYS_EAGER": "false",
    }
    from hrp_site.celery import app

    # Messages an earlier run left on the queues would name rows this database never had.
    app.control.purge()
    name = f"test-{uuid.uuid4().hex[:8]}@%h"
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "hrp_site",
            "worker",
            "-Q",
            "celery,training",
            "--pool",
            "solo",
            "-n",
            name,
            "--loglevel",
            "INFO",
            "--without-heartbeat",
            "--without-gossip",
            "--without-mingle",
        ],
        env=env,
        cwd=settings.BASE_DIR,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if worker.poll() is not None:
            pytest.fail(f"the worker died:\n{worker.stdout.read()}")
        if app.control.ping(destination=[name.replace("%h", os.uname().nodename)], timeout=1):
            break
    else:
        worker.terminate()
        pytest.fail("the worker did not answer within 60 s")
    yield worker
    worker.terminate()
    try:
        worker.wait(timeout=30)
    except subprocess.TimeoutExpired:
        worker.kill()


def test_a_worker_trains_a_model_and_refreshes_a_card(celery_worker_process):
    # given: demo results and today's declared cards
    today = timezone.localdate()
    demo_data_seed(seed=3, today=today, days_ahead=1, history_days=40)
    version = ModelVersion.objects.create(
        algorithm="lightgbm", train_until=today - datetime.timedelta(days=1)
    )

    # when: the worker trains it, then refreshes today's races
    trained = train_model_task.delay(version.pk, activate=True).get(timeout=240)
    race_ids = list(
        Race.objects.filter(meeting_date=today, status="declared").values_list("pk", flat=True)
    )
    refreshed = refresh_predictions_task.delay(race_ids=race_ids).get(timeout=120)

    # then
    version.refresh_from_db()
    assert trained == {"version": version.pk, "status": "ready", "trained": True}
    assert (version.status, version.is_active, version.error) == ("ready", True, "")
    assert version.metrics["training"]["races"] > 0
    assert version.pk in refreshed["versions"]
    predictions = Prediction.objects.filter(model_version=version)
    starters = Runner.objects.filter(race_id__in=race_ids, non_runner=False)
    assert predictions.count() == starters.count() > 0
    for race_id in race_ids:
        probs = predictions.filter(runner__race_id=race_id).values_list(
            "win_probability", flat=True
        )
        assert sum(probs) == pytest.approx(1.0, abs=1e-6)

    # and a second delivery of the same training changes nothing
    again = train_model_task.delay(version.pk).get(timeout=60)
    assert again == {"version": version.pk, "status": "ready", "trained": False}
