"""What every provider returns: plain racecards, free of the ORM and of the provider's shapes."""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import ClassVar

from races.units import METRES_PER_FURLONG, METRES_PER_YARD


class ProviderError(Exception):
    """A provider failed; the message names the provider, the request and what came back."""


class ProviderTransientError(ProviderError):
    """A failure worth another try later: a 5xx answer, a time-out or a refused connection."""


@dataclass
class RunnerCard:
    horse_name: str
    horse_external_id: str
    saddle_number: int | None  # None for a non-runner the provider no longer numbers
    jockey_name: str = ""
    jockey_external_id: str = ""
    trainer_name: str = ""
    trainer_external_id: str = ""
    horse_country: str = ""
    horse_sex: str = ""  # a Horse.Sex value, or "" when unknown
    draw: int | None = None
    weight_lb: int | None = None
    rating: int | None = None
    age: int | None = None
    gear: str = ""
    jockey_allowance_lb: int | None = None
    form: str = ""  # the racecard's own form figures
    days_since_run: int | None = None
    win_odds: Decimal | None = None
    non_runner: bool = False


@dataclass
class RaceCard:
    external_id: str
    course_name: str
    course_country: str
    course_external_id: str
    course_code: str
    date: datetime.date
    race_number: int
    distance_m: int
    off_time: datetime.datetime | None = None
    name: str = ""
    surface: str = "turf"  # a Race.Surface value
    going: str = ""  # a Race.Going value, or "" when unknown
    race_class: str = ""
    rating_band: str = ""
    prize: Decimal | None = None
    prize_currency: str = ""
    runners: list[RunnerCard] = field(default_factory=list)


@dataclass
class RunnerResult:
    horse_external_id: str
    finish_position: int | None = None  # None: ran and did not finish
    non_finish: str = (
        ""  # a Runner.NonFinish value when it did not finish and the provider says why
    )
    dead_heat: bool = False
    non_runner: bool = False


@dataclass
class RaceResult:
    """How a race of the provider's racecards ended, under the id its racecard carries.

    `runners` holds the placings where the provider gives them and is empty where it does not;
    a runner left out of a race's placings did not finish.
    """

    external_id: str
    status: str  # a Race.Status value: "result" or "abandoned"
    runners: list[RunnerResult] = field(default_factory=list)


class Provider:
    """A source of racecards and results for a day. `results` is empty where a provider has none."""

    name: ClassVar[str]

    def racecards(self, day: datetime.date) -> list[RaceCard]:
        raise NotImplementedError

    def results(self, day: datetime.date) -> list[RaceResult]:
        return []


def furlongs_to_metres(furlongs: float) -> int:
    return round(furlongs * METRES_PER_FURLONG)


def yards_to_metres(yards: float) -> int:
    return round(yards * METRES_PER_YARD)


def int_or_none(value: object) -> int | None:
    """Provider numbers arrive as ints, digit strings, "" or placeholders such as "-" and "NR"."""
    if isinstance(value, int):
        return value
    text = str(value or "").strip()
    return int(text) if text.isdigit() else None


CURRENCY_SYMBOLS = {"£": "GBP", "€": "EUR"}
DOLLARS = {"US": "USD", "CA": "CAD", "AU": "AUD", "NZ": "NZD", "HK": "HKD"}


def prize_parse(text: str, *, country: str) -> tuple[Decimal | None, str]:
    """ "£4,187" -> (4187, "GBP"); "$20000.00" in Canada -> (20000.00, "CAD")."""
    text = (text or "").strip()
    amount = re.sub(r"[^0-9.]", "", text)
    if not amount:
        return None, ""
    try:
        value = Decimal(amount)
    except InvalidOperation:
        return None, ""
    symbol = text[0]
    currency = DOLLARS.get(country, "USD") if symbol == "$" else CURRENCY_SYMBOLS.get(symbol, "")
    return value, currency


def course_code(name: str) -> str:
    """An 8-character code for a course named in full: "Lingfield (AW)" -> "LINGFIAW".

    The suffix in brackets is kept so that a course's turf and all-weather tracks differ.
    """
    base, _, suffix = name.partition("(")
    base = re.sub(r"[^A-Z0-9]", "", base.upper())
    suffix = re.sub(r"[^A-Z0-9]", "", suffix.upper())[:3]
    return base[: 8 - len(suffix)] + suffix
