from django import forms
from django.contrib import admin, messages
from django.contrib.admin.widgets import AutocompleteSelect
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Case, CharField, Count, F, OuterRef, Subquery, Value, When
from django.db.models.functions import Coalesce, Concat
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path
from django.utils.html import format_html_join
from django.utils.safestring import mark_safe

from hrp_site.queueing import QueueingError
from predictions.services.enqueue import predictions_enqueue_refresh

from .forms import HkracingImportForm
from .models import (
    HkracingUpload,
    Horse,
    Jockey,
    ProviderSync,
    Race,
    Racecourse,
    Runner,
    Trainer,
)
from .providers.registry import ProviderNotConfigured
from .services import hkracing_upload_create, provider_sync_enqueue

IMPORT_PERMISSIONS = ("races.add_race", "races.add_runner")


def _count_of(queryset, fk: str):
    """A correlated COUNT per row, rather than a join that groups every row of both tables."""
    counted = queryset.filter(**{fk: OuterRef("pk")}).order_by().values(fk).annotate(n=Count("pk"))
    return Coalesce(Subquery(counted.values("n")), 0)


def _percent(value: float | None) -> str | None:
    return None if value is None else f"{value:.1%}"


@admin.display(description="source", ordering="source")
def source_code(record):
    # The short code: the labels ("Hong Kong results (CSV)") would wrap every row.
    return record.source


def _shown(model_admin, value):
    # Read-only fields on change pages print None as "None"; lists already print it as "-".
    return model_admin.get_empty_value_display() if value is None else value


class LoadedAutocompleteSelect(AutocompleteSelect):
    """An autocomplete that labels its selected option from an object already loaded.

    Django's widget fetches its selected object with a query of its own: on the race page that is
    three queries for every runner row. `LoadedAutocompleteForm` hands the widget the object that
    the admin's `select_related` queryset already loaded.
    """

    loaded = None

    def optgroups(self, name, value, attr=None):
        if self.loaded is None or list(value) != [str(self.loaded.pk)]:
            return super().optgroups(name, value, attr)
        options = []
        if not self.is_required:
            options.append(self.create_option(name, "", "", False, 0))
        label = self.choices.field.label_from_instance(self.loaded)
        options.append(self.create_option(name, self.loaded.pk, label, True, len(options)))
        return [(None, options, 0)]


class LoadedAutocompleteForm(forms.ModelForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name, field in self.fields.items():
            widget = getattr(field.widget, "widget", field.widget)  # in RelatedFieldWidgetWrapper
            if not isinstance(widget, LoadedAutocompleteSelect):
                continue
            if self.instance._meta.get_field(name).is_cached(self.instance):
                widget.loaded = getattr(self.instance, name)


class LoadedAutocompleteMixin:
    """Autocomplete fields labelled from the related rows that `get_queryset` selects."""

    form = LoadedAutocompleteForm

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name in self.get_autocomplete_fields(request):
            using = kwargs.get("using")
            kwargs["widget"] = LoadedAutocompleteSelect(db_field, self.admin_site, using=using)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


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
        return _shown(self, _percent(runner.implied_probability))


@admin.register(Racecourse)
class RacecourseAdmin(admin.ModelAdmin):
    list_display = ("name", "code", "country", "race_count", source_code, "external_id")
    list_filter = ("country", "source")
    search_fields = ("name", "code", "=external_id")
    readonly_fields = ("race_count",)
    fields = ("name", "code", "country", "race_count", "source", "external_id")

    def get_queryset(self, request):
        return (
            super().get_queryset(request).annotate(race_count=_count_of(Race.objects, "racecourse"))
        )

    @admin.display(description="races", ordering="race_count")
    def race_count(self, racecourse):
        return _shown(self, getattr(racecourse, "race_count", None))


@admin.register(Race)
class RaceAdmin(LoadedAutocompleteMixin, admin.ModelAdmin):
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
    actions = ("refresh_predictions",)
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

    @admin.action(description="Refresh the predictions of the selected races")
    def refresh_predictions(self, request, queryset):
        race_ids = list(queryset.values_list("pk", flat=True))
        try:
            predictions_enqueue_refresh(race_ids=race_ids)
        except QueueingError as exc:
            self.message_user(request, f"The refresh {exc}", messages.ERROR)
            return
        self.message_user(request, f"Predictions of {len(race_ids)} race(s) are being refreshed.")

    @admin.display(description="field size", ordering="field_size")
    def field_size(self, race):
        return _shown(self, getattr(race, "field_size", None))

    @admin.display(description="winner", ordering="winner_name")
    def winner(self, race):
        return _shown(self, getattr(race, "winner_name", None))

    @admin.display(description="market overround")
    def market_overround(self, race):
        """The win market's book: the sum of 1 / win odds over the starters; 100% is a fair book."""
        if race.pk is None:
            return _shown(self, None)
        odds = (
            race.runners.starters()
            .exclude(win_odds=None)
            .order_by()
            .values_list("win_odds", flat=True)
        )
        return _shown(self, _percent(sum(1 / float(o) for o in odds) if odds else None))

    @admin.display(description="demo data", boolean=True)
    def is_demo(self, race):
        return race.is_demo


@admin.register(Runner)
class RunnerAdmin(LoadedAutocompleteMixin, admin.ModelAdmin):
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
                    "jockey",
                    "trainer",
                    "draw",
                    ("carried_weight_lb", "declared_weight_lb"),
                    "rating",
                    "age",
                    "gear",
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
        return _shown(self, _percent(runner.implied_probability))

    @admin.display(description="demo data", boolean=True)
    def is_demo(self, runner):
        return runner.is_demo


class ParticipantAdmin(admin.ModelAdmin):
    """What the horse, jockey and trainer pages share."""

    runner_fk: str  # the Runner field pointing here
    list_filter = ("source",)
    search_fields = ("name", "=external_id")
    show_full_result_count = False
    readonly_fields = ("run_count", "is_demo")

    def get_queryset(self, request):
        runs = _count_of(Runner.objects, self.runner_fk)
        return super().get_queryset(request).annotate(run_count=runs)

    @admin.display(description="name", ordering="name")
    def label(self, participant):
        # The Hong Kong results name no one: "Horse #3917" rather than a link on "-".
        return str(participant)

    @admin.display(description="runs", ordering="run_count")
    def run_count(self, participant):
        return _shown(self, getattr(participant, "run_count", None))

    @admin.display(description="demo data", boolean=True)
    def is_demo(self, participant):
        return participant.is_demo


@admin.register(Horse)
class HorseAdmin(ParticipantAdmin):
    runner_fk = "horse"
    list_display = ("label", "external_id", "country", "sex", "run_count", source_code)
    list_filter = ("source", "country", "sex")
    fields = ("name", "country", "sex", "run_count", "source", "external_id", "is_demo")


@admin.register(Jockey)
class JockeyAdmin(ParticipantAdmin):
    runner_fk = "jockey"
    list_display = ("label", "external_id", "run_count", source_code)
    fields = ("name", "run_count", "source", "external_id", "is_demo")


@admin.register(Trainer)
class TrainerAdmin(ParticipantAdmin):
    runner_fk = "trainer"
    list_display = ("label", "external_id", "run_count", source_code)
    fields = ("name", "run_count", "source", "external_id", "is_demo")


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
        shown = [line for line in upload.summary if line.startswith(("races:", "runners:"))]
        return "; ".join(shown) or _shown(self, None)

    @admin.display(description="what was imported")
    def summary_lines(self, upload):
        return _lines(self, upload.summary)

    @admin.display(description="errors in the files")
    def error_lines(self, upload):
        return _lines(self, upload.errors)


def _lines(model_admin, lines: list[str]):
    if not lines:
        return _shown(model_admin, None)
    return format_html_join(mark_safe("<br>"), "{}", ((line,) for line in lines))
