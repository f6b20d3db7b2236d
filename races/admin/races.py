"""Racecourses, races (with the Hong Kong import) and runners."""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Case, CharField, F, OuterRef, Subquery, Value, When
from django.db.models.functions import Concat
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path

from hrp_site.admin_search import BoundedSearchMixin
from hrp_site.queueing import QueueingError

from ..forms import HkracingImportForm
from ..models import (
    Race,
    Racecourse,
    Runner,
)
from ..services.hkracing_uploads import hkracing_upload_create
from .common import (
    IMPORT_PERMISSIONS,
    LoadedAutocompleteMixin,
    count_of,
    percent,
    shown,
    source_code,
)


class RunnerInline(LoadedAutocompleteMixin, admin.TabularInline):
    model = Runner
    fields = (
        "saddle_number",
        "horse",
        "jockey",
        "trainer",
        "draw",
        "carried_weight_lb",
        "rating",
        "win_odds",
        "implied_probability",
        "finish_position",
        "dead_heat",
        "non_runner",
    )
    readonly_fields = ("implied_probability",)
    autocomplete_fields = ("horse", "jockey", "trainer")
    extra = 0
    show_change_link = True

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        formfield = super().formfield_for_dbfield(db_field, request, **kwargs)
        if db_field.name in self.autocomplete_fields:
            # Keep the table of runners within the page: narrower autocompletes, and only the
            # "view" icon beside them (a horse's own page edits the horse).
            formfield.widget.widget.attrs["data-width"] = "11em"
            formfield.widget.can_add_related = False
            formfield.widget.can_change_related = False
            formfield.widget.can_delete_related = False
        return formfield

    def get_queryset(self, request):
        # The race too: each row prints str(runner), which names the race and its racecourse.
        return (
            super()
            .get_queryset(request)
            .select_related("race__racecourse", "horse", "jockey", "trainer")
            .order_by("saddle_number")
        )

    @admin.display(description="implied probability")
    def implied_probability(self, runner):
        return shown(self, percent(runner.implied_probability))


@admin.register(Racecourse)
class RacecourseAdmin(BoundedSearchMixin, admin.ModelAdmin):
    list_display = ("name", "code", "country", "race_count", source_code, "external_id")
    list_filter = ("country", "source")
    search_fields = ("name", "code", "=external_id")
    readonly_fields = ("race_count",)
    fields = ("name", "code", "country", "place_terms", "race_count", "source", "external_id")

    def get_queryset(self, request):
        return (
            super().get_queryset(request).annotate(race_count=count_of(Race.objects, "racecourse"))
        )

    @admin.display(description="races", ordering="race_count")
    def race_count(self, racecourse):
        return shown(self, getattr(racecourse, "race_count", None))


@admin.register(Race)
class RaceAdmin(BoundedSearchMixin, LoadedAutocompleteMixin, admin.ModelAdmin):
    list_display = (
        "meeting_date",
        "racecourse",
        "race_number",
        "name",
        "distance_m",
        "surface",
        "going",
        "race_class",
        "status",
        "field_size",
        "winner",
        source_code,
    )
    list_display_links = ("meeting_date", "racecourse", "race_number")
    list_filter = (
        "meeting_date",
        "racecourse",
        "race_class",
        "going",
        "surface",
        "status",
        "source",
    )
    search_fields = ("=external_id", "name", "=racecourse__code", "racecourse__name")
    date_hierarchy = "meeting_date"
    autocomplete_fields = ("racecourse",)
    show_full_result_count = False
    inlines = (RunnerInline,)
    readonly_fields = ("field_size", "winner", "market_overround", "is_demo")
    fieldsets = (
        (None, {"fields": ("racecourse", "meeting_date", "race_number", "post_time", "name")}),
        (
            "Conditions",
            {
                "fields": (
                    "distance_m",
                    "surface",
                    "going",
                    "race_class",
                    "rating_band",
                    "rail",
                    ("prize", "prize_currency"),
                )
            },
        ),
        (
            "Result",
            {"fields": ("status", "field_size", "winner", "market_overround", "sectional_times")},
        ),
        ("Provenance", {"fields": ("source", "external_id", "is_demo")}),
    )

    def get_queryset(self, request):
        winners = Runner.objects.filter(race=OuterRef("pk"), finish_position=1).order_by(
            "saddle_number"
        )
        # Participant.__str__ in SQL: the Hong Kong results name horses by id only.
        horse_label = Case(
            When(horse__name="", then=Concat(Value("Horse #"), "horse__external_id")),
            default=F("horse__name"),
            output_field=CharField(),
        )
        # select_related here rather than list_select_related (which a queryset that already
        # selects related rows overrides): autocomplete results and the runner inline print
        # str(race), which names the racecourse.
        return (
            super()
            .get_queryset(request)
            .select_related("racecourse")
            .with_field_size()
            .annotate(
                winner_name=Subquery(winners.annotate(label=horse_label).values("label")[:1]),
            )
        )

    def get_urls(self):
        import_view = self.admin_site.admin_view(self.import_hkracing_view)
        return [
            path("import-hkracing/", import_view, name="races_race_import_hkracing"),
            *super().get_urls(),
        ]

    def changelist_view(self, request, extra_context=None):
        extra_context = {**(extra_context or {}), "can_import": self.has_import_permission(request)}
        return super().changelist_view(request, extra_context)

    def has_import_permission(self, request) -> bool:
        return request.user.has_perms(IMPORT_PERMISSIONS)

    def import_hkracing_view(self, request):
        if not self.has_import_permission(request):
            raise PermissionDenied
        if request.method == "POST":
            form = HkracingImportForm(request.POST, request.FILES)
            if form.is_valid():
                races_upload = form.cleaned_data["races_file"]
                runs_upload = form.cleaned_data["runs_file"]
                try:
                    # The send comes at the block's end, once the row is committed and named.
                    with transaction.atomic():
                        upload = hkracing_upload_create(
                            races_name=races_upload.name,
                            races_data=races_upload.read(),
                            runs_name=runs_upload.name,
                            runs_data=runs_upload.read(),
                            uploaded_by=request.user,
                        )
                except QueueingError as exc:
                    message = f"The upload was stored but {exc}; nothing was imported."
                    messages.error(request, message)
                else:
                    messages.success(
                        request,
                        "The files are stored and queued for import; this page shows how it "
                        "goes (reload it).",
                    )
                return redirect("admin:races_hkracingupload_change", upload.pk)
        else:
            form = HkracingImportForm()
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": "Import Hong Kong results",
            "form": form,
        }
        return TemplateResponse(request, "admin/races/race/import_hkracing.html", context)

    @admin.display(description="field size", ordering="field_size")
    def field_size(self, race):
        return shown(self, getattr(race, "field_size", None))

    @admin.display(description="winner", ordering="winner_name")
    def winner(self, race):
        return shown(self, getattr(race, "winner_name", None))

    @admin.display(description="market overround")
    def market_overround(self, race):
        """The win market's book: the sum of 1 / win odds over the starters; 100% is a fair book."""
        if race.pk is None:
            return shown(self, None)
        odds = (
            race.runners.starters()
            .exclude(win_odds=None)
            .order_by()
            .values_list("win_odds", flat=True)
        )
        return shown(self, percent(sum(1 / float(o) for o in odds) if odds else None))

    @admin.display(description="demo data", boolean=True)
    def is_demo(self, race):
        return race.is_demo


@admin.register(Runner)
class RunnerAdmin(BoundedSearchMixin, LoadedAutocompleteMixin, admin.ModelAdmin):
    list_display = (
        "race",
        "saddle_number",
        "horse",
        "jockey",
        "trainer",
        "draw",
        "carried_weight_lb",
        "rating",
        "win_odds",
        "position",
        source_code,
    )
    list_display_links = ("race", "saddle_number")
    list_filter = ("race__status", "dead_heat", "non_runner", "source")
    search_fields = (
        "horse__name",
        "=horse__external_id",
        "jockey__name",
        "trainer__name",
        "=race__external_id",
    )
    autocomplete_fields = ("race", "horse", "jockey", "trainer")
    show_full_result_count = False
    readonly_fields = ("implied_probability", "is_demo")
    fieldsets = (
        (
            None,
            {
                "fields": (
                    "race",
                    "saddle_number",
                    "horse",
                    ("jockey", "jockey_allowance_lb"),
                    "trainer",
                    "draw",
                    ("carried_weight_lb", "declared_weight_lb"),
                    "rating",
                    "age",
                    "gear",
                    ("declared_form", "declared_days_since_run"),
                )
            },
        ),
        ("Market", {"fields": ("win_odds", "implied_probability", "place_odds")}),
        (
            "Result",
            {
                "fields": (
                    "non_runner",
                    ("finish_position", "dead_heat"),
                    "non_finish",
                    "lengths_behind",
                    "finish_time",
                    "section_positions",
                    "section_lengths_behind",
                    "section_times",
                )
            },
        ),
        ("Provenance", {"fields": ("source", "external_id", "is_demo")}),
    )

    def get_queryset(self, request):
        # Not list_select_related: the change page needs these rows too, for its title and its
        # autocompletes.
        return (
            super()
            .get_queryset(request)
            .select_related("race__racecourse", "horse", "jockey", "trainer")
        )

    @admin.display(description="position", ordering="finish_position")
    def position(self, runner):
        if runner.non_runner:
            return "NR"
        if runner.finish_position is None:
            return None
        return f"{runner.finish_position}{'=' if runner.dead_heat else ''}"

    @admin.display(description="implied probability")
    def implied_probability(self, runner):
        return shown(self, percent(runner.implied_probability))

    @admin.display(description="demo data", boolean=True)
    def is_demo(self, runner):
        return runner.is_demo
