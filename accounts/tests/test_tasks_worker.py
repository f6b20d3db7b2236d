"""A real Celery worker on Redis e-mails a followed horse's result after a Hong Kong import.

Runs where the suite has PostgreSQL (CI), with a private Redis as the broker: the import runs
here, its signal sends the alert task after the commit, and the worker (another process, with
the console e-mail backend) sends the e-mail and records it in the database.
"""

import datetime

import pytest
from django.conf import settings
from django.core.management import call_command
from django.utils import timezone

from accounts.models import SentAlert
from accounts.tests.factories import UserFactory, WatchlistEntryFactory
from hrp_site.testing.processes import wait_for
from races.models import Horse
from races.tests.hkracing_csv import RACE_HEADER, RUN_HEADER, race_row, run_row, to_csv

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def celery_worker_process(celery_workers, publish_to_private_redis):
    return celery_workers(
        time_limit=settings.CELERY_TASK_TIME_LIMIT,
        pool="solo",
        queues="celery",
        env={
            "DJANGO_EMAIL_BACKEND": "django.core.mail.backends.console.EmailBackend",
            "HRP_SITE_URL": "https://hrp.example.com",
        },
    )


def _import(folder, race_id: int, day: datetime.date) -> None:
    races = to_csv(RACE_HEADER, [race_row(race_id, date=day.isoformat())])
    runs = to_csv(RUN_HEADER, [run_row(race_id, 1, 1), run_row(race_id, 2, 2)])
    (folder / "races.csv").write_text(races)
    (folder / "runs.csv").write_text(runs)
    call_command("import_hkracing", folder, stdout=open("/dev/null", "w"))  # noqa: SIM115


def test_a_worker_e_mails_the_result_an_import_brought(celery_worker_process, tmp_path):
    # given: a horse from an earlier import, followed with result alerts
    today = timezone.localdate()
    _import(tmp_path, 0, today - datetime.timedelta(days=7))
    horse = Horse.objects.get(external_id="1002")
    entry = WatchlistEntryFactory(
        user=UserFactory(username="carol"),
        horse=horse,
        alert_result=True,
        alerts_since=today,
    )

    # when: today's result is imported; the import only sends the task
    _import(tmp_path, 1, today)

    # then: the worker sent the e-mail once and recorded it
    sent = SentAlert.objects.filter(entry=entry, event="result")
    wait_for(sent.exists, timeout=60, what="the result alert")
    output = wait_for(
        lambda: "carol@example.com" in (text := celery_worker_process.output()) and text,
        timeout=30,
        what="the e-mail in the worker's output",
    )
    assert f"Subject: {horse} finished 2nd: " in output
    assert "https://hrp.example.com/accounts/alerts/unsubscribe/" in output

    # and the next import (an older race) sends the task again, which sends nothing more: three
    # tasks, each logged when received and when done
    _import(tmp_path, 2, today - datetime.timedelta(days=30))
    wait_for(
        lambda: celery_worker_process.output().count("send_horse_alerts_task") >= 6,
        timeout=60,
        what="the later alert tasks",
    )
    assert sent.count() == 1
    assert celery_worker_process.output().count("carol@example.com") == 1
