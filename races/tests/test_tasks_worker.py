"""A real Celery worker on Redis imports an upload that the admin stored.

Runs where the suite has PostgreSQL and Redis (CI): the worker is another process, which sees
the upload only through the database, as on App Platform.
"""

import os
import subprocess
import sys
import time
import uuid

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection

from races.models import HkracingUpload, Race, Runner
from races.tests.hkracing_csv import small_pair

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def celery_worker_process(tmp_path):
    if settings.CELERY_TASK_ALWAYS_EAGER or connection.vendor != "postgresql":
        pytest.skip("needs REDIS_URL and a PostgreSQL DATABASE_URL (a worker in another process)")
    db = connection.settings_dict
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        # Its own empty disk: the files reach it through the database only.
        "DJANGO_MEDIA_ROOT": str(tmp_path),
        "CELERY_TASK_ALWAYS_EAGER": "false",
    }
    from hrp_site.celery import app

    # Messages an earlier run left on the queue would name rows this database never had.
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
            "celery",
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
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if worker.poll() is not None:
                pytest.fail(f"the worker died:\n{worker.stdout.read()}")
            if app.control.ping(destination=[name.replace("%h", os.uname().nodename)], timeout=1):
                break
        else:
            pytest.fail("the worker did not answer within 60 s")
        yield worker
    finally:
        worker.terminate()
        try:
            worker.wait(timeout=30)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait(timeout=10)


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
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        job.refresh_from_db()
        if job.is_finished:
            break
        time.sleep(0.2)
    else:
        pytest.fail(f"the job was still {job.status} ({job.progress}) after 120 s")
    assert (job.status, job.error, job.attempts) == (HkracingUpload.Status.SUCCEEDED, "", 1)
    assert job.summary[4:6] == [
        "races: 3 created, 0 updated, 0 unchanged",
        "runners: 6 created, 0 updated, 0 unchanged",
    ]
    assert (Race.objects.count(), Runner.objects.count()) == (3, 6)
    page = staff_client.get(response.url).content.decode()
    assert "Succeeded" in page
