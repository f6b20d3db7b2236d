from __future__ import annotations

import datetime

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q


class ModelVersionQuerySet(models.QuerySet):
    def ready(self) -> ModelVersionQuerySet:
        return self.filter(status=ModelVersion.Status.READY)

    def active(self) -> ModelVersionQuerySet:
        return self.filter(is_active=True)

    def usable_on(self, day: datetime.date) -> ModelVersionQuerySet:
        """Versions that saw nothing of `day`: trained only on races before it."""
        return self.ready().filter(train_until__lt=day)


class ModelVersion(models.Model):
    """One trained model: its algorithm, what it was trained on and how it did; the fitted model
    itself is its `ModelArtifact`.

    At most one version per algorithm is active: the one race cards show. Versions trained up to
    earlier dates stay, so past races can be predicted walk-forward by a version that never saw
    them.
    """

    class Algorithm(models.TextChoices):
        MARKET = "market", "Market (normalised odds)"
        LOGIT = "logit", "Conditional logit"
        LIGHTGBM = "lightgbm", "LightGBM"
        XGBOOST = "xgboost", "XGBoost"
        BENTER = "benter", "Benter (model + market)"
        RESIDUAL = "residual", "Residual (market + correction)"
        SOFTMAX = "softmax", "Softmax (finishing order)"

    # The race card shows the first of these with a version usable on the race's day.
    CARD_PREFERENCE = (
        Algorithm.BENTER,
        Algorithm.RESIDUAL,
        Algorithm.SOFTMAX,
        Algorithm.LIGHTGBM,
        Algorithm.XGBOOST,
        Algorithm.LOGIT,
        Algorithm.MARKET,
    )

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        TRAINING = "training", "Training"
        READY = "ready", "Ready"
        FAILED = "failed", "Failed"

    # What a trained (ready) version is: fixed once its training stored them, so that its
    # predictions, metrics and stored model keep describing the same thing.
    FIXED_WHEN_TRAINED = (
        "algorithm",
        "hyperparameters",
        "features",
        "train_from",
        "train_until",
        "seed",
        "library_versions",
        "metrics",
        "value_margin",
    )

    algorithm = models.CharField(max_length=16, choices=Algorithm.choices)
    hyperparameters = models.JSONField(default=dict, blank=True)
    features = models.JSONField(default=list, blank=True, help_text="Feature names, in order.")
    train_from = models.DateField(null=True, blank=True)
    train_until = models.DateField(help_text="The last race day the model may learn from.")
    seed = models.PositiveIntegerField(default=0)
    library_versions = models.JSONField(default=dict, blank=True)
    metrics = models.JSONField(default=dict, blank=True)
    value_margin = models.FloatField(
        null=True,
        blank=True,
        help_text=(
            "The edge (p x odds - 1) a runner must clear to be marked value, chosen on the "
            "training window; empty: no margin paid there, so nothing is marked."
        ),
    )
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    progress = models.CharField(max_length=200, blank=True)
    error = models.TextField(blank=True)
    is_active = models.BooleanField(default=False)
    # Defaults in the database too: the previous release, still serving while a deploy replaces
    # it, inserts versions without these columns.
    activate_when_ready = models.BooleanField(
        default=False,
        db_default=False,
        help_text="Make it the active version once its training succeeds.",
    )
    task_id = models.CharField(
        max_length=64,
        blank=True,
        db_default="",
        help_text="The Celery task that claimed its training.",
    )
    attempts = models.PositiveSmallIntegerField(
        default=0, db_default=0, help_text="Claims of its training since it was last sent by hand."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    queued_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    notes = models.TextField(
        blank=True, default="", db_default="", help_text="Staff's notes on the version."
    )

    objects = ModelVersionQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["algorithm"],
                condition=Q(is_active=True),
                name="model_version_one_active_per_algorithm",
            ),
            models.CheckConstraint(
                condition=Q(is_active=False) | Q(status="ready"),
                name="model_version_active_is_ready",
            ),
        ]
        indexes = [
            models.Index(
                fields=["algorithm", "status", "train_until"], name="model_version_use_idx"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.algorithm} v{self.pk} (to {self.train_until:%Y-%m-%d})"

    def clean(self) -> None:
        changed = self.fixed_fields_changed()
        if changed:
            message = f"Version {self.pk} is trained: its {{field}} cannot be changed."
            raise ValidationError(
                {name: message.format(field=name.replace("_", " ")) for name in changed}
            )

    def fixed_fields_changed(self) -> list[str]:
        """The fields of `FIXED_WHEN_TRAINED` that differ from the stored row, if that row is
        a trained version; none for a version not trained (or not saved) yet."""
        if self.pk is None:
            return []
        stored = (
            ModelVersion.objects.filter(pk=self.pk, status=self.Status.READY)
            .values(*self.FIXED_WHEN_TRAINED)
            .first()
        )
        if stored is None:
            return []
        return [name for name in self.FIXED_WHEN_TRAINED if getattr(self, name) != stored[name]]


class ModelArtifact(models.Model):
    """The fitted model of a ready version, pickled by joblib (6-230 KB).

    It lives in the database because every component (web, worker, beat) reads it and their
    disks are wiped on each deploy. A table of its own, not a column of the version, so that
    nothing that reads versions (race cards, the API, `select_related("model_version")`) loads
    the bytes by accident.
    """

    version = models.OneToOneField(
        ModelVersion, on_delete=models.CASCADE, primary_key=True, related_name="artifact"
    )
    data = models.BinaryField()
    sha256 = models.CharField(max_length=64)
    size = models.PositiveIntegerField(help_text="Bytes.")
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"artifact of version {self.version_id} ({self.size:,} bytes)"


class Prediction(models.Model):
    """A model version's view of one runner: win and place chances, fair odds, value."""

    runner = models.ForeignKey("races.Runner", on_delete=models.CASCADE, related_name="predictions")
    model_version = models.ForeignKey(
        ModelVersion, on_delete=models.CASCADE, related_name="predictions"
    )
    win_probability = models.FloatField()
    place_probability = models.FloatField(null=True, blank=True)
    rank = models.PositiveSmallIntegerField(help_text="1 = the model's top pick in the race.")
    fair_odds = models.FloatField(help_text="1 / win probability.")
    edge = models.FloatField(
        null=True, blank=True, help_text="Expected return of a unit win bet at the market odds."
    )
    explanation = models.JSONField(
        default=list, blank=True, help_text="The largest feature contributions: [name, value]."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["model_version", "rank"]
        constraints = [
            models.UniqueConstraint(
                fields=["runner", "model_version"], name="prediction_unique_runner_version"
            ),
            models.CheckConstraint(
                condition=Q(win_probability__gte=0) & Q(win_probability__lte=1),
                name="prediction_win_probability_range",
            ),
            models.CheckConstraint(
                condition=Q(place_probability__isnull=True)
                | (Q(place_probability__gte=0) & Q(place_probability__lte=1)),
                name="prediction_place_probability_range",
            ),
            models.CheckConstraint(condition=Q(rank__gte=1), name="prediction_rank_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.runner} {self.win_probability:.1%} ({self.model_version})"

    @property
    def is_value(self) -> bool:
        """The edge clears the margin its version chose on its training window (none chosen:
        never). Reads `model_version`: attach it where predictions are listed."""
        margin = self.model_version.value_margin
        return self.edge is not None and margin is not None and self.edge > margin


class SettledHistoryMark(models.Model):
    """A token the database renews whenever a settled starter or a settled race is written.

    PostgreSQL triggers on the race tables (migration 0010) write it in the writer's own
    transaction, whoever writes (importers, services, admin, bulk updates, raw SQL), so a worker
    that keeps the settled history knows it is current by reading this one row instead of
    aggregating the history. A token, not a counter: it never repeats, even after the row is
    deleted and written again.
    """

    token = models.UUIDField()

    def __str__(self) -> str:
        return str(self.token)
