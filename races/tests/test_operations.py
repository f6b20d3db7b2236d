"""Operations: what the API's 202s answer with, followed from queued to done or failed by the
tasks that do the work, and read back by the staff who asked."""

import datetime

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from hrp_site.testing.sent import record_sent_tasks
from races.models import Operation, ProviderSync
from races.services.operations import (
    OPERATION_STALE_AFTER,
    operation_create,
    operation_end,
    operation_start,
    operations_expire,
)
from races.tasks import sync_provider_task
from races.tests.providers.recorded import DAY

SYNC_URL = "/api/v1/providers/theracingapi/sync/"


def operation(user=None, **fields) -> Operation:
    queued = operation_create(
        kind=Operation.Kind.PROVIDER_SYNC,
        requested_by=user,
        parameters={"provider": "theracingapi", "day": "2025-12-17"},
    )
    Operation.objects.filter(pk=queued.pk).update(**fields)
    queued.refresh_from_db()
    return queued


@pytest.mark.django_db
def test_a_sync_asked_for_by_staff_runs_to_done_and_its_poll_says_what_it_did(
    staff_api, racingapi_settings, celery_eager, django_capture_on_commit_callbacks
):
    # when: staff ask for a sync, which a worker (here in-process) runs after the commit
    with django_capture_on_commit_callbacks(execute=True):
        response = staff_api.post(SYNC_URL, {"day": DAY.isoformat()}, format="json")
    polled = staff_api.get(response.json()["poll"])

    # then: the 202 said queued; the poll says done, with the sync's counts
    sync = ProviderSync.objects.get()
    assert (response.status_code, response.json()["status"]) == (202, "queued")
    assert polled.status_code == 200
    body = polled.json()
    assert (body["kind"], body["status"], body["error"]) == ("provider_sync", "done", "")
    assert body["parameters"] == {"provider": "theracingapi", "day": DAY.isoformat()}
    assert body["outcome"]["sync"] == sync.pk
    assert body["outcome"]["races_created"] == sync.counts["races_created"] > 0
    assert body["started_at"] is not None
    assert body["started_at"] <= body["finished_at"]


@pytest.mark.django_db
def test_a_sync_that_fails_fails_its_operation_with_the_reason(
    staff_api, racingapi_settings, monkeypatch, django_capture_on_commit_callbacks
):
    # given: a sync queued, then the provider refuses the credentials (a 401 is no transient
    # error: no retry)
    sent = record_sent_tasks(monkeypatch, sync_provider_task)
    with django_capture_on_commit_callbacks(execute=True):
        response = staff_api.post(SYNC_URL, {"day": DAY.isoformat()}, format="json")
    racingapi_settings.THERACINGAPI_PASSWORD = "wrong"

    # when: the worker runs the task sent
    [(_, args, kwargs)] = sent
    sync_provider_task.apply(args=args, kwargs=kwargs, throw=False)

    # then
    body = staff_api.get(response.json()["poll"]).json()
    assert body["status"] == "failed"
    assert "HTTP 401" in body["error"]
    assert body["outcome"] == {}
    assert ProviderSync.objects.get().status == ProviderSync.Status.FAILED


@pytest.mark.django_db
def test_a_task_that_crashes_fails_its_operation(celery_eager, monkeypatch):
    # given: a bug in the service the task calls
    def crash(**kwargs):
        raise ZeroDivisionError("division by zero")

    monkeypatch.setattr("races.tasks.provider_sync", crash)
    queued = operation()

    # when
    result = sync_provider_task.apply(
        kwargs={"provider": "theracingapi", "day": "2025-12-17", "operation_id": queued.pk},
        throw=False,
    )

    # then
    queued.refresh_from_db()
    assert result.failed()
    assert (queued.status, queued.error) == ("failed", "division by zero")
    assert queued.finished_at is not None


@pytest.mark.django_db
def test_an_ended_operation_is_never_rewritten():
    # given: an operation that ended done
    done = operation()
    operation_start(operation_id=done.pk)
    operation_end(operation_id=done.pk, outcome={"sync": 1})
    done.refresh_from_db()
    ended = (done.status, done.outcome, done.started_at, done.finished_at)

    # when: a redelivered task starts and fails it again
    operation_start(operation_id=done.pk)
    operation_end(operation_id=done.pk, error="a second run")

    # then
    done.refresh_from_db()
    assert (done.status, done.outcome, done.started_at, done.finished_at) == ended
    assert ended[:2] == ("done", {"sync": 1})


@pytest.mark.django_db
def test_operations_no_task_will_end_are_failed():
    now = timezone.now()
    stale = operation(created_at=now - OPERATION_STALE_AFTER - datetime.timedelta(minutes=1))
    stale_running = operation(
        status=Operation.Status.RUNNING,
        created_at=now - OPERATION_STALE_AFTER - datetime.timedelta(minutes=1),
    )
    fresh = operation()
    ended = operation(status=Operation.Status.DONE, created_at=now - OPERATION_STALE_AFTER * 2)

    assert operations_expire(now=now) == 2

    statuses = dict(Operation.objects.values_list("pk", "status"))
    assert statuses == {
        stale.pk: "failed",
        stale_running.pk: "failed",
        fresh.pk: "queued",
        ended.pk: "done",
    }
    stale.refresh_from_db()
    assert stale.error.startswith("no worker ended this operation")


@pytest.mark.django_db
def test_staff_read_only_the_operations_they_asked_for(api_client):
    # given: two staff (not superusers), each with an operation
    users = get_user_model().objects
    alice = users.create_user(username="alice", password="a-long-password-1", is_staff=True)
    bob = users.create_user(username="bob", password="a-long-password-2", is_staff=True)
    hers, his = operation(alice), operation(bob)
    api_client.force_login(alice)

    # when
    own = api_client.get(f"/api/v1/operations/{hers.pk}/")
    other = api_client.get(f"/api/v1/operations/{his.pk}/")
    listed = api_client.get("/api/v1/operations/")

    # then
    assert (own.status_code, other.status_code) == (200, 404)
    assert [row["id"] for row in listed.json()["results"]] == [hers.pk]


@pytest.mark.django_db
def test_a_superuser_reads_every_operation(staff_api, member_user):
    theirs = operation(member_user)

    response = staff_api.get("/api/v1/operations/", {"kind": "provider_sync"})

    assert response.status_code == 200
    assert [row["id"] for row in response.json()["results"]] == [theirs.pk]


@pytest.mark.django_db
def test_members_and_anonymous_clients_cannot_read_operations(member_api, member_user):
    mine = operation(member_user)

    member = member_api.get(f"/api/v1/operations/{mine.pk}/")
    member_api.logout()
    anonymous = member_api.get(f"/api/v1/operations/{mine.pk}/")

    assert (member.status_code, anonymous.status_code) == (403, 401)
