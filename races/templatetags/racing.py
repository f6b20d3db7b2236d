"""Display helpers for the race pages: distances, odds and percentages."""

from __future__ import annotations

from django import template

from races.models import Horse
from races.odds import odds_display
from races.units import METRES_PER_FURLONG

register = template.Library()


@register.filter
def signed(value: float | None, places: int = 2) -> str:
    """+0.84, -1.20."""
    if value is None:
        return ""
    return f"{float(value):+.{int(places)}f}"


@register.filter
def percent(value: float | None, places: int = 1) -> str:
    """A probability as a percentage: 0.253 -> "25.3%"."""
    if value is None:
        return "–"
    return f"{100 * float(value):.{int(places)}f}%"


@register.filter
def signed_percent(value: float | None, places: int = 1) -> str:
    """An edge as a signed percentage: 0.12 -> "+12.0%"."""
    if value is None:
        return "–"
    return f"{100 * float(value):+.{int(places)}f}%".replace("-", "−")


@register.filter
def rate(value: float | None) -> str:
    """An already-percent rate: 12.345 -> "12.3%"."""
    if value is None:
        return "–"
    return f"{float(value):.1f}%"


@register.filter
def furlongs(metres: int | None) -> str:
    """Metres in furlongs to the nearest half: 1200 -> "6f", 1500 -> "7½f"."""
    if not metres:
        return ""
    halves = round(metres / METRES_PER_FURLONG * 2)
    whole, half = divmod(halves, 2)
    return f"{whole}{'½' if half else ''}f"


@register.filter
def decimal_odds(value) -> str:
    """Decimal odds to two places; "–" when unknown."""
    if value is None:
        return "–"
    return f"{float(value):.2f}"


@register.filter
def odds(value, odds_format: str) -> str:
    """Odds in the member's format (races.odds): "5.50" or "9/2"; "–" when unknown."""
    return odds_display(value, odds_format)


SEX_CODES = {
    Horse.Sex.COLT: "c",
    Horse.Sex.FILLY: "f",
    Horse.Sex.GELDING: "g",
    Horse.Sex.MARE: "m",
    Horse.Sex.HORSE: "h",
    Horse.Sex.RIG: "r",
}


@register.filter
def sex_code(sex: str) -> str:
    """A horse's sex as racecards print it after the age: "gelding" -> "g"."""
    return SEX_CODES.get(sex, "")


# The Racing API's (and the British racecards') headgear letters.
HEADGEAR = {
    "b": "blinkers",
    "v": "visor",
    "p": "cheekpieces",
    "h": "hood",
    "t": "tongue strap",
    "e": "eye shield",
    "s": "sheepskin cheekpieces",
}


@register.filter
def headgear_words(gear: str) -> str:
    """ "tp" -> "tongue strap, cheekpieces"; a code we do not know is shown as it is."""
    if gear and all(letter in HEADGEAR for letter in gear.lower()):
        return ", ".join(HEADGEAR[letter] for letter in gear.lower())
    return gear


@register.filter
def ordinal(value: int | None) -> str:
    """1 -> "1st", 22 -> "22nd", 13 -> "13th"."""
    if value is None:
        return ""
    value = int(value)
    suffix = "th" if 10 <= value % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(value % 10, "th")
    return f"{value}{suffix}"


@register.filter
def minutes_words(minutes: int | None) -> str:
    """A wait in minutes as people say it: "30 min", "2 h", "4 h 7 min"."""
    if minutes is None:
        return ""
    hours, rest = divmod(int(minutes), 60)
    if not hours:
        return f"{rest} min"
    return f"{hours} h" + (f" {rest} min" if rest else "")
