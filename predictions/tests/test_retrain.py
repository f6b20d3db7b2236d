"""Retraining versions the platform trained itself (with `train_model`): from the admin, the API
and the weekly beat task, each new version trains to ready.

A retrain learns from every race settled before today, so the demo's races are laid out around
the real today: the tests hold whatever the date."""

import datetime
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from predictions.models import ModelVersion
from predictions.tasks import retrain_models_task
from races.demo import demo_data_seed
from races.models import Operation

from .sent import TRAIN, record_sent_tasks

pytestmark = pytest.mark.django_db


@pytest.fixture
def today() -> datetime.date:
    """The demo's races up to yesterday have results, today's and tomorrow's are declared."""
    day = timezone.localdate()
    demo_data_seed(seed=5, today=day, days_ahead=1, history_days=45)
    return day


def train_model(*args: str) -> ModelVersion:
    out = StringIO()
    call_command("train_model", *args, stdout=out, stderr=StringIO())
    return ModelVersion.objects.get(pk=int(out.getvalue()))


@pytest.fixture
def platform_version(today, celery_eager) -> ModelVersion:
    """An active logit version trained by `train_model` with a seed of its own, on the demo's
    results up to ten days before its last."""
    return train_model(
        "--algorithm=logit",
        f"--train-until={today - datetime.timedelta(days=10)}",
        "--seed=7",
        "--activate",
    )


def assert_trained_like(new: ModelVersion, old: ModelVersion, *, today: datetime.date) -> None:
    new.refresh_from_db()
    old.refresh_from_db()
    assert (new.status, new.error) == ("ready", "")
    assert (new.algorithm, new.train_until, new.seed) == (
        "logit",
        today - datetime.timedelta(days=1),
        7,
    )
    assert new.hyperparameters == old.hyperparameters == {"l2": 1e-3, "missing_indicators": True}
    assert (new.is_active, old.is_active) == (True, False)


def test_the_admin_retrain_action(
    platform_version, today, staff_client, monkeypatch, django_capture_on_commit_callbacks
):
    sent = record_sent_tasks(monkeypatch, run=True)

    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(
            "/admin/predictions/modelversion/",
            {"action": "retrain", "_selected_action": [platform_version.pk]},
        )

    new = ModelVersion.objects.exclude(pk=platform_version.pk).get()
    assert response.status_code == 302
    assert sent == [(TRAIN, (new.pk,), {"activate": True})]
    assert_trained_like(new, platform_version, today=today)


def test_the_api_retrain_operation(
    platform_version, today, staff_api, monkeypatch, django_capture_on_commit_callbacks
):
    sent = record_sent_tasks(monkeypatch, run=True)

    with django_capture_on_commit_callbacks(execute=True):
        response = staff_api.post(
            f"/api/v1/model-versions/{platform_version.pk}/retrain/",
            {"activate": True},
            format="json",
        )

    new = ModelVersion.objects.exclude(pk=platform_version.pk).get()
    operation = Operation.objects.get()
    assert response.status_code == 202
    assert response.json()["poll"] == f"http://testserver/api/v1/operations/{operation.pk}/"
    assert sent == [(TRAIN, (new.pk,), {"activate": True, "operation_id": operation.pk})]
    assert_trained_like(new, platform_version, today=today)
    # and the poll says it is done, with the version it trained
    polled = staff_api.get(response.json()["poll"]).json()
    assert (polled["status"], polled["error"]) == ("done", "")
    assert polled["outcome"] == {"version": new.pk, "status": "ready", "trained": True}
    assert polled["started_at"] <= polled["finished_at"]


def test_the_weekly_retrain_task(
    platform_version, today, monkeypatch, django_capture_on_commit_callbacks
):
    sent = record_sent_tasks(monkeypatch, run=True)

    with django_capture_on_commit_callbacks(execute=True):
        queued = retrain_models_task.delay().get()

    new = ModelVersion.objects.exclude(pk=platform_version.pk).get()
    assert queued == [new.pk]
    assert sent == [(TRAIN, (new.pk,), {"activate": True})]
    assert_trained_like(new, platform_version, today=today)


def test_the_weekly_retrain_queues_each_stale_active_model_once(
    today, monkeypatch, django_capture_on_commit_callbacks
):
    # given: an active market version ten days behind the results
    stale = train_model(
        "--algorithm=market", f"--train-until={today - datetime.timedelta(days=10)}", "--activate"
    )
    sent = record_sent_tasks(monkeypatch)

    # when: the beat runs the task twice before any worker took the first training
    with django_capture_on_commit_callbacks(execute=True):
        first = retrain_models_task()
        second = retrain_models_task()

    # then
    new = ModelVersion.objects.exclude(pk=stale.pk).get()
    assert first == [new.pk]
    assert (new.algorithm, new.status, new.train_until) == (
        "market",
        "queued",
        today - datetime.timedelta(days=1),
    )
    assert second == []
    assert sent == [(TRAIN, (new.pk,), {"activate": True})]
