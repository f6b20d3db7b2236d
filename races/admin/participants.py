"""Horses, jockeys and trainers."""

from django.contrib import admin

from hrp_site.admin_search import BoundedSearchMixin

from ..models import (
    Horse,
    Jockey,
    Runner,
    Trainer,
)
from .common import count_of, shown, source_code


class ParticipantAdmin(BoundedSearchMixin, admin.ModelAdmin):
    """What the horse, jockey and trainer pages share."""

    runner_fk: str  # the Runner field pointing here
    list_filter = ("source",)
    search_fields = ("name", "=external_id")
    show_full_result_count = False
    readonly_fields = ("run_count", "is_demo")

    def get_queryset(self, request):
        runs = count_of(Runner.objects, self.runner_fk)
        return super().get_queryset(request).annotate(run_count=runs)

    @admin.display(description="name", ordering="name")
    def label(self, participant):
        # The Hong Kong results name no one: "Horse #3917" rather than a link on "-".
        return str(participant)

    @admin.display(description="runs", ordering="run_count")
    def run_count(self, participant):
        return shown(self, getattr(participant, "run_count", None))

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
