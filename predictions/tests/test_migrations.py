"""The data migrations, run by Django's migration executor on rows of the schema before them."""

import datetime
import hashlib
import io

import joblib
import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from hrp_site.testing.required import require_postgresql
from predictions.ml.algorithms import ALGORITHMS
from predictions.models import ModelArtifact, ModelVersion
from predictions.services import versions
from predictions.services.artifacts import model_version_load

BEFORE = [("predictions", "0002_model_artifact")]
DAY = datetime.date(2026, 1, 1)


@pytest.fixture
def old_schema(transactional_db):
    """The historical ModelVersion with its file field; migrated to the latest schema after."""
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    yield executor.loader.project_state(BEFORE).apps.get_model("predictions", "ModelVersion")
    migrate_to_latest()


def migrate_to_latest() -> None:
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())


def test_artifact_files_move_into_the_database_and_lost_ones_are_recorded(old_schema, settings):
    # given: a version whose file exists, an active one whose file is gone, a queued one
    buffer = io.BytesIO()
    joblib.dump(ALGORITHMS["market"](seed=0), buffer)
    data = buffer.getvalue()
    (settings.MEDIA_ROOT / "models").mkdir(parents=True)
    (settings.MEDIA_ROOT / "models" / "market-1.joblib").write_bytes(data)
    kept = old_schema.objects.create(
        algorithm="market",
        train_until=DAY,
        status="ready",
        progress="ready",
        artifact="models/market-1.joblib",
    )
    lost = old_schema.objects.create(
        algorithm="logit",
        train_until=DAY,
        status="ready",
        progress="ready",
        is_active=True,
        artifact="models/logit-2.joblib",
    )
    queued = old_schema.objects.create(algorithm="logit", train_until=DAY)

    # when
    migrate_to_latest()

    # then
    stored = ModelArtifact.objects.get(version_id=kept.pk)
    assert (bytes(stored.data), stored.size) == (data, len(data))
    assert stored.sha256 == hashlib.sha256(data).hexdigest()
    kept = ModelVersion.objects.get(pk=kept.pk)
    assert (kept.status, kept.error) == ("ready", "")
    assert model_version_load(kept).params() == {}
    lost = ModelVersion.objects.get(pk=lost.pk)
    assert (lost.status, lost.progress, lost.is_active) == ("failed", "failed", False)
    assert lost.error == (
        "its artefact file models/logit-2.joblib was not found in the media folder when model "
        "artefacts moved into the database; train this version again and activate it (it was "
        "the active version)"
    )
    queued = ModelVersion.objects.get(pk=queued.pk)
    assert (queued.status, queued.error) == ("queued", "")
    assert list(ModelArtifact.objects.values_list("version_id", flat=True)) == [kept.pk]


def test_a_lost_version_trains_again_in_place(old_schema, settings, celery_eager):
    # given: a ready version whose file is gone
    from races.demo import demo_data_seed

    demo_data_seed(seed=5, today=DAY, days_ahead=0, history_days=30)
    lost = old_schema.objects.create(
        algorithm="logit",
        train_until=DAY - datetime.timedelta(days=1),
        status="ready",
        seed=4,
        artifact="models/logit-9.joblib",
    )
    migrate_to_latest()

    # when: staff send it to training again (the admin's "train" action does this)
    assert versions.model_version_claim(version_id=lost.pk)
    version = versions.model_version_train(version=ModelVersion.objects.get(pk=lost.pk))

    # then
    assert (version.status, version.error, version.seed) == ("ready", "", 4)
    assert ModelArtifact.objects.filter(version=version).exists()


def test_stored_seeds_leave_the_hyperparameters(old_schema):
    doubled = old_schema.objects.create(
        algorithm="logit", train_until=DAY, seed=3, hyperparameters={"seed": 3, "l2": 0.1}
    )
    plain = old_schema.objects.create(algorithm="logit", train_until=DAY, hyperparameters={})

    migrate_to_latest()

    assert ModelVersion.objects.get(pk=doubled.pk).hyperparameters == {"l2": 0.1}
    assert ModelVersion.objects.get(pk=doubled.pk).seed == 3
    assert ModelVersion.objects.get(pk=plain.pk).hyperparameters == {}


@pytest.mark.django_db(transaction=True)
def test_the_previous_release_still_reads_and_writes_versions_after_the_migrations():
    # given: the latest schema, and the model as the release before it knew it (a deploy runs
    # the migrations while that release still serves)
    # SQLite rebuilds a table from the migration state on later changes, dropping the kept
    # column; the embedded default is never deployed with two releases at once.
    require_postgresql("rolling deploys run on PostgreSQL")
    migrate_to_latest()
    executor = MigrationExecutor(connection)
    previous = executor.loader.project_state([("predictions", "0001_initial")]).apps
    OldModelVersion = previous.get_model("predictions", "ModelVersion")  # noqa: N806

    # when: it queues a version and reads it back, as its admin and retrain did
    old = OldModelVersion.objects.create(algorithm="logit", train_until=DAY)
    read = OldModelVersion.objects.get(pk=old.pk)

    # then: its columns are there, and ours took their defaults from the database
    assert (read.algorithm, read.status, read.artifact.name) == ("logit", "queued", "")
    new = ModelVersion.objects.get(pk=old.pk)
    assert (new.task_id, new.attempts, new.activate_when_ready) == ("", 0, False)
