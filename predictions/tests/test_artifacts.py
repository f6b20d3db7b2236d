"""Model artefacts live in the database: any process can use a model another trained, whatever
its disk holds; a missing or broken one is skipped, not fatal; pages never read the bytes."""

import datetime
import hashlib
import logging
import os
import sqlite3
import subprocess
import sys

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from hrp_site.testing.required import require_postgresql
from predictions.models import ModelArtifact, ModelVersion, Prediction
from predictions.services.artifacts import model_version_load
from predictions.services.refresh import predictions_refresh, predictions_refresh_range
from predictions.services.versions import model_version_train_new
from races.demo import demo_data_seed
from races.models import Race, Runner

TODAY = datetime.date(2026, 5, 20)
YESTERDAY = TODAY - datetime.timedelta(days=1)
TIMEOUT = 300  # one training of the demo's logit takes seconds; the bound is for a slow CI box


def manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    result = subprocess.run(
        [sys.executable, "manage.py", *args],
        env=env,
        cwd=settings.BASE_DIR,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return result


def train_then_refresh(
    *refresh_args: str, train_until: datetime.date | str, env: dict[str, str], folder
) -> tuple[int, list[str]]:
    """`train_model` (logit, activated) in one process, then `refresh_predictions` in another,
    each with a media folder of its own in `folder`: the version's id, the refresher's lines."""
    trainer = manage(
        "train_model",
        "--algorithm=logit",
        f"--train-until={train_until}",
        "--activate",
        env={**env, "DJANGO_MEDIA_ROOT": str(folder / "trainer")},
    )
    refresher = manage(
        "refresh_predictions",
        *refresh_args,
        env={**env, "DJANGO_MEDIA_ROOT": str(folder / "refresher")},
    )
    return int(trainer.stdout), refresher.stdout.splitlines()


def files_in(folder) -> list:
    return [path for path in folder.rglob("*") if path.is_file()]


def starters_on(day: datetime.date) -> int:
    return (
        Runner.objects.filter(race__meeting_date=day, non_runner=False)
        .exclude(race__status=Race.Status.ABANDONED)
        .count()
    )


def trained(algorithm: str, **kwargs) -> ModelVersion:
    return model_version_train_new(
        algorithm=algorithm, train_until=YESTERDAY, activate=True, **kwargs
    )


@pytest.mark.django_db(transaction=True)
def test_a_model_trained_in_one_process_predicts_in_another_on_postgresql(tmp_path):
    require_postgresql("a model trained in one process and used in another needs PostgreSQL")
    # given: the demo's races, committed where other processes see them
    demo_data_seed(seed=5, today=TODAY, days_ahead=1, history_days=45)
    db = connection.settings_dict
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
    }

    # when: one process trains with its media folder, another refreshes with an empty one
    version, lines = train_then_refresh(
        f"--date={TODAY}", train_until=YESTERDAY, env=env, folder=tmp_path
    )

    # then
    starters = starters_on(TODAY)
    races = Race.objects.filter(meeting_date=TODAY).count()
    assert starters > 0
    assert lines[0] == (f"{starters} predictions for {races} races from model versions [{version}]")
    assert Prediction.objects.filter(model_version_id=version).count() == starters
    assert files_in(tmp_path) == []  # neither process wrote a file


def test_a_model_trained_in_one_process_predicts_in_another_under_the_embedded_defaults(
    tmp_path,
):
    # given: `make run`'s settings (debug, SQLite, eager Celery) on a database file of our own
    database = tmp_path / "db.sqlite3"
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("DJANGO_", "CELERY_")) and name not in ("DATABASE_URL", "REDIS_URL")
    }
    env = {**env, "DJANGO_DEBUG": "true", "DATABASE_URL": f"sqlite:///{database}"}
    manage("migrate", "--no-input", env=env)
    manage("seed_demo", "--history-days=45", "--days-ahead=1", env=env)
    with sqlite3.connect(database) as db:
        (last_result,) = db.execute(
            "SELECT max(meeting_date) FROM races_race WHERE status = 'result'"
        ).fetchone()

    # when
    version, lines = train_then_refresh(train_until=last_result, env=env, folder=tmp_path)

    # then
    with sqlite3.connect(database) as db:
        (stored,) = db.execute(
            "SELECT count(*) FROM predictions_prediction WHERE model_version_id = ?", [version]
        ).fetchone()
    assert stored > 0
    first_line = lines[0]
    assert first_line.startswith(f"{stored} predictions for ")
    assert first_line.endswith(f" races from model versions [{version}]")
    assert files_in(tmp_path / "trainer") == files_in(tmp_path / "refresher") == []


def _corrupt(artifact: ModelArtifact) -> None:
    artifact.data = b"these are not the bytes joblib wrote"
    artifact.sha256 = hashlib.sha256(artifact.data).hexdigest()
    artifact.save()


def _empty(artifact: ModelArtifact) -> None:
    ModelArtifact.objects.filter(pk=artifact.pk).update(
        data=b"", sha256=hashlib.sha256(b"").hexdigest(), size=0
    )


def _missing(artifact: ModelArtifact) -> None:
    artifact.delete()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("damage", "reason"),
    [
        # Which error joblib raises depends on the bytes; the reason names it after this.
        (_corrupt, "'s model cannot be loaded ("),
        (_empty, "'s model cannot be loaded (EOFError"),
        (_missing, "is ready but its model is not stored"),
    ],
    ids=["corrupt", "empty", "missing"],
)
def test_a_refresh_skips_a_broken_model_and_refreshes_the_others(damage, reason, caplog):
    # given: two active versions, one of them with its model damaged
    demo_data_seed(seed=5, today=TODAY, days_ahead=1, history_days=45)
    market, logit = trained("market"), trained("logit")
    damage(ModelArtifact.objects.get(version=logit))
    race_ids = list(Race.objects.filter(meeting_date=TODAY).values_list("pk", flat=True))

    # when
    with caplog.at_level(logging.WARNING, logger="predictions.services.refresh"):
        report = predictions_refresh(race_ids=race_ids, algorithms_to_use=["market", "logit"])
        ranged = predictions_refresh_range(
            date_from=TODAY, date_to=TODAY, algorithms_to_use=["market", "logit"]
        )

    # then: the market's predictions are stored, the logit's skipped and said so
    assert report.versions == ranged.versions == {market.pk}
    assert report.predictions == starters_on(TODAY) > 0
    assert Prediction.objects.filter(model_version=market).count() == starters_on(TODAY)
    assert not Prediction.objects.filter(model_version=logit).exists()
    assert len(report.skipped) == 1
    assert report.skipped[0].startswith(f"logit: skipped, version {logit.pk}")
    assert reason in report.skipped[0]
    assert ranged.skipped == report.skipped
    why = report.skipped[0].removeprefix("logit: skipped, ")
    # one line from each refresh
    assert [record.getMessage() for record in caplog.records] == [
        f"refresh skips logit version {logit.pk}: {why}"
    ] * 2


@pytest.mark.django_db
def test_a_model_written_again_is_not_served_from_the_cache():
    # given: a version whose model this process has loaded
    demo_data_seed(seed=5, today=TODAY, days_ahead=0, history_days=30)
    first = trained("logit")
    assert model_version_load(first).params()["l2"] == 1e-3
    other = trained("logit", hyperparameters={"l2": 0.5})

    # when: its stored model is replaced
    replacement = ModelArtifact.objects.get(version=other)
    ModelArtifact.objects.filter(version=first).update(
        data=replacement.data, sha256=replacement.sha256, size=replacement.size
    )

    # then
    assert model_version_load(first).params()["l2"] == 0.5


@pytest.mark.django_db
def test_pages_that_show_versions_never_read_the_stored_model(staff_client):
    demo_data_seed(seed=5, today=TODAY, days_ahead=1, history_days=30)
    version = trained("logit")
    predictions_refresh(
        race_ids=Race.objects.filter(meeting_date=TODAY).values_list("pk", flat=True)
    )
    race = Race.objects.filter(meeting_date=TODAY).first()
    pages = [
        "/api/v1/model-versions/",
        f"/api/v1/model-versions/{version.pk}/",
        f"/api/v1/predictions/?date={TODAY}",
        reverse("admin:predictions_modelversion_changelist"),
        reverse("admin:predictions_prediction_changelist"),
        reverse("admin:predictions_modelversion_change", args=[version.pk]),
        reverse("races:day", kwargs={"day": TODAY}),
        reverse("predictions:race", args=[race.pk]),
    ]

    with CaptureQueriesContext(connection) as queries:
        answers = {page: staff_client.get(page) for page in pages}

    assert {page: answer.status_code for page, answer in answers.items()} == dict.fromkeys(
        pages, 200
    )
    assert [q["sql"] for q in queries if '"predictions_modelartifact"."data"' in q["sql"]] == []
    stored = ModelArtifact.objects.get(version=version)
    change_page = answers[pages[5]].content.decode()
    assert f"{stored.size:,} bytes, sha256 {stored.sha256}" in change_page
