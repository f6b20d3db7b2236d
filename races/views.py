"""Member pages: race days, race cards, search, and horse, jockey and trainer pages."""

from __future__ import annotations

import datetime
from typing import Any

from django.contrib.auth.mixins import LoginRequiredMixin
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.views.generic import DetailView, TemplateView

from accounts.selectors import followed_ids
from hrp_site.charts import Axis, Series, line_chart
from predictions.models import ModelVersion
from predictions.selectors import card_versions

from . import selectors
from .models import Horse, Jockey, Race, Trainer

# The card shows the first of these with a version usable on the race's day.
MODEL_PREFERENCE = ("benter", "lightgbm", "xgboost", "logit", "market")
FORM_LIMIT = 50
RECENT_RUNS_LIMIT = 30
SEARCH_LIMIT = 25
SEARCH_MIN_LENGTH = 2

# ?sort= key -> (column heading, the row's value).
SORT_COLUMNS = {
    "saddle": ("No.", lambda row: row.runner.saddle_number),
    "draw": ("Draw", lambda row: row.runner.draw),
    "weight": ("Weight (lb)", lambda row: row.runner.carried_weight_lb),
    "rating": ("Rating", lambda row: row.runner.rating),
    "odds": ("Odds", lambda row: row.runner.win_odds),
    "win": ("Win %", lambda row: row.prediction and row.prediction.win_probability),
    "place": ("Place %", lambda row: row.prediction and row.prediction.place_probability),
    "edge": ("Edge", lambda row: row.prediction and row.prediction.edge),
    "rank": ("Rank", lambda row: row.prediction and row.prediction.rank),
}
DEFAULT_SORT = "saddle"


class MemberPageMixin(LoginRequiredMixin):
    """Members only; what they follow, read once per request."""

    def followed(self) -> dict[str, set[int]]:
        if not hasattr(self, "_followed"):
            self._followed = followed_ids(user=self.request.user)
        return self._followed


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
        previous_day, next_day = selectors.race_day_neighbours(day=day)
        return super().get_context_data(**kwargs) | {
            "day": day,
            "is_today": day == timezone.localdate(),
            "races": selectors.race_day(day=day),
            "previous_day": previous_day,
            "next_day": next_day,
        }


class RaceCardView(MemberPageMixin, DetailView):
    """One race: runners, the chosen model's predictions, and the result once run."""

    template_name = "races/race_card.html"
    context_object_name = "race"

    def get_object(self, queryset=None) -> Race:
        return get_object_or_404(selectors.race_card(race_id=self.kwargs["pk"]))

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        race = self.object
        versions = card_versions(day=race.meeting_date)
        version = self._chosen_version(versions)
        rows = selectors.race_card_rows(
            race=race, version=version, followed_horse_ids=self.followed()["horse"]
        )
        sort = self.request.GET.get("sort", DEFAULT_SORT)
        if sort.removeprefix("-") not in SORT_COLUMNS:
            sort = DEFAULT_SORT
        previous_race, next_race = selectors.race_neighbours(race=race)
        settled = race.status == Race.Status.RESULT
        return super().get_context_data(
            rows=_sorted_rows(rows, sort),
            version=version,
            model_links=_model_links(versions, version),
            columns=_sort_headers(sort, version),
            summary=selectors.race_result_summary(rows) if settled else None,
            settled=settled,
            previous_race=previous_race,
            next_race=next_race,
            **kwargs,
        )

    def _chosen_version(self, versions: dict[str, ModelVersion]) -> ModelVersion | None:
        wanted = self.request.GET.get("model")
        if wanted in versions:
            return versions[wanted]
        return next((versions[name] for name in MODEL_PREFERENCE if name in versions), None)


def _sorted_rows(rows: list[selectors.CardRow], sort: str) -> list[selectors.CardRow]:
    value = SORT_COLUMNS[sort.removeprefix("-")][1]
    known = [row for row in rows if value(row) is not None]
    unknown = [row for row in rows if value(row) is None]
    known.sort(key=lambda row: row.runner.saddle_number)
    known.sort(key=value, reverse=sort.startswith("-"))  # stable: ties stay in saddle order
    return known + unknown


def _sort_headers(sort: str, version: ModelVersion | None) -> dict[str, dict[str, str]]:
    """Per sortable column: its heading, the link's query string and its aria-sort state."""
    headers = {}
    for key, (label, _) in SORT_COLUMNS.items():
        ascending = sort == key
        query = {"model": version.algorithm} if version else {}
        query["sort"] = f"-{key}" if ascending else key
        state = "ascending" if ascending else "descending" if sort == f"-{key}" else ""
        headers[key] = {"label": label, "query": "?" + urlencode(query), "aria_sort": state}
    return headers


def _model_links(
    versions: dict[str, ModelVersion], chosen: ModelVersion | None
) -> list[dict[str, Any]]:
    order = {name: i for i, name in enumerate(MODEL_PREFERENCE)}
    return [
        {
            "version": version,
            "query": "?" + urlencode({"model": name}),
            "current": chosen is not None and version.pk == chosen.pk,
        }
        for name, version in sorted(versions.items(), key=lambda item: order.get(item[0], 99))
    ]


class SearchView(MemberPageMixin, TemplateView):
    """Horses, jockeys and trainers by name or provider id."""

    template_name = "races/search.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        query = self.request.GET.get("q", "").strip()
        sections = []
        if len(query) >= SEARCH_MIN_LENGTH:
            for model, title, url_name in (
                (Horse, "Horses", "races:horse"),
                (Jockey, "Jockeys", "races:jockey"),
                (Trainer, "Trainers", "races:trainer"),
            ):
                results = selectors.participant_search(model=model, query=query, limit=SEARCH_LIMIT)
                sections.append(
                    {
                        "title": title,
                        "url_name": url_name,
                        "results": results,
                        "total": results[0].total if results else 0,
                    }
                )
        return super().get_context_data(
            query=query,
            too_short=0 < len(query) < SEARCH_MIN_LENGTH,
            min_length=SEARCH_MIN_LENGTH,
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
            following=horse.pk in self.followed()["horse"],
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
            following=self.object.pk in self.followed()[self.kind],
            **kwargs,
        )


class JockeyDetailView(ParticipantDetailView):
    model = Jockey
    kind = "jockey"


class TrainerDetailView(ParticipantDetailView):
    model = Trainer
    kind = "trainer"
