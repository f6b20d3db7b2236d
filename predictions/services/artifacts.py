"""A version's fitted model: stored in the database beside it, loaded once per process."""

from __future__ import annotations

import functools
import hashlib
import io
from collections.abc import Iterable

import joblib
from django.db import transaction

from ..ml import algorithms
from ..models import ModelArtifact, ModelVersion
from .base import PredictionError


class ArtifactError(PredictionError):
    """A version's stored model is missing or cannot be loaded."""


def model_artifact_store(
    *, version: ModelVersion, estimator: algorithms.Algorithm, update_fields: Iterable[str]
) -> None:
    """Store the fitted model and save the version's `update_fields` (set by the caller, which
    made it ready) in one transaction: a version is never ready without its model, nor its model
    stored beside a failed run. Only those fields: what staff wrote meanwhile (notes) stays."""
    buffer = io.BytesIO()
    joblib.dump(estimator, buffer)
    data = buffer.getvalue()
    with transaction.atomic():
        # Two runs of one version (a reclaimed stale one) take turns: no duplicate-key error.
        ModelVersion.objects.select_for_update().filter(pk=version.pk).values("pk").first()
        ModelArtifact.objects.update_or_create(
            version=version,
            defaults={
                "data": data,
                "sha256": hashlib.sha256(data).hexdigest(),
                "size": len(data),
            },
        )
        version.save(update_fields=update_fields)


@functools.lru_cache(maxsize=16)
def _load_artifact(version_id: int, sha256: str) -> algorithms.Algorithm:
    # Keyed by the digest too: bytes written again under the same version are never served stale.
    data = ModelArtifact.objects.filter(version_id=version_id).values_list("data", flat=True)
    try:
        return joblib.load(io.BytesIO(bytes(data.get())))
    # Unpickling damaged bytes can raise nearly anything (EOFError, UnpicklingError, KeyError,
    # ValueError, ModuleNotFoundError...); each means the same: this model cannot be used.
    except Exception as exc:
        raise ArtifactError(
            f"version {version_id}'s model cannot be loaded ({type(exc).__name__}: {exc})"
        ) from exc


def model_version_load(version: ModelVersion) -> algorithms.Algorithm:
    """The fitted algorithm, read from the database once per process and version."""
    if version.status != ModelVersion.Status.READY:
        raise PredictionError(f"version {version.pk} has no trained model ({version.status})")
    digest = ModelArtifact.objects.filter(version_id=version.pk).values_list("sha256", flat=True)
    sha256 = digest.first()
    if sha256 is None:
        raise ArtifactError(f"version {version.pk} is ready but its model is not stored")
    return _load_artifact(version.pk, sha256)
