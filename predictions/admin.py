from django.contrib import admin, messages
from django.db.models import Count
from django.shortcuts import redirect

from hrp_site.admin_search import BoundedSearchMixin
from hrp_site.queueing import QueueingError
from races.admin.races import RaceAdmin as RacesRaceAdmin
from races.models import Race

from .models import ModelArtifact, ModelVersion, Prediction
from .services.base import PredictionError
from .services.enqueue import (
    model_version_enqueue_training,
    model_version_requeue,
    model_version_retrain,
    predictions_enqueue_refresh,
)
from .services.versions import model_version_activate


def _metric(version: ModelVersion, name: str) -> str | None:
    evaluations = version.metrics.get("evaluations") or {}
    if not evaluations:
        return None
    latest = evaluations[sorted(evaluations)[-1]]
    value = latest.get(name)
    return None if value is None else f"{value:.3f}"


@admin.register(ModelVersion)
class ModelVersionAdmin(BoundedSearchMixin, admin.ModelAdmin):
    list_display = (
        "__str__",
        "algorithm",
        "train_until",
        "status",
        "progress",
        "is_active",
        "pseudo_r2",
        "market_pseudo_r2",
        "prediction_count",
        "created_at",
    )
    list_filter = ("algorithm", "status", "is_active")
    search_fields = ("=id", "algorithm")
    date_hierarchy = "train_until"
    actions = ("train", "retrain", "activate", "refresh_declared")
    readonly_fields = (
        "status",
        "progress",
        "error",
        "activate_when_ready",
        "task_id",
        "attempts",
        "is_active",
        "features",
        "library_versions",
        "metrics",
        "stored_model",
        "created_at",
        "started_at",
        "finished_at",
        "prediction_count",
    )
    fields = (
        "algorithm",
        "train_from",
        "train_until",
        "seed",
        "hyperparameters",
        "notes",
        *readonly_fields,
    )

    def get_readonly_fields(self, request, obj=None):
        # A trained version's settings are what its stored model was fitted with.
        if obj is not None and obj.status == ModelVersion.Status.READY:
            fixed = ModelVersion.FIXED_WHEN_TRAINED
            return (
                *self.readonly_fields,
                *(name for name in fixed if name not in self.readonly_fields),
            )
        return self.readonly_fields

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(prediction_count=Count("predictions"))

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if not change:
            model_version_enqueue_training(version=obj)

    def changeform_view(self, request, *args, **kwargs):
        # The training is sent when the page's transaction commits, after save_model returned.
        try:
            return super().changeform_view(request, *args, **kwargs)
        except QueueingError as exc:
            self.message_user(
                request,
                f"The version was saved but its training {exc}. It is marked failed; "
                "send it again with the Train action once the queue is back.",
                messages.ERROR,
            )
            return redirect("admin:predictions_modelversion_changelist")

    @admin.display(description="predictions", ordering="prediction_count")
    def prediction_count(self, version):
        return getattr(version, "prediction_count", None)

    @admin.display(description="stored model")
    def stored_model(self, version):
        # The digest and size only: the bytes stay in the database.
        stored = ModelArtifact.objects.filter(version=version).values("size", "sha256").first()
        return None if stored is None else f"{stored['size']:,} bytes, sha256 {stored['sha256']}"

    @admin.display(description="pseudo R² (last evaluation)")
    def pseudo_r2(self, version):
        return _metric(version, "pseudo_r2")

    @admin.display(description="market pseudo R²")
    def market_pseudo_r2(self, version):
        return _metric(version, "market_pseudo_r2")

    @admin.action(description="Train the selected queued, failed or stuck versions")
    def train(self, request, queryset):
        sent, refused = [], []
        for version in queryset:
            try:
                (sent if model_version_requeue(version=version) else refused).append(version)
            except QueueingError as exc:
                self.message_user(request, f"{version}: training {exc}", messages.ERROR)
                break
        if sent:
            self.message_user(request, f"{len(sent)} version(s) sent to the training queue.")
        for version in refused:
            reason = (
                "a worker may still be training it"
                if version.status == ModelVersion.Status.TRAINING
                else f"it is {version.status}"
            )
            self.message_user(request, f"{version} not sent: {reason}.", messages.WARNING)

    @admin.action(description="Retrain: a new version on every settled race, then activate it")
    def retrain(self, request, queryset):
        for version in queryset:
            try:
                new = model_version_retrain(version=version, activate=True)
            except PredictionError as exc:
                self.message_user(request, str(exc), messages.ERROR)
                return
            except QueueingError as exc:
                self.message_user(
                    request,
                    f"The new version's training {exc}. It is marked failed; send it again "
                    "with the Train action once the queue is back.",
                    messages.ERROR,
                )
                return
            self.message_user(request, f"{new} queued for training.")

    @admin.action(description="Activate (the version race cards show)")
    def activate(self, request, queryset):
        for version in queryset:
            try:
                model_version_activate(version=version)
            except PredictionError as exc:
                self.message_user(request, str(exc), messages.ERROR)
            else:
                self.message_user(request, f"{version} is active.")

    @admin.action(description="Refresh the predictions of every declared race")
    def refresh_declared(self, request, queryset):
        try:
            predictions_enqueue_refresh()
        except QueueingError as exc:
            self.message_user(request, f"The refresh {exc}", messages.ERROR)
        else:
            self.message_user(request, "Declared races' predictions are being refreshed.")


@admin.register(Prediction)
class PredictionAdmin(BoundedSearchMixin, admin.ModelAdmin):
    list_display = (
        "runner",
        "model_version",
        "win",
        "place",
        "rank",
        "fair",
        "market_odds",
        "value",
        "updated_at",
    )
    list_filter = ("model_version__algorithm", "runner__race__status")
    search_fields = ("runner__horse__name", "=runner__horse__external_id", "=runner__race__id")
    raw_id_fields = ("runner", "model_version")
    list_select_related = ("runner__race__racecourse", "runner__horse", "model_version")
    show_full_result_count = False
    readonly_fields = ("explanation", "created_at", "updated_at")

    def has_add_permission(self, request):
        return False  # predictions come from the models only

    @admin.display(description="win", ordering="win_probability")
    def win(self, prediction):
        return f"{prediction.win_probability:.1%}"

    @admin.display(description="place", ordering="place_probability")
    def place(self, prediction):
        p = prediction.place_probability
        return None if p is None else f"{p:.1%}"

    @admin.display(description="fair odds", ordering="fair_odds")
    def fair(self, prediction):
        return f"{prediction.fair_odds:.2f}"

    @admin.display(description="market odds", ordering="runner__win_odds")
    def market_odds(self, prediction):
        return prediction.runner.win_odds

    @admin.display(description="edge", ordering="edge")
    def value(self, prediction):
        return None if prediction.edge is None else f"{prediction.edge:+.1%}"


# Races' admin with an action of ours: races knows nothing of predictions, so the action is added
# here, where both are known (this app comes after races in INSTALLED_APPS).
admin.site.unregister(Race)


@admin.register(Race)
class RaceAdmin(RacesRaceAdmin):
    actions = ("refresh_predictions",)

    @admin.action(description="Refresh the predictions of the selected races")
    def refresh_predictions(self, request, queryset):
        # In key order: the changelist's own order breaks ties between races at random.
        race_ids = sorted(queryset.values_list("pk", flat=True))
        try:
            predictions_enqueue_refresh(race_ids=race_ids)
        except QueueingError as exc:
            self.message_user(request, f"The refresh {exc}", messages.ERROR)
            return
        self.message_user(request, f"Predictions of {len(race_ids)} race(s) are being refreshed.")
