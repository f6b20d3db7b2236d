"""Odds as members read them: decimal (5.50) or British fractional (9/2)."""

from __future__ import annotations

import math
from fractions import Fraction

from django.db import models


class OddsFormat(models.TextChoices):
    DECIMAL = "decimal", "Decimal (5.50)"
    FRACTIONAL = "fractional", "Fractional (9/2)"


# The prices bookmakers quote (winnings per unit staked), as they are written: a Fraction
# would reduce 6/4 and 4/6 to 3/2 and 2/3, which no board shows.
LADDER = [
    (1, 100), (1, 50), (1, 33), (1, 25), (1, 20), (1, 16), (1, 14), (1, 12),
    (1, 10), (1, 8), (1, 7), (1, 6), (2, 11), (1, 5), (2, 9), (1, 4), (2, 7), (1, 3),
    (4, 11), (2, 5), (4, 9), (1, 2), (8, 15), (4, 7), (8, 13), (4, 6), (8, 11), (4, 5),
    (5, 6), (10, 11), (1, 1), (11, 10), (6, 5), (5, 4), (11, 8), (6, 4), (13, 8), (7, 4),
    (15, 8), (2, 1), (9, 4), (5, 2), (11, 4), (3, 1), (10, 3), (7, 2), (4, 1), (9, 2),
    (5, 1), (11, 2), (6, 1), (13, 2), (7, 1), (15, 2), (8, 1), (17, 2), (9, 1), (10, 1),
    (11, 1), (12, 1), (14, 1), (16, 1), (18, 1), (20, 1), (22, 1), (25, 1), (28, 1),
    (33, 1), (40, 1), (50, 1), (66, 1), (80, 1), (100, 1), (125, 1), (150, 1), (200, 1),
    (250, 1), (500, 1), (1000, 1),
]  # fmt: skip


def fractional(decimal: float) -> str:
    """Decimal odds as the nearest quoted fraction (nearest in log terms): 5.5 -> "9/2",
    2.0 -> "Evs". Prices between the ladder's steps are rounded to one of them, as a
    bookmaker's board does."""
    winnings = math.log(decimal - 1)
    numerator, denominator = min(LADDER, key=lambda step: abs(math.log(Fraction(*step)) - winnings))
    if numerator == denominator:
        return "Evs"
    return f"{numerator}/{denominator}"


def odds_display(value: object, odds_format: str = OddsFormat.DECIMAL) -> str:
    """Odds in the member's format; "–" when unknown or not above 1 (no fraction to show)."""
    if value is None:
        return "–"
    decimal = float(value)
    if odds_format == OddsFormat.FRACTIONAL and decimal > 1:
        return fractional(decimal)
    return f"{decimal:.2f}"
