"""Staff uploads of the Hong Kong pair: stored in the database, imported by a worker."""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.db import connection
from django.utils import timezone

from hrp_site.queueing import task_send_on_commit
from races import hkracing
from races.models import HkracingUpload

from .hkracing_import import HkracingImportRejected, hkracing_import
from .jobs import DATABASE_TRANSIENT, job_end, jobs_expire

# pg_try_advisory_lock's key space for "a worker is running upload n": the session holding it
# is alive, since PostgreSQL drops a session's locks when its connection goes.
HKRACING_UPLOAD_LOCK = 4_807_302
# A job whose worker was lost this many times (killed mid-import, say by the OOM killer) is
# failed rather than handed to yet another worker.
HKRACING_UPLOAD_MAX_ATTEMPTS = 3
UPLOAD_TRANSIENT = DATABASE_TRANSIENT
# A job still queued or running this long after it was uploaded has no worker left to end it:
# its message was lost, or a hard time limit killed its last attempt (Celery acks that one).
# Three attempts take 10 minutes each at most (the task's time limit) and 30 s between them.
UPLOAD_STALE_AFTER = datetime.timedelta(hours=2)


def hkracing_upload_create(
    *,
    races_name: str,
    races_data: bytes,
    runs_name: str,
    runs_data: bytes,
    uploaded_by: Any = None,
) -> HkracingUpload:
    """Store a staff upload of the pair and import it in the background, after the commit.

    If the broker cannot take the task the job is failed at once with the reason and
    `QueueingError` is raised (see `task_send_on_commit`: from here outside a transaction).
    """
    # Celery's documented pattern: the tasks module imports this one, so the task is imported here.
    from races.tasks import import_hkracing_upload_task

    upload = HkracingUpload.objects.create(
        races_name=races_name,
        races_data=races_data,
        runs_name=runs_name,
        runs_data=runs_data,
        uploaded_by=uploaded_by,
    )
    task_send_on_commit(
        import_hkracing_upload_task,
        upload_id=upload.pk,
        on_error=lambda exc: _hkracing_upload_end(
            upload, status=HkracingUpload.Status.FAILED, error=str(exc)
        ),
    )
    return upload


def hkracing_upload_import(*, upload_id: int, will_retry: bool = False) -> HkracingUpload:
    """Import a stored upload: the job's one run, whoever delivers its task.

    A job that already ended, or that a live worker is importing, is returned as it is. A job
    left running by a lost worker is taken over (the import is all or nothing, so its first
    attempt wrote nothing), up to HKRACING_UPLOAD_MAX_ATTEMPTS. Rejected files end the job failed
    with their errors; any other error too, unless it is transient and `will_retry`.
    """
    with _hkracing_upload_claim(upload_id=upload_id) as upload:
        if upload is None:
            return HkracingUpload.objects.defer("races_data", "runs_data").get(pk=upload_id)
        data = HkracingUpload.objects.values("races_data", "runs_data").get(pk=upload_id)
        try:
            report = hkracing_import(
                races_file=hkracing.bytes_open(data["races_data"]),
                runs_file=hkracing.bytes_open(data["runs_data"]),
                races_name=upload.races_name,
                runs_name=upload.runs_name,
                on_progress=lambda text: _hkracing_upload_progress(upload, text),
            )
        except HkracingImportRejected as exc:
            _hkracing_upload_end(
                upload,
                status=HkracingUpload.Status.FAILED,
                error=f"Nothing was imported: {exc}",
                errors=[str(error) for error in exc.errors],
            )
            return upload
        except Exception as exc:
            if will_retry and isinstance(exc, UPLOAD_TRANSIENT):
                _hkracing_upload_progress(upload, f"this attempt failed and will be retried: {exc}")
            else:
                error = f"Nothing was imported: {str(exc) or type(exc).__name__}"
                _hkracing_upload_end(upload, status=HkracingUpload.Status.FAILED, error=error)
            raise
        _hkracing_upload_end(
            upload, status=HkracingUpload.Status.SUCCEEDED, summary=report.summary_lines()
        )
        return upload


@contextmanager
def _hkracing_upload_claim(*, upload_id: int) -> Iterator[HkracingUpload | None]:
    """Claim an upload for this worker: yields the job, marked running, or None when there is
    nothing to do; on PostgreSQL holds the job's session lock until the block ends."""
    locked = False
    try:
        upload = HkracingUpload.objects.defer("races_data", "runs_data").get(pk=upload_id)
        if upload.is_finished:
            yield None  # a redelivery of a job that ended
            return
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT pg_try_advisory_lock(%s, %s)", [HKRACING_UPLOAD_LOCK, upload_id]
                )
                locked = cursor.fetchone()[0]
            if not locked:
                yield None  # a live worker is importing it (a duplicate delivery)
                return
            upload.refresh_from_db(fields=["status", "attempts"])
            if upload.is_finished:
                yield None
                return
        yield _hkracing_upload_start(upload)
    finally:
        if locked:
            try:
                with connection.cursor() as cursor:
                    cursor.execute(
                        "SELECT pg_advisory_unlock(%s, %s)", [HKRACING_UPLOAD_LOCK, upload_id]
                    )
            except UPLOAD_TRANSIENT:
                pass  # the connection is gone, and the session's locks with it


def _hkracing_upload_start(upload: HkracingUpload) -> HkracingUpload | None:
    unfinished = upload.status == HkracingUpload.Status.RUNNING  # a lost worker, or a retry
    if unfinished and upload.attempts >= HKRACING_UPLOAD_MAX_ATTEMPTS:
        error = (
            f"Nothing was imported: none of its {upload.attempts} attempts finished (was the "
            "worker killed? the files may need more memory or time than a worker has)"
        )
        _hkracing_upload_end(upload, status=HkracingUpload.Status.FAILED, error=error)
        return None
    upload.status = HkracingUpload.Status.RUNNING
    upload.attempts += 1
    upload.started_at = timezone.now()
    upload.progress = f"attempt {upload.attempts}: reading the files"
    upload.save(update_fields=["status", "attempts", "started_at", "progress"])
    return upload


def hkracing_uploads_expire(*, now: datetime.datetime | None = None) -> int:
    """Fail the uploads that no worker will end (see UPLOAD_STALE_AFTER)."""
    return jobs_expire(
        HkracingUpload,
        since="uploaded_at",
        stale_after=UPLOAD_STALE_AFTER,
        error=f"Nothing was imported: no worker ended the import within {UPLOAD_STALE_AFTER}",
        now=now,
        progress="",
    )


def _hkracing_upload_progress(upload: HkracingUpload, text: str) -> None:
    upload.progress = text[:200]
    HkracingUpload.objects.filter(pk=upload.pk).update(progress=upload.progress)


def _hkracing_upload_end(upload: HkracingUpload, *, status: str, **outcome: Any) -> None:
    job_end(upload, status=status, progress="", **outcome)
