"""Staff uploads of the Hong Kong pair: stored in the database, imported by a task."""

import contextlib
import datetime
import threading
import time

import psycopg2
import pytest
from django.db import connection, connections
from django.urls import reverse
from django.utils import timezone

from hrp_site.testing.required import require_postgresql
from hrp_site.testing.sent import record_sent_tasks
from races.models import HkracingUpload, Race, Runner
from races.services.hkracing_import import HKRACING_IMPORT_LOCK
from races.services.hkracing_uploads import (
    HKRACING_UPLOAD_LOCK,
    hkracing_upload_create,
    hkracing_upload_import,
)
from races.tasks import expire_hkracing_uploads_task, import_hkracing_upload_task
from races.tests.hkracing_csv import RUN_HEADER, run_row, small_pair, to_csv

RACES_CSV, RUNS_CSV = small_pair()
IMPORT_URL = "/admin/races/race/import-hkracing/"


def _stored(races=RACES_CSV, runs=RUNS_CSV, **fields):
    """An upload as the admin stores it, its task not sent (the test runs it)."""
    upload = HkracingUpload.objects.create(
        races_name="races.csv",
        races_data=races.encode(),
        runs_name="runs.csv",
        runs_data=runs.encode(),
    )
    if fields:
        HkracingUpload.objects.filter(pk=upload.pk).update(**fields)
    return upload


def _run(upload, **options):
    return import_hkracing_upload_task.apply(kwargs={"upload_id": upload.pk}, **options)


def _job(upload):
    return HkracingUpload.objects.get(pk=upload.pk)


def _needs_postgresql():
    require_postgresql("advisory locks and concurrent sessions need PostgreSQL")


def _other_session():
    """A PostgreSQL session of its own, as another worker would have."""
    db = connection.settings_dict
    session = psycopg2.connect(
        dbname=db["NAME"], user=db["USER"], host=db["HOST"], port=db["PORT"] or 5432
    )
    session.autocommit = True
    return session


@pytest.mark.django_db
def test_the_upload_service_stores_both_files_in_the_database_and_queues_after_the_commit(
    staff_user, django_capture_on_commit_callbacks, monkeypatch
):
    sent = record_sent_tasks(monkeypatch, import_hkracing_upload_task)

    # when
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        upload = hkracing_upload_create(
            races_name="r.csv",
            races_data=RACES_CSV.encode(),
            runs_name="u.csv",
            runs_data=RUNS_CSV.encode(),
            uploaded_by=staff_user,
        )

    # then
    stored = _job(upload)
    assert (bytes(stored.races_data), bytes(stored.runs_data)) == (
        RACES_CSV.encode(),
        RUNS_CSV.encode(),
    )
    assert (stored.status, stored.uploaded_by, stored.attempts) == ("queued", staff_user, 0)
    assert len(callbacks) == 1  # sent from the commit's callback, not before
    assert sent == [(import_hkracing_upload_task.name, (), {"upload_id": upload.pk})]
    assert Race.objects.count() == 0


@pytest.mark.django_db
def test_the_task_imports_a_stored_upload(staff_user):
    # given
    upload = _stored()

    # when
    result = _run(upload)

    # then
    job = _job(upload)
    assert result.result == {"upload": upload.pk, "status": "succeeded"}
    assert (job.status, job.attempts, job.progress, job.error, job.errors) == (
        HkracingUpload.Status.SUCCEEDED,
        1,
        "",
        "",
        [],
    )
    assert job.summary[4:6] == [
        "races: 3 created, 0 updated, 0 unchanged",
        "runners: 6 created, 0 updated, 0 unchanged",
    ]
    assert job.started_at <= job.finished_at
    assert (Race.objects.count(), Runner.objects.count()) == (3, 6)


@pytest.mark.django_db
def test_a_redelivered_job_that_succeeded_does_nothing():
    # given
    upload = _stored()
    _run(upload)
    stamps = sorted(Runner.objects.values_list("pk", "updated_at"))
    done = _job(upload)

    # when
    result = _run(upload)

    # then
    again = _job(upload)
    assert result.result == {"upload": upload.pk, "status": "succeeded"}
    assert (again.attempts, again.finished_at, again.summary) == (1, done.finished_at, done.summary)
    assert sorted(Runner.objects.values_list("pk", "updated_at")) == stamps


@pytest.mark.django_db
def test_a_job_left_running_by_a_lost_worker_is_taken_over():
    # given: a job whose worker died mid-import (no session holds its lock any more)
    upload = _stored(status=HkracingUpload.Status.RUNNING, attempts=1, progress="checking")

    # when
    _run(upload)

    # then
    job = _job(upload)
    assert (job.status, job.attempts) == (HkracingUpload.Status.SUCCEEDED, 2)
    assert Race.objects.count() == 3


@pytest.mark.django_db
def test_a_job_none_of_whose_attempts_finished_is_failed_without_a_fourth():
    # given
    upload = _stored(status=HkracingUpload.Status.RUNNING, attempts=3)

    # when
    result = _run(upload)

    # then
    job = _job(upload)
    assert result.result == {"upload": upload.pk, "status": "failed"}
    assert (job.status, job.attempts) == (HkracingUpload.Status.FAILED, 3)
    assert job.error == (
        "Nothing was imported: none of its 3 attempts finished (was the worker killed? the "
        "files may need more memory or time than a worker has)"
    )
    assert Race.objects.count() == 0


@pytest.mark.django_db
def test_a_job_that_a_live_worker_is_importing_is_left_to_it():
    _needs_postgresql()
    # given: another session (a live worker) holds the job
    upload = _stored(status=HkracingUpload.Status.RUNNING, attempts=1)
    other = _other_session()
    try:
        other.cursor().execute("SELECT pg_advisory_lock(%s, %s)", [HKRACING_UPLOAD_LOCK, upload.pk])

        # when: a duplicate delivery
        result = _run(upload)
    finally:
        other.close()

    # then
    job = _job(upload)
    assert result.result == {"upload": upload.pk, "status": "running"}
    assert (job.status, job.attempts) == (HkracingUpload.Status.RUNNING, 1)
    assert Race.objects.count() == 0


@pytest.mark.django_db
def test_rejected_files_fail_the_job_with_their_lines_and_leave_the_race_tables_unchanged():
    # given: the pair imported, then a changed pair with a runner of an unknown race
    _run(_stored())
    before = [sorted(m.objects.values_list("pk", "updated_at")) for m in (Race, Runner)]
    runs = to_csv(RUN_HEADER, [run_row(0, 1, 2), run_row(0, 2, 1), run_row(7, 1, 1)])
    upload = _stored(runs=runs)

    # when
    result = _run(upload)

    # then
    job = _job(upload)
    assert result.result == {"upload": upload.pk, "status": "failed"}
    assert job.errors == ["runs.csv, line 4, column race_id: race 7 is not in races.csv"]
    assert job.error == (
        "Nothing was imported: 1 error in the upload; the first: runs.csv, line 4, "
        "column race_id: race 7 is not in races.csv"
    )
    assert job.summary == []
    after = [sorted(m.objects.values_list("pk", "updated_at")) for m in (Race, Runner)]
    assert after == before


@contextlib.contextmanager
def _writing_turn_taken():
    """Another session holds the imports' writing turn; this one waits for it 100 ms at most."""
    other = _other_session()
    try:
        other.autocommit = False
        other.cursor().execute("SELECT pg_advisory_xact_lock(%s)", [HKRACING_IMPORT_LOCK])
        with connection.cursor() as cursor:
            cursor.execute("SET lock_timeout = '100ms'")
        yield
    finally:
        other.close()
        with connection.cursor() as cursor:
            cursor.execute("RESET lock_timeout")


@pytest.mark.django_db
def test_a_database_error_keeps_the_job_running_until_the_last_attempt_fails_it(eager_retries):
    _needs_postgresql()
    # given: another import holds the writing turn, and this session waits 100 ms at most
    upload = _stored()
    with _writing_turn_taken():
        # when: the task and its retries, in turn
        result = _run(upload)

    # then: every attempt ran on the one job, and the last failed it
    job = _job(upload)
    assert type(result.result).__name__ == "OperationalError"
    assert (job.status, job.attempts) == (HkracingUpload.Status.FAILED, 3)
    assert job.error == "Nothing was imported: canceling statement due to lock timeout\n"
    assert Race.objects.count() == 0


@pytest.mark.django_db
def test_a_database_error_on_an_attempt_that_will_be_retried_says_so():
    _needs_postgresql()

    upload = _stored()
    with _writing_turn_taken(), pytest.raises(Exception, match="lock timeout"):
        hkracing_upload_import(upload_id=upload.pk, will_retry=True)

    job = _job(upload)
    assert (job.status, job.attempts, job.finished_at) == (HkracingUpload.Status.RUNNING, 1, None)
    assert job.progress == (
        "this attempt failed and will be retried: canceling statement due to lock timeout\n"
    )


# Two imports at once take turns (PostgreSQL: real sessions in threads)


def _run_in_thread(upload, results):
    def target():
        try:
            results.append(_run(upload, throw=False).result)
        finally:
            connections.close_all()

    thread = threading.Thread(target=target)
    thread.start()
    return thread


def _wait_for(predicate, timeout=30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    pytest.fail(f"not within {timeout} s")


@pytest.mark.django_db(transaction=True)
def test_an_import_waits_while_another_one_is_writing():
    _needs_postgresql()
    # given: another import is writing
    upload = _stored()
    other = _other_session()
    other.autocommit = False
    other.cursor().execute("SELECT pg_advisory_xact_lock(%s)", [HKRACING_IMPORT_LOCK])
    results = []
    try:
        # when
        thread = _run_in_thread(upload, results)

        # then: checked, then waiting for its turn without writing a row
        _wait_for(lambda: _job(upload).progress.startswith("checked 3 races and 6 runners"))
        time.sleep(0.5)
        assert (_job(upload).status, Race.objects.count()) == ("running", 0)
        assert results == []
    finally:
        other.commit()  # the other import ends
        other.close()
    thread.join(timeout=60)

    # and then it writes
    assert results == [{"upload": upload.pk, "status": "succeeded"}]
    assert (Race.objects.count(), Runner.objects.count()) == (3, 6)


@pytest.mark.django_db(transaction=True)
def test_two_uploads_of_the_same_pair_at_once_import_one_after_the_other():
    _needs_postgresql()
    # given
    uploads = [_stored(), _stored()]
    results = []

    # when
    threads = [_run_in_thread(upload, results) for upload in uploads]
    for thread in threads:
        thread.join(timeout=60)

    # then: both succeed; one created the rows, the other found them all
    assert sorted(r["status"] for r in results) == ["succeeded", "succeeded"]
    race_lines = sorted(_job(upload).summary[4] for upload in uploads)
    assert race_lines == [
        "races: 0 created, 0 updated, 3 unchanged",
        "races: 3 created, 0 updated, 0 unchanged",
    ]
    assert (Race.objects.count(), Runner.objects.count()) == (3, 6)


# The broker down when the upload is queued


@pytest.mark.django_db(transaction=True)
def test_an_upload_the_broker_cannot_take_is_failed_and_the_admin_says_so(
    staff_client, broker_down
):
    # when
    response = staff_client.post(
        IMPORT_URL,
        {
            "races_file": _file("races.csv", RACES_CSV),
            "runs_file": _file("runs.csv", RUNS_CSV),
        },
        follow=True,
    )

    # then
    job = HkracingUpload.objects.get()
    assert response.redirect_chain == [
        (reverse("admin:races_hkracingupload_change", args=[job.pk]), 302)
    ]
    assert job.status == HkracingUpload.Status.FAILED
    assert job.error.startswith(f"{broker_down}.")
    [(level, message)] = [(m.level_tag, m.message) for m in response.context["messages"]]
    assert level == "error"
    assert message.startswith(f"The upload was stored but {broker_down}.")
    assert message.endswith("; nothing was imported.")
    assert Race.objects.count() == 0


def _file(name, text):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, text.encode(), content_type="text/csv")


# The shared data set


@pytest.mark.django_db
def test_the_shared_data_set_imports_through_a_stored_upload(shared_data_dir):
    # given
    folder = shared_data_dir / "hkracing"
    races_csv = (folder / "races.csv").read_text(encoding="utf-8-sig")
    runs_csv = (folder / "runs.csv").read_text(encoding="utf-8-sig")
    upload = _stored(races=races_csv, runs=runs_csv)

    # when
    _run(upload)

    # then
    job = _job(upload)
    assert job.status == HkracingUpload.Status.SUCCEEDED
    races = len(races_csv.splitlines()) - 1
    runners = len(runs_csv.splitlines()) - 1
    assert job.summary[4:6] == [
        f"races: {races} created, 0 updated, 0 unchanged",
        f"runners: {runners} created, 0 updated, 0 unchanged",
    ]
    assert (Race.objects.count(), Runner.objects.count()) == (races, runners)


@pytest.mark.django_db
def test_uploads_no_worker_will_end_are_failed_by_the_beat():
    # given: a job queued 3 hours ago whose message was lost, one whose last worker was killed,
    # and a fresh one
    old = timezone.now() - datetime.timedelta(hours=3)
    lost = _stored(uploaded_at=old)
    killed = _stored(uploaded_at=old, status=HkracingUpload.Status.RUNNING, attempts=1)
    fresh = _stored()

    # when
    expire_hkracing_uploads_task.apply()

    # then
    for upload in (lost, killed):
        job = _job(upload)
        assert (job.status, job.error) == (
            HkracingUpload.Status.FAILED,
            "Nothing was imported: no worker ended the import within 2:00:00",
        )
    assert _job(fresh).status == HkracingUpload.Status.QUEUED


@pytest.mark.django_db
def test_the_uploads_changelist_shows_each_job_with_its_status_and_outcome(staff_client):
    # given
    _run(_stored())
    _stored(status=HkracingUpload.Status.FAILED, error="Nothing was imported: 1 error")

    # when
    response = staff_client.get(reverse("admin:races_hkracingupload_changelist"))

    # then
    page = response.content.decode()
    assert response.status_code == 200
    assert "races: 3 created, 0 updated, 0 unchanged; runners: 6 created" in page
    assert "Nothing was imported: 1 error" in page
    assert page.count("races.csv, runs.csv") == 2
