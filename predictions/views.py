"""HTML views: the race card (runners, predictions, result), a day's results with our top
picks, and the models' track record."""

from __future__ import annotations

import datetime
from typing import Any

from django.contrib.auth.mixins import LoginRequiredMixin
from django.shortcuts import get_object_or_404
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.http import urlencode
from django.utils.safestring import SafeString
from django.views.generic import TemplateView

from hrp_site.charts import Axis, Series, line_chart
from hrp_site.shared_cache import cached
from races.models import Race
from races.odds import OddsFormat
from races.selectors import race_card, race_day_neighbours, race_neighbours
from races.services.cache import RACES
from races.views import MemberPageMixin

from . import selectors
from .models import ModelVersion
from .services.cache import VERSIONS, race_card_generations, race_predictions_generation

# ?sort= key -> (column heading, the row's value).
SORT_COLUMNS = {
    "saddle": ("No.", lambda row: row.runner.saddle_number),
    "draw": ("Draw", lambda row: row.runner.draw),
    "weight": ("Wt (lb)", lambda row: row.runner.carried_weight_lb),
    "rating": ("Rating", lambda row: row.runner.rating),
    "odds": ("Odds", lambda row: row.runner.win_odds),
    "win": ("Win %", lambda row: row.prediction and row.prediction.win_probability),
    "place": ("Place %", lambda row: row.prediction and row.prediction.place_probability),
    "edge": ("Edge", lambda row: row.prediction and row.prediction.edge),
    "rank": ("Rank", lambda row: row.prediction and row.prediction.rank),
}
DEFAULT_SORT = "saddle"
# Columns whose first click sorts high to low: the best chances and edges first.
DESCENDING_FIRST = {"win", "place", "edge", "rating"}


class RaceCardView(MemberPageMixin, TemplateView):
    """One race: runners, the chosen model's predictions, and the result once run.

    All but the follow buttons is the same for every member who reads odds the same way: it is
    rendered once per race, model choice, sort order and odds format, and kept in the shared
    cache until the race, its runners, its predictions or the model registry change
    (hrp_site.shared_cache). The page puts the member's follow buttons into it on each request.
    """

    template_name = "predictions/race_card.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        race_id = self.kwargs["pk"]
        wanted = self.request.GET.get("model")
        if wanted not in ModelVersion.Algorithm.values:
            wanted = None
        sort = self.request.GET.get("sort", DEFAULT_SORT)
        if sort.removeprefix("-") not in SORT_COLUMNS:
            sort = DEFAULT_SORT
        odds_format = member_odds_format(self.request.user)
        card = cached(
            f"race-card:{race_id}:{wanted or ''}:{sort}:{odds_format}",
            generations=race_card_generations(race_id=race_id),
            build=lambda: _race_card_shared(
                race_id=race_id, wanted=wanted, sort=sort, odds_format=odds_format
            ),
        )
        return super().get_context_data(card=card, **kwargs)


def member_odds_format(user: Any) -> str:
    """The member's choice of odds format in the profile (accounts), read off the user without
    importing accounts; decimal for anyone without a valid one."""
    odds_format = getattr(user, "odds_format", OddsFormat.DECIMAL)
    return odds_format if odds_format in OddsFormat.values else OddsFormat.DECIMAL


def _race_card_shared(
    *, race_id: int, wanted: str | None, sort: str, odds_format: str
) -> dict[str, str]:
    """The card's title and its HTML with follow slots (`predictions/_race_card_body.html`)."""
    race = get_object_or_404(race_card(race_id=race_id))
    versions = selectors.card_versions(day=race.meeting_date)
    version = selectors.card_version_shown(versions=versions, wanted=wanted)
    rows = selectors.race_card_rows(race=race, version=version)
    previous_race, next_race = race_neighbours(race=race)
    settled = race.status == Race.Status.RESULT
    context = {
        "race": race,
        "rows": _sorted_rows(rows, sort),
        "version": version,
        "model_links": _model_links(versions, version),
        "columns": _sort_headers(sort, version),
        "summary": selectors.race_result_summary(rows) if settled else None,
        "settled": settled,
        "place_terms": selectors.race_card_place_terms(race=race),
        "odds_format": odds_format,
        "previous_race": previous_race,
        "next_race": next_race,
    }
    day = date_format(race.meeting_date, "j M Y")
    return {
        "title": f"{race.racecourse.name} R{race.race_number}, {day}",
        "body": render_to_string("predictions/_race_card_body.html", context),
    }


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
        ascending, descending = sort == key, sort == f"-{key}"
        query = {"model": version.algorithm} if version else {}
        if ascending or descending:
            query["sort"] = key if descending else f"-{key}"  # a second click turns it round
        else:
            query["sort"] = f"-{key}" if key in DESCENDING_FIRST else key
        state = "ascending" if ascending else "descending" if descending else ""
        headers[key] = {"label": label, "query": "?" + urlencode(query), "aria_sort": state}
    return headers


def _model_links(
    versions: dict[str, ModelVersion], chosen: ModelVersion | None
) -> list[dict[str, Any]]:
    order = {name: i for i, name in enumerate(ModelVersion.CARD_PREFERENCE)}
    return [
        {
            "version": version,
            "query": "?" + urlencode({"model": name}),
            "current": chosen is not None and version.pk == chosen.pk,
        }
        for name, version in sorted(versions.items(), key=lambda item: order.get(item[0], 99))
    ]


class DayResultsView(MemberPageMixin, TemplateView):
    """A day's results: every race's placings, the winner's odds, and where the card's model's
    top pick finished. The data is the same for every member: read once per change of the day's
    races, their predictions or the model registry (hrp_site.shared_cache); the page is rendered
    per request from it, with the odds in the member's format."""

    template_name = "predictions/day_results.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        day = self.kwargs.get("day") or timezone.localdate()
        race_ids = cached(
            f"race-day-ids:{day.isoformat()}",
            generations=[RACES],
            build=lambda: list(Race.objects.on_date(day).values_list("pk", flat=True)),
        )
        generations = [RACES, VERSIONS, *(race_predictions_generation(pk) for pk in race_ids)]
        shared = cached(
            f"day-results:{day.isoformat()}",
            generations=generations,
            build=lambda: _day_results_shared(day),
        )
        return super().get_context_data(**kwargs) | {
            "day": day,
            "odds_format": member_odds_format(self.request.user),
            **shared,
        }


def _day_results_shared(day: datetime.date) -> dict[str, Any]:
    version = selectors.card_version_shown(versions=selectors.card_versions(day=day))
    results = selectors.day_results(day=day, version=version)
    previous_day, next_day = race_day_neighbours(day=day)
    settled = [result for result in results if result.settled]
    picked = [result for result in settled if result.top_pick is not None]
    return {
        "version": version,
        "results": results,
        "settled_count": len(settled),
        "picked_count": len(picked),
        "top_pick_wins": sum(result.top_pick_won for result in picked),
        "previous_day": previous_day,
        "next_day": next_day,
    }


def _percent(value: float) -> str:
    return f"{value:.0%}"


class PerformanceView(LoginRequiredMixin, TemplateView):
    """How each model did on races it never saw, beside the betting market. Reads stored
    evaluations only: nothing is trained or scored in the request."""

    template_name = "predictions/performance.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        performance = selectors.model_performance(window=self.request.GET.get("window"))
        chosen = performance["chosen"]
        returns = _returns_series(chosen)
        days = sorted({row["day"] for _, rows in returns for row in rows})
        by_day = [{row["day"]: row for row in rows} for _, rows in returns]
        return super().get_context_data(
            **kwargs,
            performance=performance,
            calibration_chart=_calibration_chart(chosen),
            returns_chart=_returns_chart(returns),
            returns_labels=[label for label, _ in returns],
            returns_table=[
                {"day": day, "cells": [rows.get(day) for rows in by_day]} for day in days
            ],
        )


def _calibration_chart(chosen: list) -> SafeString:
    return line_chart(
        title="Calibration: predicted against observed win rate",
        series=[
            Series(
                label,
                points=[
                    (row["mean_predicted"], row["observed_win_rate"])
                    for row in metrics["calibration"]
                ],
            )
            for label, metrics in chosen
        ],
        x_axis=Axis("Mean predicted win probability (tenths of the runners)", 0.0, format=_percent),
        y_axis=Axis("Observed win rate", 0.0, format=_percent),
        diagonal=True,
        description=(
            "For each model, the runners cut into ten equal groups by predicted win probability: "
            "a well calibrated model's points lie on the dashed diagonal."
        ),
    )


def _returns_series(chosen: list) -> list[tuple[str, list[dict]]]:
    """(label, by-day rows): each model's value bets, then the market model's top pick."""
    series = [
        (f"{label}: value bets", metrics["returns"]["value"].get("by_day", []))
        for label, metrics in chosen
    ]
    series += [
        (f"{label}: top pick", metrics["returns"]["top_pick"].get("by_day", []))
        for label, metrics in chosen
        if metrics["algorithm"] == "market"
    ]
    return series


def _returns_chart(series: list[tuple[str, list[dict]]]) -> SafeString:
    return line_chart(
        title="Cumulative profit of flat one-unit win bets",
        series=[
            Series(
                label,
                points=[
                    (datetime.date.fromisoformat(row["day"]), row["cumulative_profit"])
                    for row in rows
                ],
                markers=False,
            )
            for label, rows in series
        ],
        x_axis=Axis("Race day"),
        y_axis=Axis("Cumulative profit (units)", format=lambda value: f"{value:+g}"),
        description=(
            "Profit in units, race day by race day, of a one-unit win bet on every runner a "
            "model rates above its price; backing the market's own top pick is the yardstick."
        ),
    )
