"""The background jobs staff start and watch: provider syncs and Hong Kong uploads."""

from django.contrib import admin, messages

from hrp_site.queueing import QueueingError

from ..models import (
    HkracingUpload,
    Operation,
    ProviderSync,
)
from ..providers.registry import ProviderNotConfigured
from ..services.provider_sync import provider_sync_enqueue
from .common import IMPORT_PERMISSIONS, lines_shown, shown


@admin.register(ProviderSync)
class ProviderSyncAdmin(admin.ModelAdmin):
    list_display = ("provider", "day", "status", "started_at", "finished_at", "counts", "error")
    list_filter = ("provider", "status", "day")
    date_hierarchy = "started_at"
    actions = ("sync_now",)
    readonly_fields = (
        "provider",
        "day",
        "status",
        "started_at",
        "finished_at",
        "counts",
        "error",
    )

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.action(description="Sync the selected syncs' providers and days again now")
    def sync_now(self, request, queryset):
        queued = 0
        for provider, day in sorted(set(queryset.values_list("provider", "day"))):
            try:
                provider_sync_enqueue(provider=provider, day=day)
            except ProviderNotConfigured as exc:
                self.message_user(request, f"Not queued: {exc}.", messages.ERROR)
                continue
            except QueueingError as exc:
                message = f"The sync of {provider} on {day:%Y-%m-%d} {exc}."
                self.message_user(request, message, messages.ERROR)
                continue
            queued += 1
        if queued:
            self.message_user(request, f"{queued} provider sync(s) queued.")


@admin.register(HkracingUpload)
class HkracingUploadAdmin(admin.ModelAdmin):
    """Staff uploads of the Hong Kong pair and how their import went; made by the race list's
    import page, read-only here."""

    list_display = (
        "uploaded_at",
        "files",
        "uploaded_by",
        "status",
        "progress",
        "finished_at",
        "outcome",
    )
    list_filter = ("status",)
    list_select_related = ("uploaded_by",)
    date_hierarchy = "uploaded_at"
    fields = (
        "status",
        "progress",
        "files",
        "uploaded_by",
        "uploaded_at",
        "started_at",
        "finished_at",
        "attempts",
        "outcome",
        "summary_lines",
        "error_lines",
    )
    readonly_fields = fields

    def get_queryset(self, request):
        # The files stay in the database: no page shows them.
        return super().get_queryset(request).defer("races_data", "runs_data")

    def has_view_permission(self, request, obj=None):
        # Whoever may import follows their uploads.
        return super().has_view_permission(request, obj) or request.user.has_perms(
            IMPORT_PERMISSIONS
        )

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.display(description="files")
    def files(self, upload):
        return f"{upload.races_name}, {upload.runs_name}"

    @admin.display(description="outcome")
    def outcome(self, upload):
        if upload.error:
            return upload.error
        counts = [line for line in upload.summary if line.startswith(("races:", "runners:"))]
        return "; ".join(counts) or shown(self, None)

    @admin.display(description="what was imported")
    def summary_lines(self, upload):
        return lines_shown(self, upload.summary)

    @admin.display(description="errors in the files")
    def error_lines(self, upload):
        return lines_shown(self, upload.errors)


@admin.register(Operation)
class OperationAdmin(admin.ModelAdmin):
    list_display = ("pk", "kind", "status", "requested_by", "created_at", "finished_at", "error")
    list_filter = ("kind", "status")
    date_hierarchy = "created_at"
    readonly_fields = (
        "kind",
        "status",
        "requested_by",
        "parameters",
        "outcome",
        "error",
        "created_at",
        "started_at",
        "finished_at",
    )

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
