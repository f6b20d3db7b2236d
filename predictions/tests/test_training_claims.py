"""Who may train a version: the task that claimed it (again, after a crash or a retry), another
task only once the claim is stale, nobody after too many lost workers; the sweep and the admin
send lost trainings back."""

import datetime

import pytest
from celery.exceptions import TimeLimitExceeded
from django.urls import reverse
from django.utils import timezone

from predictions import tasks
from predictions.models import ModelVersion
from predictions.services.versions import (
    STALE_TRAINING,
    TRAINING_ATTEMPTS,
    model_version_claim,
)
from races.demo import demo_data_seed
from races.models import Operation

from .factories import ModelVersionFactory
from .sent import TRAIN, record_sent_tasks

pytestmark = pytest.mark.django_db

TODAY = datetime.date(2026, 5, 20)
LONG_AGO = datetime.timedelta(hours=1)


def training(task_id="task-a", started=None, status="training", **values) -> ModelVersion:
    return ModelVersionFactory(
        algorithm="market",
        train_until=TODAY - datetime.timedelta(days=1),
        status=status,
        task_id=task_id,
        started_at=started or timezone.now(),
        attempts=1,
        **values,
    )


def stale() -> datetime.datetime:
    return timezone.now() - STALE_TRAINING - LONG_AGO


def test_the_claiming_task_may_claim_again_and_no_other_task_may():
    version = training()

    assert model_version_claim(version_id=version.pk, task_id="task-a")
    assert not model_version_claim(version_id=version.pk, task_id="task-b")
    assert not model_version_claim(version_id=version.pk)

    version.refresh_from_db()
    assert (version.status, version.task_id, version.attempts) == ("training", "task-a", 2)


def test_a_stale_claim_is_taken_over_by_another_task():
    version = training(started=stale())

    assert model_version_claim(version_id=version.pk, task_id="task-b")

    version.refresh_from_db()
    assert (version.status, version.task_id, version.attempts) == ("training", "task-b", 2)
    assert version.started_at > timezone.now() - LONG_AGO


def test_a_ready_version_is_claimed_by_nobody():
    version = training(task_id="task-a")
    ModelVersion.objects.filter(pk=version.pk).update(status="ready")

    assert not model_version_claim(version_id=version.pk, task_id="task-a")
    version.refresh_from_db()
    assert (version.status, version.attempts) == ("ready", 1)


def test_a_training_that_lost_its_worker_too_often_is_failed():
    version = training(task_id="task-a")
    ModelVersion.objects.filter(pk=version.pk).update(attempts=TRAINING_ATTEMPTS)

    assert not model_version_claim(version_id=version.pk, task_id="task-a")

    version.refresh_from_db()
    assert version.status == "failed"
    assert version.error == "gave up after 5 attempts: its worker was lost each time"


def test_a_redelivered_task_trains_the_version_its_dead_worker_left_training():
    # given: task-a's worker died mid-training
    demo_data_seed(seed=5, today=TODAY, days_ahead=1, history_days=30)
    version = training(task_id="task-a")

    # when: another task arrives first, then task-a's redelivery
    other = tasks.train_model_task.apply(args=(version.pk,), task_id="task-b").get()
    again = tasks.train_model_task.apply(args=(version.pk,), task_id="task-a").get()

    # then
    version.refresh_from_db()
    assert other == {"version": version.pk, "status": "training", "trained": False}
    assert again == {"version": version.pk, "status": "ready", "trained": True}
    assert (version.status, version.task_id, version.attempts) == ("ready", "task-a", 2)


def test_the_hard_time_limit_fails_the_version_of_the_task_that_holds_it():
    version, taken_over = training(task_id="task-a"), training(task_id="task-b")
    limit = TimeLimitExceeded(60)

    for held in (version, taken_over):
        tasks.train_model_task.on_failure(limit, "task-a", (held.pk,), {}, None)

    version.refresh_from_db()
    taken_over.refresh_from_db()
    assert (version.status, version.error) == ("failed", "hard time limit of 60 s exceeded")
    assert (taken_over.status, taken_over.error) == ("training", "")


def test_the_hard_time_limit_fails_the_operation_that_asked_for_the_training():
    version = training(task_id="task-a")
    operation = Operation.objects.create(kind=Operation.Kind.MODEL_TRAIN)

    tasks.train_model_task.on_failure(
        TimeLimitExceeded(60), "task-a", (version.pk,), {"operation_id": operation.pk}, None
    )

    operation.refresh_from_db()
    assert (operation.status, operation.error) == ("failed", "hard time limit of 60 s exceeded")
    assert operation.finished_at is not None


def test_the_sweep_requeues_stale_trainings_and_long_queued_versions(
    monkeypatch, django_capture_on_commit_callbacks
):
    lost = training(task_id="task-a", started=stale(), activate_when_ready=True)
    running = training(task_id="task-b")
    never_delivered = training(task_id="", status="queued", queued_at=stale())
    waiting = training(task_id="", status="queued", queued_at=timezone.now())

    sent = record_sent_tasks(monkeypatch)

    with django_capture_on_commit_callbacks(execute=True):
        swept = tasks.requeue_lost_trainings_task()

    versions = {v.pk: v for v in ModelVersion.objects.all()}
    assert sorted(swept) == sorted([lost.pk, never_delivered.pk])
    lost, never_delivered = versions[lost.pk], versions[never_delivered.pk]
    assert (lost.status, lost.progress, lost.attempts) == (
        "queued",
        "re-queued: its task was lost",
        1,
    )
    assert lost.activate_when_ready
    assert lost.queued_at > timezone.now() - LONG_AGO
    assert never_delivered.status == "queued"
    assert never_delivered.queued_at > timezone.now() - LONG_AGO
    assert (versions[running.pk].status, versions[waiting.pk].progress) == ("training", "")
    assert sorted(sent) == sorted(
        [
            (TRAIN, (lost.pk,), {"activate": True}),
            (TRAIN, (never_delivered.pk,), {"activate": False}),
        ]
    )


def test_staff_resend_stuck_and_failed_versions_but_not_a_fresh_training(
    staff_client, monkeypatch, django_capture_on_commit_callbacks
):
    stuck = training(task_id="task-a", started=stale())
    failed = training(task_id="task-b", status="failed")
    running = training(task_id="task-c")
    ready = training(task_id="task-d", status="ready")
    selected = [stuck.pk, failed.pk, running.pk, ready.pk]
    sent = record_sent_tasks(monkeypatch)

    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(
            reverse("admin:predictions_modelversion_changelist"),
            {"action": "train", "_selected_action": selected},
            follow=True,
        )

    statuses = dict(ModelVersion.objects.values_list("pk", "status"))
    assert statuses == {
        stuck.pk: "queued",
        failed.pk: "queued",
        running.pk: "training",
        ready.pk: "ready",
    }
    assert ModelVersion.objects.get(pk=stuck.pk).attempts == 0
    assert sorted(sent) == [
        (TRAIN, (stuck.pk,), {"activate": False}),
        (TRAIN, (failed.pk,), {"activate": False}),
    ]
    assert sorted(str(m) for m in response.context["messages"]) == sorted(
        [
            "2 version(s) sent to the training queue.",
            f"{running} not sent: a worker may still be training it.",
            f"{ready} not sent: it is ready.",
        ]
    )


def test_staff_resend_through_the_api(staff_api, monkeypatch, django_capture_on_commit_callbacks):
    failed = training(task_id="task-a", status="failed", error="its worker was lost")
    running = training(task_id="task-b")
    url = reverse("model-version-train", args=[failed.pk])
    queued = record_sent_tasks(monkeypatch)

    with django_capture_on_commit_callbacks(execute=True):
        sent = staff_api.post(url)
        refused = staff_api.post(reverse("model-version-train", args=[running.pk]))

    failed.refresh_from_db()
    operation = Operation.objects.get()  # none for the refused one
    assert (sent.status_code, sent.json()["status"], sent.json()["poll"]) == (
        202,
        "queued",
        f"http://testserver/api/v1/operations/{operation.pk}/",
    )
    assert (operation.kind, operation.parameters) == ("model_train", {"model_version": failed.pk})
    assert (failed.status, failed.error) == ("queued", "")
    assert refused.status_code == 409
    assert refused.json()["detail"].endswith("a worker may still be training it.")
    assert queued == [(TRAIN, (failed.pk,), {"activate": False, "operation_id": operation.pk})]
