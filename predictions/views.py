"""HTML views."""

from __future__ import annotations

import datetime
from typing import Any

from django.contrib.auth.mixins import LoginRequiredMixin
from django.utils.safestring import SafeString
from django.views.generic import TemplateView

from hrp_site.charts import Axis, Series, line_chart

from . import selectors


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
