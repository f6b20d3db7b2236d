"""Copy each version's artefact file from the media folder into its `ModelArtifact` row.

A version whose file is gone (App Platform wipes a component's disk on every deploy, and the
migrate job never had the worker's files) cannot predict any more. It is marked failed with the
reason rather than left ready: "ready" would promise a model that is not there, and a failed
version can be trained again in place (admin: "Train the selected queued or failed versions"),
with its window, seed and settings, into the same model. A failed version cannot stay active.
"""

import hashlib

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import migrations
from django.utils import timezone


def _read(name):
    if not name:
        return None
    try:
        with default_storage.open(name, "rb") as handle:
            return handle.read() or None
    except OSError:  # FileNotFoundError, or a path the storage refuses
        return None


def artifacts_into_database(apps, schema_editor):
    ModelVersion = apps.get_model("predictions", "ModelVersion")
    ModelArtifact = apps.get_model("predictions", "ModelArtifact")
    rows = ModelVersion.objects.exclude(artifact="").values_list("pk", "artifact")
    ready_without_file = ModelVersion.objects.filter(status="ready", artifact="")
    lost = list(ready_without_file.values_list("pk", "artifact"))
    for pk, name in rows.iterator():
        data = _read(name)
        if data is None:
            lost.append((pk, name))
            continue
        ModelArtifact.objects.create(
            version_id=pk, data=data, sha256=hashlib.sha256(data).hexdigest(), size=len(data)
        )
    for pk, name in lost:
        version = ModelVersion.objects.get(pk=pk)
        if version.status != "ready":
            continue  # not usable before either; nothing to record
        missing = f"its artefact file {name} was" if name else "it had no artefact file, so was"
        version.error = (
            f"{missing} not found in the media folder when model artefacts moved into the "
            "database; train this version again"
            + (" and activate it (it was the active version)" if version.is_active else "")
        )
        version.status = "failed"
        version.progress = "failed"
        version.is_active = False
        version.finished_at = timezone.now()
        version.save(update_fields=["error", "status", "progress", "is_active", "finished_at"])


def artifacts_back_to_files(apps, schema_editor):
    ModelVersion = apps.get_model("predictions", "ModelVersion")
    ModelArtifact = apps.get_model("predictions", "ModelArtifact")
    for artifact in ModelArtifact.objects.iterator(chunk_size=20):
        version = ModelVersion.objects.only("pk", "algorithm").get(pk=artifact.version_id)
        name = default_storage.save(
            f"models/{version.algorithm}-{version.pk}.joblib", ContentFile(bytes(artifact.data))
        )
        ModelVersion.objects.filter(pk=version.pk).update(artifact=name)


class Migration(migrations.Migration):

    dependencies = [
        ('predictions', '0002_model_artifact'),
    ]

    operations = [
        migrations.RunPython(artifacts_into_database, artifacts_back_to_files),
    ]
