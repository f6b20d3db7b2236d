"""A real Celery worker on Redis trains a model and refreshes predictions end to end.

Runs where the suite has PostgreSQL (CI); the worker is a separate process, so it needs a
database both processes see, and a private Redis as its broker.
"""

import datetime

import pytest
from django.conf import settings
from django.utils import timezone

from hrp_site.testing.processes import wait_for
from predictions.models import ModelVersion, Prediction
from predictions.services.versions import model_version_create
from predictions.tasks import refresh_predictions_task, train_model_task
from races.demo import demo_data_seed
from races.models import Race, Runner

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def celery_worker_process(celery_workers, publish_to_private_redis):
    return celery_workers(time_limit=settings.CELERY_TASK_TIME_LIMIT, pool="solo")


def test_a_worker_trains_a_model_and_refreshes_a_card(celery_worker_process):
    # given: demo results and today's declared cards
    today = timezone.localdate()
    demo_data_seed(seed=3, today=today, days_ahead=1, history_days=40)
    version = model_version_create(
        algorithm="lightgbm", train_until=today - datetime.timedelta(days=1)
    )

    # when: the worker trains it, then refreshes today's races; nothing stores task results, so
    # the test watches the rows, as pages and API clients do
    train_model_task.delay(version.pk, activate=True)
    wait_for(lambda: status(version) in ("ready", "failed"), timeout=240, what="the training")
    race_ids = list(
        Race.objects.filter(meeting_date=today, status="declared").values_list("pk", flat=True)
    )
    refresh_predictions_task.delay(race_ids=race_ids)
    predictions = Prediction.objects.filter(model_version=version)
    wait_for(predictions.exists, timeout=120, what="the predictions")

    # then
    version.refresh_from_db()
    assert (version.status, version.is_active, version.error) == ("ready", True, "")
    assert version.metrics["training"]["races"] > 0
    starters = Runner.objects.filter(race_id__in=race_ids, non_runner=False)
    assert predictions.count() == starters.count() > 0
    for race_id in race_ids:
        probs = predictions.filter(runner__race_id=race_id).values_list(
            "win_probability", flat=True
        )
        assert sum(probs) == pytest.approx(1.0, abs=1e-6)

    # and another task for the same training changes nothing
    again = train_model_task.apply(args=(version.pk,)).get()
    assert again == {"version": version.pk, "status": "ready", "trained": False}


def status(version: ModelVersion) -> str:
    version.refresh_from_db(fields=["status"])
    return version.status
