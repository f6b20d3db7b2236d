"""Member pages: race days, search, and horse, jockey and trainer pages (the race card, which
shows predictions, is the predictions app's)."""

from __future__ import annotations

import datetime
from typing import Any

from django.contrib.auth.mixins import LoginRequiredMixin
from django.http import HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.generic import DetailView, TemplateView

from hrp_site.charts import Axis, Series, line_chart
from hrp_site.shared_cache import cached

from . import selectors
from .forms import SEARCH_MAX_LENGTH, SearchForm
from .models import Horse, Jockey, Trainer
from .services.cache import RACES

FORM_LIMIT = 50
RECENT_RUNS_LIMIT = 30
SEARCH_LIMIT = 25
SEARCH_MIN_LENGTH = 2


class MemberPageMixin(LoginRequiredMixin):
    """Members only."""


class RaceDayView(MemberPageMixin, TemplateView):
    """The races of one day (today without a date), by racecourse."""

    template_name = "races/day.html"

    def get(self, request, *args, **kwargs):
        picked = request.GET.get("date")
        if picked:
            try:
                day = datetime.date.fromisoformat(picked)
            except ValueError:
                pass
            else:
                return HttpResponseRedirect(reverse("races:day", kwargs={"day": day}))
        return super().get(request, *args, **kwargs)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        day = self.kwargs.get("day") or timezone.localdate()
        # The same for every member: read once per change of the race data (races.services.cache).
        shared = cached(f"race-day:{day.isoformat()}", generations=[RACES], build=lambda: _day(day))
        return super().get_context_data(**kwargs) | {
            "day": day,
            "is_today": day == timezone.localdate(),
            **shared,
        }


def _day(day: datetime.date) -> dict[str, Any]:
    previous_day, next_day = selectors.race_day_neighbours(day=day)
    return {
        "races": list(selectors.race_day(day=day)),
        "previous_day": previous_day,
        "next_day": next_day,
    }


class NextToRunView(MemberPageMixin, TemplateView):
    """Today's races not yet run across every meeting, by off time."""

    template_name = "races/next_to_run.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        today = timezone.localdate()
        # The same for every member; only "off time passed" depends on the moment of asking.
        races = cached(
            f"next-to-run:{today.isoformat()}",
            generations=[RACES],
            build=lambda: list(selectors.races_next_to_run(day=today)),
        )
        now = timezone.now()
        return super().get_context_data(
            day=today,
            races=[
                {
                    "race": race,
                    "minutes_to_off": None
                    if race.post_time is None
                    else int((race.post_time - now).total_seconds() // 60),
                }
                for race in races
            ],
            **kwargs,
        )


class SearchView(MemberPageMixin, TemplateView):
    """Racecourses, races (by name, course or date), horses, jockeys and trainers."""

    template_name = "races/search.html"

    def get(self, request, *args, **kwargs):
        form = SearchForm(request.GET)
        if not form.is_valid():
            context = {
                "errors": form.errors["q"],
                "min_length": SEARCH_MIN_LENGTH,
                "max_length": SEARCH_MAX_LENGTH,
            }
            return render(request, self.template_name, context, status=400)
        return super().get(request, *args, query=form.cleaned_data["q"], **kwargs)

    def get_context_data(self, *, query: str, **kwargs: Any) -> dict[str, Any]:
        sections = []
        if len(query) >= SEARCH_MIN_LENGTH:
            found = [
                (
                    "racecourses",
                    "Racecourses",
                    selectors.racecourse_search(
                        query=query, today=timezone.localdate(), limit=SEARCH_LIMIT
                    ),
                ),
                ("races", "Races", selectors.race_search(query=query, limit=SEARCH_LIMIT)),
            ]
            for model, title in ((Horse, "Horses"), (Jockey, "Jockeys"), (Trainer, "Trainers")):
                results = selectors.participant_search(model=model, query=query, limit=SEARCH_LIMIT)
                found.append(("participants", title, results))
            sections = [
                {
                    "kind": kind,
                    "title": title,
                    "results": results,
                    "total": results[0].total if results else 0,
                }
                for kind, title, results in found
            ]
        return super().get_context_data(
            query=query,
            too_short=0 < len(query) < SEARCH_MIN_LENGTH,
            min_length=SEARCH_MIN_LENGTH,
            max_length=SEARCH_MAX_LENGTH,
            limit=SEARCH_LIMIT,
            sections=sections,
            **kwargs,
        )


class HorseDetailView(MemberPageMixin, DetailView):
    """A horse: its next runs, its form and charts of its positions and ratings."""

    model = Horse
    template_name = "races/horse_detail.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        horse = self.object
        runs = list(selectors.horse_form(horse_id=horse.pk)[: FORM_LIMIT + 1])
        runs, more = runs[:FORM_LIMIT], len(runs) > FORM_LIMIT
        return super().get_context_data(
            runs=runs,
            more_runs=more,
            form_limit=FORM_LIMIT,
            next_runs=selectors.participant_next_runs(
                kind="horse", participant_id=horse.pk, today=timezone.localdate()
            ),
            **_horse_charts(horse, runs),
            **kwargs,
        )


def _horse_charts(horse: Horse, runs: list) -> dict[str, Any]:
    runs = runs[::-1]  # oldest first
    positions = [(r.race.meeting_date, r.finish_position) for r in runs if r.finish_position]
    ratings = [(r.race.meeting_date, r.rating) for r in runs if r.rating is not None]
    return {
        "position_chart": line_chart(
            title=f"{horse}: finishing positions",
            series=[Series("Finishing position", positions)],
            y_axis=Axis("Position", minimum=1, invert=True, format=lambda v: f"{v:.0f}"),
            description="Finishing position in each run, oldest on the left; 1st at the top. "
            "The form table lists the same positions.",
        ),
        "rating_chart": line_chart(
            title=f"{horse}: ratings",
            series=[Series("Rating", ratings)],
            y_axis=Axis("Rating"),
            description="The horse's rating in each run, oldest on the left. "
            "The form table lists the same ratings.",
        ),
    }


class ParticipantDetailView(MemberPageMixin, DetailView):
    """A jockey or a trainer: strike rates, recent runs and next declared runs."""

    template_name = "races/participant_detail.html"
    context_object_name = "participant"
    kind = ""  # "jockey" or "trainer"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        today = timezone.localdate()
        who = {"kind": self.kind, "participant_id": self.object.pk}
        return super().get_context_data(
            kind=self.kind,
            strike_rates=selectors.participant_strike_rates(**who, today=today),
            years=selectors.participant_strike_rates_by_year(**who),
            recent_runs=selectors.participant_recent_runs(**who)[:RECENT_RUNS_LIMIT],
            recent_limit=RECENT_RUNS_LIMIT,
            next_runs=selectors.participant_next_runs(**who, today=today),
            **kwargs,
        )


class JockeyDetailView(ParticipantDetailView):
    model = Jockey
    kind = "jockey"


class TrainerDetailView(ParticipantDetailView):
    model = Trainer
    kind = "trainer"
