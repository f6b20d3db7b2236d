from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from .forms import AdminLoginForm
from .models import User, WatchlistEntry

# The admin log-in with the username bounded, as on /accounts/login/.
admin.site.login_form = AdminLoginForm


@admin.register(User)
class HrpUserAdmin(UserAdmin):
    list_display = ("username", "email", "first_name", "last_name", "is_staff", "is_active")


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
class WatchlistEntryAdmin(admin.ModelAdmin):
    list_display = ("user", "kind", "target", "created_at")
    list_filter = (WatchlistKindFilter, "created_at")
    search_fields = ("user__username", "horse__name", "jockey__name", "trainer__name")
    raw_id_fields = ("user", "horse", "jockey", "trainer")
    list_select_related = ("user", "horse", "jockey", "trainer")
    date_hierarchy = "created_at"
