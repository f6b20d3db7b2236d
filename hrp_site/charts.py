"""Charts drawn on the server as inline SVG: no JavaScript and nothing from a CDN.

`line_chart` takes series of (x, y) points, x a number or a date, and returns markup for a
template (`{{ chart }}`). The SVG carries a title and a description for screen readers, and the
values are also meant to be shown in a table beside it, so the chart is never the only way in.
"""

from __future__ import annotations

import datetime
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

WIDTH, HEIGHT = 640, 300
MARGIN_LEFT, MARGIN_RIGHT, MARGIN_TOP, MARGIN_BOTTOM = 56, 16, 16, 44
# Colour-blind-safe (Okabe-Ito), each at least 3:1 against white.
PALETTE = ("#0072b2", "#d55e00", "#009e73", "#cc79a7", "#e69f00", "#56b4e9")

XValue = float | int | datetime.date


@dataclass
class Series:
    label: str
    points: Sequence[tuple[XValue, float | None]]
    markers: bool = True
    line: bool = True
    colour: str | None = None


@dataclass
class Axis:
    label: str = ""
    minimum: float | None = None
    maximum: float | None = None
    invert: bool = False  # positions: 1 at the top
    format: Callable[[float], str] = field(default=lambda value: f"{value:g}")


def _number(x: XValue) -> float:
    return float(x.toordinal()) if isinstance(x, datetime.date) else float(x)


def _ticks(low: float, high: float, count: int = 5) -> list[float]:
    if high <= low:
        return [low]
    raw = (high - low) / count
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    first = math.ceil(low / step) * step
    ticks = []
    value = first
    while value <= high + step * 1e-9:
        ticks.append(round(value, 10))
        value += step
    return ticks


def line_chart(
    *,
    title: str,
    series: Sequence[Series],
    x_axis: Axis | None = None,
    y_axis: Axis | None = None,
    diagonal: bool = False,
    description: str = "",
) -> SafeString:
    """An SVG line (or scatter) chart. `diagonal` draws y = x, for calibration charts."""
    x_axis = x_axis or Axis()
    y_axis = y_axis or Axis()
    points = [(_number(x), y) for s in series for x, y in s.points if y is not None]
    if not points:
        return format_html('<p class="chart-empty">{}: nothing to draw yet.</p>', title)
    dates = any(isinstance(x, datetime.date) for s in series for x, _ in s.points)

    xs = [x for x, _ in points]
    ys = [y for _, y in points]
    x_low = x_axis.minimum if x_axis.minimum is not None else min(xs)
    x_high = x_axis.maximum if x_axis.maximum is not None else max(xs)
    y_low = y_axis.minimum if y_axis.minimum is not None else min(ys)
    y_high = y_axis.maximum if y_axis.maximum is not None else max(ys)
    if x_high == x_low:
        x_low, x_high = x_low - 1, x_high + 1
    if y_high == y_low:
        y_low, y_high = y_low - 1, y_high + 1

    plot_w = WIDTH - MARGIN_LEFT - MARGIN_RIGHT
    plot_h = HEIGHT - MARGIN_TOP - MARGIN_BOTTOM

    def px(x: float) -> float:
        return round(MARGIN_LEFT + (x - x_low) / (x_high - x_low) * plot_w, 1)

    def py(y: float) -> float:
        share = (y - y_low) / (y_high - y_low)
        if y_axis.invert:
            share = 1 - share
        return round(MARGIN_TOP + (1 - share) * plot_h, 1)

    parts: list[str] = []
    for tick in _ticks(y_low, y_high):
        parts.append(
            format_html(
                '<line class="grid" x1="{}" x2="{}" y1="{}" y2="{}"/>'
                '<text class="tick" x="{}" y="{}" text-anchor="end">{}</text>',
                MARGIN_LEFT,
                WIDTH - MARGIN_RIGHT,
                py(tick),
                py(tick),
                MARGIN_LEFT - 6,
                py(tick) + 4,
                y_axis.format(tick),
            )
        )
    for tick in _ticks(x_low, x_high):
        label = (
            datetime.date.fromordinal(int(tick)).strftime("%d %b %y")
            if dates
            else x_axis.format(tick)
        )
        parts.append(
            format_html(
                '<text class="tick" x="{}" y="{}" text-anchor="middle">{}</text>',
                px(tick),
                HEIGHT - MARGIN_BOTTOM + 16,
                label,
            )
        )
    parts.append(
        format_html(
            '<line class="axis" x1="{}" x2="{}" y1="{}" y2="{}"/>'
            '<line class="axis" x1="{}" x2="{}" y1="{}" y2="{}"/>',
            MARGIN_LEFT,
            WIDTH - MARGIN_RIGHT,
            HEIGHT - MARGIN_BOTTOM,
            HEIGHT - MARGIN_BOTTOM,
            MARGIN_LEFT,
            MARGIN_LEFT,
            MARGIN_TOP,
            HEIGHT - MARGIN_BOTTOM,
        )
    )
    if diagonal:
        low, high = max(x_low, y_low), min(x_high, y_high)
        parts.append(
            format_html(
                '<line class="diagonal" x1="{}" y1="{}" x2="{}" y2="{}"/>',
                px(low),
                py(low),
                px(high),
                py(high),
            )
        )
    if x_axis.label:
        parts.append(
            format_html(
                '<text class="axis-label" x="{}" y="{}" text-anchor="middle">{}</text>',
                MARGIN_LEFT + plot_w / 2,
                HEIGHT - 6,
                x_axis.label,
            )
        )
    if y_axis.label:
        parts.append(
            format_html(
                '<text class="axis-label" transform="translate(14 {}) rotate(-90)" '
                'text-anchor="middle">{}</text>',
                MARGIN_TOP + plot_h / 2,
                y_axis.label,
            )
        )

    legend = []
    for index, s in enumerate(series):
        colour = s.colour or PALETTE[index % len(PALETTE)]
        drawn = [(px(_number(x)), py(y)) for x, y in s.points if y is not None]
        if s.line and len(drawn) > 1:
            path = " ".join(f"{x},{y}" for x, y in drawn)
            parts.append(
                format_html(
                    '<polyline class="series" points="{}" stroke="{}" fill="none"/>', path, colour
                )
            )
        if s.markers:
            parts.append(
                format_html_join(
                    "",
                    '<circle cx="{}" cy="{}" r="3" fill="{}"/>',
                    ((x, y, colour) for x, y in drawn),
                )
            )
        legend.append(
            format_html(
                # An SVG fill, not a style attribute, which the Content-Security-Policy refuses.
                '<li><svg class="swatch" viewBox="0 0 1 1" aria-hidden="true">'
                '<rect width="1" height="1" fill="{}"/></svg>{}</li>',
                colour,
                s.label,
            )
        )

    svg = format_html(
        '<figure class="chart"><svg viewBox="0 0 {} {}" role="img" aria-labelledby="{}-t {}-d" '
        'xmlns="http://www.w3.org/2000/svg"><title id="{}-t">{}</title><desc id="{}-d">{}</desc>'
        '{}</svg><figcaption><ul class="legend">{}</ul></figcaption></figure>',
        WIDTH,
        HEIGHT,
        _slug(title),
        _slug(title),
        _slug(title),
        title,
        _slug(title),
        description or title,
        mark_safe("".join(parts)),  # noqa: S308 - every part is built with format_html
        mark_safe("".join(legend)),  # noqa: S308
    )
    return svg


def _slug(text: str) -> str:
    return "chart-" + "".join(c if c.isalnum() else "-" for c in text.lower())[:40]
