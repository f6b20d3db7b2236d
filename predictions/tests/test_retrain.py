"""Retraining versions the platform trained itself (with `train_model`): from the admin, the API
and the weekly beat task, each new version trains to ready."""

import datetime
from io import StringIO

import pytest
from django.core.management import call_command

from predictions.models import ModelVersion
from predictions.tasks import retrain_models_task
from races.demo import demo_data_seed

pytestmark = pytest.mark.django_db

TODAY = datetime.date(2026, 5, 20)
LAST_RESULT = TODAY - datetime.timedelta(days=1)
EARLIER = TODAY - datetime.timedelta(days=10)


@pytest.fixture
def platform_version(celery_eager) -> ModelVersion:
    """An active logit version trained by `train_model` with a seed of its own, on the demo's
    results up to ten days before its last."""
    demo_data_seed(seed=5, today=TODAY, days_ahead=1, history_days=45)
    out = StringIO()
    call_command(
        "train_model",
        "--algorithm=logit",
        f"--train-until={EARLIER}",
        "--seed=7",
        "--activate",
        stdout=out,
        stderr=StringIO(),
    )
    return ModelVersion.objects.get(pk=int(out.getvalue()))


def assert_trained_like(new: ModelVersion, old: ModelVersion) -> None:
    new.refresh_from_db()
    old.refresh_from_db()
    assert (new.status, new.error) == ("ready", "")
    assert (new.algorithm, new.train_until, new.seed) == ("logit", LAST_RESULT, 7)
    assert new.hyperparameters == old.hyperparameters == {"l2": 1e-3, "missing_indicators": True}
    assert (new.is_active, old.is_active) == (True, False)


def test_the_admin_retrain_action(
    platform_version, staff_client, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = staff_client.post(
            "/admin/predictions/modelversion/",
            {"action": "retrain", "_selected_action": [platform_version.pk]},
        )

    assert response.status_code == 302
    assert len(callbacks) == 1
    assert_trained_like(
        ModelVersion.objects.exclude(pk=platform_version.pk).get(), platform_version
    )


def test_the_api_retrain_operation(platform_version, staff_api, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = staff_api.post(
            f"/api/v1/model-versions/{platform_version.pk}/retrain/",
            {"activate": True},
            format="json",
        )

    new = ModelVersion.objects.exclude(pk=platform_version.pk).get()
    assert response.status_code == 202
    assert response.json()["poll"] == f"/api/v1/model-versions/{new.pk}/"
    assert len(callbacks) == 1
    assert_trained_like(new, platform_version)


def test_the_weekly_retrain_task(platform_version, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        queued = retrain_models_task.delay().get()

    new = ModelVersion.objects.exclude(pk=platform_version.pk).get()
    assert queued == [new.pk]
    assert len(callbacks) == 1
    assert_trained_like(new, platform_version)
