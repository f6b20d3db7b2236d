"""The Racing API (theracingapi.com): racecards over HTTP Basic auth.

The free tier's racecards carry no ids of their own, so ours are built from what identifies a
runner in British racing: the course and off time for a race, a horse's name with its country of
breeding, and people's names.
"""

from __future__ import annotations

import base64
import datetime
import re
from collections import defaultdict

from races.vocabulary import going_choice, sex_choice

from .base import (
    Provider,
    RaceCard,
    RunnerCard,
    course_code,
    furlongs_to_metres,
    int_or_none,
    prize_parse,
)
from .http import JsonClient

RACECARDS_PATH = "/v1/racecards/free"
SURFACES = {"AW": "all_weather", "Turf": "turf", "Dirt": "dirt"}
NON_RUNNER = "NON-RUNNER"
CLAIM = re.compile(r"(?P<name>.*\S)\s*\((?P<claim>\d{1,2})\)")


class TheRacingApiProvider(Provider):
    name = "theracingapi"

    def __init__(self, *, base_url: str, username: str, password: str, **client_options) -> None:
        token = base64.b64encode(f"{username}:{password}".encode()).decode()
        self.client = JsonClient(
            provider=self.name,
            base_url=base_url,
            headers={"Authorization": f"Basic {token}"},
            **client_options,
        )

    def racecards(self, day: datetime.date) -> list[RaceCard]:
        payload = self.client.get(RACECARDS_PATH, {"day": day.isoformat()})
        return racecards_parse(payload)


def racecards_parse(payload: dict) -> list[RaceCard]:
    races = sorted(payload.get("racecards") or [], key=lambda race: race["off_dt"])
    numbers: dict[tuple[str, str], int] = defaultdict(int)
    cards = []
    for race in races:
        # The API numbers no race: a race's number is its place in its meeting's order of running.
        meeting = (race["course"], race["date"])
        numbers[meeting] += 1
        country = race.get("region") or ""
        prize, currency = prize_parse(race.get("prize") or "", country=country)
        off_time = datetime.datetime.fromisoformat(race["off_dt"])
        cards.append(
            RaceCard(
                external_id=f"{race['course']}:{off_time.isoformat()}",
                course_name=race["course"],
                course_country=country,
                course_external_id=race["course"],
                course_code=course_code(race["course"]),
                date=datetime.date.fromisoformat(race["date"]),
                race_number=numbers[meeting],
                off_time=off_time,
                name=race.get("race_name") or "",
                distance_m=furlongs_to_metres(float(race["distance_f"])),
                surface=SURFACES.get(race.get("surface"), "turf"),
                going=going_choice(race.get("going")),
                race_class=race.get("race_class") or "",
                rating_band=race.get("rating_band") or "",
                prize=prize,
                prize_currency=currency,
                runners=[_runner(runner) for runner in race.get("runners") or []],
            )
        )
    return cards


def jockey_parse(text: str) -> tuple[str, int | None]:
    """ "Charlie Tucker(7)" -> ("Charlie Tucker", 7): a claiming rider's allowance follows the
    name. The name alone identifies the rider, whose claim shrinks as the wins come."""
    match = CLAIM.fullmatch(text)
    if match is None:
        return text.strip(), None
    return match["name"].strip(), int(match["claim"])


def _days_since_run(text: object) -> int | None:
    """ "68 (36J)" -> 68: the days since the last run under this code of racing (the bracket
    gives the days since a run under another code)."""
    match = re.match(r"\s*(\d+)", str(text or ""))
    return int(match[1]) if match else None


def _runner(runner: dict) -> RunnerCard:
    non_runner = runner.get("number") == "NR" or runner.get("jockey") == NON_RUNNER
    jockey, allowance = jockey_parse(
        "" if runner.get("jockey") == NON_RUNNER else runner.get("jockey") or ""
    )
    country = runner.get("region") or ""
    return RunnerCard(
        horse_name=runner["horse"],
        horse_external_id=f"{runner['horse']} ({country})" if country else runner["horse"],
        horse_country=country,
        horse_sex=sex_choice(runner.get("sex")),
        saddle_number=int_or_none(runner.get("number")),
        jockey_name=jockey,
        jockey_external_id=jockey,
        trainer_name=runner.get("trainer") or "",
        trainer_external_id=runner.get("trainer") or "",
        draw=int_or_none(runner.get("draw")) or None,  # jump races have draw "0"
        weight_lb=int_or_none(runner.get("lbs")),
        rating=int_or_none(runner.get("ofr")),
        age=int_or_none(runner.get("age")),
        gear=runner.get("headgear") or "",
        jockey_allowance_lb=allowance,
        form=(runner.get("form") or "")[-32:],
        days_since_run=_days_since_run(runner.get("last_run")),
        non_runner=non_runner,
    )
