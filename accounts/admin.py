from axes import admin as axes_admin
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.contrib import admin
from django.contrib.auth.admin import GroupAdmin, UserAdmin
from django.contrib.auth.models import Group
from knox import admin as knox_admin
from knox.models import AuthToken

from hrp_site.admin_search import BoundedSearchMixin

from .forms import AdminLoginForm
from .models import SentAlert, User, WatchlistEntry

# The admin log-in with the username bounded, as on /accounts/login/.
admin.site.login_form = AdminLoginForm


@admin.register(User)
class HrpUserAdmin(BoundedSearchMixin, UserAdmin):
    list_display = ("username", "email", "first_name", "last_name", "is_staff", "is_active")


# django.contrib.auth's and django-axes' own, with their searches bounded like every other
# (hrp_site/tests/test_admin_search.py checks every registered admin that searches).
for library_model, library_admin in (
    (Group, GroupAdmin),
    (AccessAttempt, axes_admin.AccessAttemptAdmin),
    (AccessLog, axes_admin.AccessLogAdmin),
    (AccessFailureLog, axes_admin.AccessFailureLogAdmin),
    (AuthToken, knox_admin.AuthTokenAdmin),
):
    if admin.site.is_registered(library_model):
        admin.site.unregister(library_model)
        admin.site.register(
            library_model,
            type(library_admin.__name__, (BoundedSearchMixin, library_admin), {}),
        )


class WatchlistKindFilter(admin.SimpleListFilter):
    title = "kind"
    parameter_name = "kind"

    def lookups(self, request, model_admin):
        return [(kind, kind.title()) for kind in WatchlistEntry.KINDS]

    def queryset(self, request, queryset):
        if self.value() in WatchlistEntry.KINDS:
            return queryset.filter(**{f"{self.value()}__isnull": False})
        return queryset


@admin.register(WatchlistEntry)
class WatchlistEntryAdmin(BoundedSearchMixin, admin.ModelAdmin):
    list_display = ("user", "kind", "target", "alert_declared", "alert_result", "created_at")
    list_filter = (WatchlistKindFilter, "alert_declared", "alert_result", "created_at")
    search_fields = ("user__username", "horse__name", "jockey__name", "trainer__name")
    raw_id_fields = ("user", "horse", "jockey", "trainer")
    list_select_related = ("user", "horse", "jockey", "trainer")
    date_hierarchy = "created_at"


@admin.register(SentAlert)
class SentAlertAdmin(BoundedSearchMixin, admin.ModelAdmin):
    list_display = ("entry", "event", "runner", "sent_at")
    list_filter = ("event", "sent_at")
    search_fields = ("entry__user__username", "entry__horse__name")
    raw_id_fields = ("entry", "runner")
    list_select_related = (
        "entry__user",
        "entry__horse",
        "runner__race__racecourse",
        "runner__horse",
    )
    date_hierarchy = "sent_at"
