"""Betfair's racecards, over JSON-RPC: one call lists a day's races, one call per race its card.

The envelopes and cards are shaped like ../shared/data/betfair/ (list_race_details.json and
racecards*.json). Distances come in yards and prizes with the course country's currency sign.

Results come from the same day's race list: each race's status says whether it was run and the
jockeys weighed in, or it was abandoned or declared void. The list names no placings, so a
settled race's result carries none.
"""

from __future__ import annotations

import datetime
import re
import zoneinfo
from decimal import Decimal
from typing import Any

from races.vocabulary import going_choice, sex_choice

from .base import (
    Provider,
    ProviderError,
    RaceCard,
    RaceResult,
    RunnerCard,
    course_code,
    int_or_none,
    prize_parse,
    yards_to_metres,
)
from .http import JsonClient

LIST_RACES = "ScoresAPING/v1.0/listRaceDetails"
GET_RACECARD = "RaceCardAPING/v1.0/getRaceCard"
SURFACES = {"Turf": "turf", "Dirt": "dirt", "Synthetic": "all_weather", "AllWeather": "all_weather"}
# Race statuses that end a race for good. RESULT and PHOTOGRAPH are not final (an enquiry can
# still change the placings): only the weigh-in is. FINALRESULT is the greyhounds' weigh-in.
SETTLED = {"WEIGHEDIN", "FINALRESULT"}
ABANDONED = {"ABANDONED", "MEETINGABANDONED", "RACEVOID", "NORACE"}


class BetfairProvider(Provider):
    name = "betfair"

    def __init__(
        self, *, base_url: str, app_key: str, session_token: str, **client_options
    ) -> None:
        self.client = JsonClient(
            provider=self.name,
            base_url=base_url,
            headers={"X-Application": app_key, "X-Authentication": session_token},
            **client_options,
        )

    def racecards(self, day: datetime.date) -> list[RaceCard]:
        races = self._call(LIST_RACES, {"date": day.isoformat()})
        cards = [
            racecard_parse(self._call(GET_RACECARD, {"raceId": race["raceId"]})) for race in races
        ]
        return [card for card in cards if card.date == day]

    def results(self, day: datetime.date) -> list[RaceResult]:
        return race_statuses_parse(self._call(LIST_RACES, {"date": day.isoformat()}))

    def _call(self, method: str, params: dict[str, Any]) -> Any:
        envelope = self.client.post(
            "", {"jsonrpc": "2.0", "method": method, "params": params, "id": 1}
        )
        if not isinstance(envelope, dict) or "result" not in envelope:
            error = envelope.get("error") if isinstance(envelope, dict) else envelope
            raise ProviderError(f"{self.name}: {method} {params} -> JSON-RPC error: {error!s:.200}")
        return envelope["result"]


def race_statuses_parse(races: list[dict]) -> list[RaceResult]:
    """The races whose status is final: settled (without placings) or abandoned."""
    results = []
    for race in races:
        status = race.get("raceStatus")
        if race.get("responseCode", "OK") != "OK":
            continue
        if status in SETTLED:
            results.append(RaceResult(external_id=race["raceId"], status="result"))
        elif status in ABANDONED:
            results.append(RaceResult(external_id=race["raceId"], status="abandoned"))
    return results


def racecard_parse(card: dict) -> RaceCard:
    race = card["race"]
    course = race["course"]
    country = course.get("countryCode") or ""
    start = datetime.datetime.fromisoformat(race["startDate"].replace("Z", "+00:00"))
    local_date = start.astimezone(_zone(course.get("timezone") or "UTC")).date()
    prize, currency = prize_parse(card.get("prize") or "", country=country)
    race_id = race["raceId"]
    return RaceCard(
        external_id=race_id,
        course_name=course["name"],
        course_country=country,
        course_external_id=course["courseId"],
        course_code=(course.get("timeformCourseCode") or course_code(course["name"]))[:8],
        date=local_date,
        race_number=int(race_id.rsplit(".", 1)[1]),
        off_time=start,
        name=race.get("raceTitle") or "",
        distance_m=yards_to_metres(race["distance"]),
        surface=SURFACES.get(course.get("surfaceType"), "turf"),
        going=going_choice((race.get("going") or {}).get("full")),
        race_class="" if race.get("raceClass") is None else f"Class {race['raceClass']}",
        prize=prize,
        prize_currency=currency,
        runners=[_runner(runner) for runner in card.get("runners") or []],
    )


def _zone(name: str) -> datetime.tzinfo:
    """A course's time zone: an IANA name ("America/Chicago") or an offset ("GMT+10:00")."""
    offset = re.fullmatch(r"(?:GMT|UTC)([+-])(\d{1,2}):?(\d{2})?", name)
    if offset:
        sign = -1 if offset[1] == "-" else 1
        delta = datetime.timedelta(hours=int(offset[2]), minutes=int(offset[3] or 0))
        return datetime.timezone(sign * delta)
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return datetime.UTC


def _runner(runner: dict) -> RunnerCard:
    jockey = runner.get("jockey") or {}
    trainer = runner.get("trainer") or {}
    win_prices = [
        selection["bsp"]
        for selection in runner.get("selections") or []
        if selection.get("marketType") == "WIN" and selection.get("bsp")
    ]
    win_odds = Decimal(str(round(win_prices[0], 2))) if win_prices else None
    return RunnerCard(
        horse_name=runner["name"],
        horse_external_id=runner["horseId"],
        horse_sex=sex_choice(runner.get("gender")),
        saddle_number=int_or_none(runner.get("saddleCloth")),
        jockey_name=jockey.get("name") or "",
        jockey_external_id=jockey.get("jockeyId") or "",
        trainer_name=trainer.get("name") or "",
        trainer_external_id=trainer.get("trainerId") or "",
        draw=int_or_none(runner.get("draw")) or None,
        weight_lb=int_or_none(runner.get("weight")),
        rating=int_or_none(runner.get("officialRating")),
        age=int_or_none(runner.get("age")),
        gear=(runner.get("wearing") or {}).get("abbr") or "",
        win_odds=win_odds if win_odds and win_odds > 1 else None,
        non_runner=bool(runner.get("isNonRunner")),
    )
