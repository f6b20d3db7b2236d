"""A real Celery worker on Redis imports an upload that the admin stored.

Runs where the suite has PostgreSQL (CI), with a private Redis as the broker: the worker is
another process, which sees the upload only through the database, as on App Platform.
"""

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile

from hrp_site.testing.processes import wait_for
from races.models import HkracingUpload, Race, Runner
from races.tests.hkracing_csv import small_pair

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def celery_worker_process(celery_workers, publish_to_private_redis, tmp_path):
    return celery_workers(
        time_limit=settings.CELERY_TASK_TIME_LIMIT,
        pool="solo",
        queues="celery",
        # Its own empty disk: the files reach it through the database only.
        env={"DJANGO_MEDIA_ROOT": str(tmp_path / "worker-media")},
    )


def test_a_worker_imports_an_upload_made_in_the_admin(celery_worker_process, staff_client):
    # given
    races_csv, runs_csv = small_pair()

    # when: staff upload the pair; the request only stores it and queues the job
    response = staff_client.post(
        "/admin/races/race/import-hkracing/",
        {
            "races_file": SimpleUploadedFile("races.csv", races_csv.encode()),
            "runs_file": SimpleUploadedFile("runs.csv", runs_csv.encode()),
        },
    )
    job = HkracingUpload.objects.get()
    assert response.status_code == 302
    assert response.url == f"/admin/races/hkracingupload/{job.pk}/change/"

    # then: the job ends (polled in the database, as the admin page shows it)
    def finished() -> bool:
        job.refresh_from_db()
        return job.is_finished

    wait_for(finished, timeout=120, what=f"the job {job.pk}")
    assert (job.status, job.error, job.attempts) == (HkracingUpload.Status.SUCCEEDED, "", 1)
    assert job.summary[4:6] == [
        "races: 3 created, 0 updated, 0 unchanged",
        "runners: 6 created, 0 updated, 0 unchanged",
    ]
    assert (Race.objects.count(), Runner.objects.count()) == (3, 6)
    page = staff_client.get(response.url).content.decode()
    assert "Succeeded" in page
