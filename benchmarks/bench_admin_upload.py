"""Time of the admin's Hong Kong upload request on the whole shared set (and of its job).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/hrp_bench REDIS_URL=redis://127.0.0.1:6379/9 \\
        .venv/bin/python benchmarks/bench_admin_upload.py

Posts both files to the race list's import page as a superuser, through Django's test client in
this process: the figure is the view's own time, without network or gunicorn. The database named
by DATABASE_URL is migrated and its race data deleted first: point it at a scratch database.

Where the view queues the import (REDIS_URL set, tasks not eager), the job is then run here too
(no worker needed), its time printed, and its message purged from the broker's queue: point
REDIS_URL at a database of Redis no worker reads. The script runs unchanged on code from before
the job existed, where the import ran inside the request: run it on such a checkout for the
"before" figure.
"""

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hrp_site.settings")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402

from races.models import Horse, Jockey, Race, Racecourse, Runner, Trainer  # noqa: E402

IMPORT_URL = "/admin/races/race/import-hkracing/"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared/data/hkracing")
    args = parser.parse_args()

    call_command("migrate", verbosity=0)
    for model in (Runner, Race, Horse, Jockey, Trainer, Racecourse):
        model.objects.all().delete()
    user, _ = get_user_model().objects.get_or_create(
        username="bench-admin", defaults={"is_staff": True, "is_superuser": True}
    )
    client = Client(HTTP_HOST="localhost")
    client.force_login(user)
    queued = "eager (in the request)" if settings.CELERY_TASK_ALWAYS_EAGER else "a broker"
    print(f"database: {connection.vendor} {connection.settings_dict['NAME']}; tasks: {queued}")
    print(f"cores: {os.cpu_count()}; load average: {os.getloadavg()[0]:.1f}")

    with (args.data / "races.csv").open("rb") as races, (args.data / "runs.csv").open("rb") as runs:
        started = time.perf_counter()
        response = client.post(IMPORT_URL, {"races_file": races, "runs_file": runs})
        request_s = time.perf_counter() - started
    where = response.headers.get("Location", "")
    print(f"admin request: {request_s:.2f} s, HTTP {response.status_code} -> {where}")
    print(f"races stored when the request returned: {Race.objects.count():,}")
    _job_run()


def _job_run() -> None:
    try:
        from races.models import HkracingUpload
        from races.tasks import import_hkracing_upload_task
    except ImportError:
        return  # code from before the job: the import ran in the request
    job = HkracingUpload.objects.latest("pk")
    if job.status == HkracingUpload.Status.QUEUED:
        from hrp_site.celery import app

        app.control.purge()  # the message the view sent; this run imports the job itself
        started = time.perf_counter()
        import_hkracing_upload_task.apply(kwargs={"upload_id": job.pk})
        print(f"the job, run afterwards as a worker would: {time.perf_counter() - started:.2f} s")
        job.refresh_from_db()
    print(f"job: {job.status}; {'; '.join(job.summary[4:6]) or job.error}")
    print(f"races stored: {Race.objects.count():,}")


if __name__ == "__main__":
    main()
