"""Reads that span the race data's relations."""

from __future__ import annotations

import datetime
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db.models import (
    Count,
    F,
    Max,
    Min,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Window,
)
from django.db.models.functions import ExtractYear, RowNumber

from .models import Participant, ProviderSync, Race, Racecourse, Runner
from .providers.registry import PROVIDER_NAMES, provider_is_configured
from .units import METRES_PER_FURLONG


def providers_status() -> list[dict[str, Any]]:
    """Each provider HRP knows, whether this deployment has it configured, and its last sync."""
    statuses = []
    for name in PROVIDER_NAMES:
        last = ProviderSync.objects.filter(provider=name).order_by("-started_at", "-pk").first()
        statuses.append(
            {
                "provider": name,
                "configured": provider_is_configured(name),
                "last_sync": None
                if last is None
                else {
                    "day": last.day,
                    "status": last.status,
                    "started_at": last.started_at,
                    "finished_at": last.finished_at,
                    "counts": last.counts,
                    "error": last.error,
                },
            }
        )
    return statuses


# --- member pages --------------------------------------------------------------------------------

# How many runs a horse's form shows, on the race card and in the API.
FORM_RUNS = 6


def race_day(*, day: datetime.date) -> QuerySet[Race]:
    """The day's races with their racecourse and field size, grouped by course (one query)."""
    return (
        Race.objects.on_date(day)
        .with_field_size()
        .select_related("racecourse")
        .order_by("racecourse__name", "racecourse_id", "race_number")
    )


def race_day_neighbours(*, day: datetime.date) -> tuple[datetime.date | None, datetime.date | None]:
    """The closest days before and after `day` that have races (one query)."""
    days = Race.objects.aggregate(
        previous=Max("meeting_date", filter=Q(meeting_date__lt=day)),
        next=Min("meeting_date", filter=Q(meeting_date__gt=day)),
    )
    return days["previous"], days["next"]


def race_day_results(*, day: datetime.date) -> QuerySet[Race]:
    """The day's races in running order with their racecourse and runners (horse, jockey,
    trainer) in finishing order, non-finishers and non-runners last: two queries."""
    runners = Runner.objects.select_related("horse", "jockey", "trainer").order_by(
        "non_runner", F("finish_position").asc(nulls_last=True), "saddle_number"
    )
    return (
        Race.objects.on_date(day)
        .select_related("racecourse")
        .prefetch_related(Prefetch("runners", queryset=runners))
        .in_running_order()
    )


def races_next_to_run(*, day: datetime.date) -> QuerySet[Race]:
    """The day's races not yet run (declared), across its meetings, in running order, with
    their racecourse and field size (one query)."""
    return (
        Race.objects.on_date(day)
        .filter(status=Race.Status.DECLARED)
        .with_field_size()
        .select_related("racecourse")
        .in_running_order()
    )


_ISO_DATE = re.compile(r"\b(\d{4}-\d{2}-\d{2})\b")


def race_search(*, query: str, limit: int = 25) -> list[Race]:
    """Races whose name or racecourse contains `query`; a date in it (2004-03-28) keeps the races
    of that day ("Sha Tin 2004-03-28": Sha Tin's races that day). Newest first, at most
    `limit`; each carries `total`, the count of all matches. One query."""
    match = Q()
    text = query
    found = _ISO_DATE.search(query)
    if found:
        try:
            match &= Q(meeting_date=datetime.date.fromisoformat(found.group(1)))
        except ValueError:  # 2004-02-30: not a day, so no race
            return []
        text = (query[: found.start()] + " " + query[found.end() :]).strip()
    if text:
        match &= Q(name__icontains=text) | Q(racecourse__name__icontains=text)
    return list(
        Race.objects.filter(match)
        .select_related("racecourse")
        .annotate(total=Window(Count("pk")))
        .order_by(
            "-meeting_date",
            F("post_time").asc(nulls_last=True),
            "racecourse__name",
            "race_number",
        )[:limit]
    )


def racecourse_search(*, query: str, today: datetime.date, limit: int = 25) -> list[Racecourse]:
    """Racecourses whose name contains `query` or whose code is `query`, by name, with their
    last race day up to `today` (`last_day`) and next one after it (`next_day`); each carries
    `total`, the count of all matches. One query."""
    return list(
        Racecourse.objects.filter(Q(name__icontains=query) | Q(code__iexact=query))
        .annotate(
            last_day=Max("races__meeting_date", filter=Q(races__meeting_date__lte=today)),
            next_day=Min("races__meeting_date", filter=Q(races__meeting_date__gt=today)),
        )
        .annotate(total=Window(Count("pk")))
        .order_by("name", "pk")[:limit]
    )


def race_card(*, race_id: int) -> QuerySet[Race]:
    """The race with its racecourse and runners (horse, jockey, trainer): two queries."""
    return Race.objects.with_card().filter(pk=race_id)


def race_neighbours(*, race: Race) -> tuple[Race | None, Race | None]:
    """The races before and after `race` on its day across all courses, in running order
    (post time, course name, race number), in one query, with what a link to them shows."""
    races = list(
        Race.objects.on_date(race.meeting_date)
        .select_related("racecourse")
        .only("pk", "race_number", "post_time", "racecourse__name")
        .in_running_order()
    )
    index = next(i for i, other in enumerate(races) if other.pk == race.pk)
    previous = races[index - 1] if index > 0 else None
    following = races[index + 1] if index + 1 < len(races) else None
    return previous, following


@dataclass(frozen=True)
class FormRun:
    """One past run of a horse as its form shows it."""

    figure: str  # one character: 1-9, 0 (tenth or worse), a NonFinish letter, X (did not finish)
    position: int | None
    field_size: int
    meeting_date: datetime.date
    description: str  # position out of the field: "3/14", "12/14", "P/14"


@dataclass(frozen=True)
class CardHistory:
    """What a race card shows of a horse's past before the race: form, last run, C/D marks."""

    runs: list[FormRun] = field(default_factory=list)  # the last FORM_RUNS, oldest first
    days_since_last_run: int | None = None
    last_gear: str | None = None  # None: no previous run
    course_winner: bool = False
    distance_winner: bool = False
    course_and_distance_winner: bool = False

    @property
    def figures(self) -> str:
        """Racing's form figures, oldest first: "21-0P3" ('-' between seasons), "-" for none."""
        text = ""
        for previous, run in zip([None, *self.runs], self.runs, strict=False):
            if previous is not None and previous.meeting_date.year != run.meeting_date.year:
                text += "-"
            text += run.figure
        return text or "-"

    @property
    def winner_marks(self) -> str:
        """ "CD" for a course-and-distance winner, else "C", "D", "C D" or ""."""
        if self.course_and_distance_winner:
            return "CD"
        return " ".join(
            mark for mark, won in (("C", self.course_winner), ("D", self.distance_winner)) if won
        )

    def first_time_gear(self, gear: str) -> bool:
        """Whether `gear` (today's headgear) is new since the horse's previous run."""
        return bool(gear) and self.last_gear is not None and gear != self.last_gear


def form_figure(position: int | None, non_finish: str) -> str:
    if position is None:
        return non_finish or "X"
    return "0" if position >= 10 else str(position)


def same_distance(a_m: int, b_m: int) -> bool:
    """Racing's distance winner: the same trip to the nearest half furlong."""
    return round(a_m / METRES_PER_FURLONG * 2) == round(b_m / METRES_PER_FURLONG * 2)


def card_histories(
    *,
    horse_ids: Iterable[int],
    before: datetime.date,
    racecourse_id: int,
    distance_m: int,
    runs: int = FORM_RUNS,
) -> dict[int, CardHistory]:
    """Each horse's form before `before` (settled starts), the days since and headgear of its
    last run, and whether it has won at this course, over this distance, or both in one race.
    One query however many horses: each horse's last `runs` runs and all its wins."""
    horse_ids = list(horse_ids)
    rows = _history_rows(horse_ids=horse_ids, before=before, runs=runs)
    return {
        horse_id: _card_history(
            rows.get(horse_id, []),
            before=before,
            racecourse_id=racecourse_id,
            distance_m=distance_m,
            runs=runs,
        )
        for horse_id in horse_ids
    }


def race_day_histories(
    *, races: Iterable[Race], runs: int = FORM_RUNS
) -> dict[tuple[int, int], CardHistory]:
    """`card_histories` for every runner of a day's races (their runners prefetched), keyed by
    (race id, horse id), each with the marks of its own race's course and distance. One query
    however many races: the races must share one meeting date."""
    races = list(races)
    days = {race.meeting_date for race in races}
    if len(days) > 1:
        raise ValueError(f"The races run on {len(days)} days; give one day's races.")
    if not races:
        return {}
    before = races[0].meeting_date
    horse_ids = {runner.horse_id for race in races for runner in race.runners.all()}
    rows = _history_rows(horse_ids=horse_ids, before=before, runs=runs)
    return {
        (race.pk, runner.horse_id): _card_history(
            rows.get(runner.horse_id, []),
            before=before,
            racecourse_id=race.racecourse_id,
            distance_m=race.distance_m,
            runs=runs,
        )
        for race in races
        for runner in race.runners.all()
    }


def _history_rows(
    *, horse_ids: Iterable[int], before: datetime.date, runs: int
) -> dict[int, list[tuple]]:
    """Per horse, its last `runs` settled starts before `before` and all its wins, oldest first,
    as (recency, position, non_finish, gear, field size, day, course id, metres): one query."""
    field_size = (
        Runner.objects.starters()
        .filter(race=OuterRef("race_id"))
        .order_by()
        .values("race")
        .annotate(n=Count("pk"))
        .values("n")
    )
    rows = (
        Runner.objects.settled_starters()
        .filter(horse_id__in=list(horse_ids), race__meeting_date__lt=before)
        .annotate(
            recency=Window(
                RowNumber(),
                partition_by=F("horse_id"),
                order_by=[F("race__meeting_date").desc(), F("race__race_number").desc()],
            ),
            field_size=Subquery(field_size),
        )
        .filter(Q(recency__lte=runs) | Q(finish_position=1))
        .order_by("horse_id", "-recency")
        .values_list(
            "horse_id",
            "recency",
            "finish_position",
            "non_finish",
            "gear",
            "field_size",
            "race__meeting_date",
            "race__racecourse_id",
            "race__distance_m",
        )
    )
    found: dict[int, list[tuple]] = {}
    for horse_id, *row in rows:
        found.setdefault(horse_id, []).append(tuple(row))
    return found


def _card_history(
    rows: list[tuple],
    *,
    before: datetime.date,
    racecourse_id: int,
    distance_m: int,
    runs: int,
) -> CardHistory:
    history: dict[str, Any] = {"runs": []}
    for recency, position, non_finish, gear, size, day, course_id, metres in rows:
        if recency <= runs:
            figure = form_figure(position, non_finish)
            history["runs"].append(
                FormRun(
                    figure=figure,
                    position=position,
                    field_size=size or 0,
                    meeting_date=day,
                    description=f"{figure if position is None else position}/{size or 0}",
                )
            )
        if recency == 1:
            history["days_since_last_run"] = (before - day).days
            history["last_gear"] = gear
        if position == 1:
            course, trip = course_id == racecourse_id, same_distance(metres, distance_m)
            history["course_winner"] = history.get("course_winner", False) or course
            history["distance_winner"] = history.get("distance_winner", False) or trip
            history["course_and_distance_winner"] = history.get(
                "course_and_distance_winner", False
            ) or (course and trip)
    return CardHistory(**history)


def participant_search(*, model: type[Participant], query: str, limit: int = 25) -> list:
    """Horses, jockeys or trainers whose name contains `query` or whose provider id is exactly
    `query`, by name, at most `limit`; each carries `total`, the count of all matches. One query."""
    return list(
        model.objects.filter(Q(name__icontains=query) | Q(external_id=query))
        .annotate(total=Window(Count("pk")))
        .order_by("name", "external_id", "pk")[:limit]
    )


def horse_form(*, horse_id: int) -> QuerySet[Runner]:
    """The horse's runs in races already run or abandoned, newest first."""
    return participant_recent_runs(kind="horse", participant_id=horse_id)


def participant_runs(*, kind: str, participant_id: int) -> QuerySet[Runner]:
    """A horse's, jockey's or trainer's runs (`kind` "horse", "jockey", "trainer")."""
    return Runner.objects.filter(**{f"{kind}_id": participant_id})


def participant_recent_runs(*, kind: str, participant_id: int) -> QuerySet[Runner]:
    """Runs in races already run or abandoned, newest first, with what a form table shows."""
    return (
        Runner.objects.form()
        .filter(**{f"{kind}_id": participant_id})
        .exclude(race__status=Race.Status.DECLARED)
    )


def participant_next_runs(
    *, kind: str, participant_id: int, today: datetime.date
) -> QuerySet[Runner]:
    """Declared runs from `today` on, soonest first."""
    return (
        participant_runs(kind=kind, participant_id=participant_id)
        .starters()
        .upcoming(today=today)
        .select_related("race__racecourse", "horse", "jockey", "trainer")
        .order_by(
            "race__meeting_date", F("race__post_time").asc(nulls_last=True), "race__race_number"
        )
    )


def _strike_rate(rides: int, wins: int, places: int) -> dict[str, Any]:
    return {
        "rides": rides,
        "wins": wins,
        "places": places,
        "win_rate": 100 * wins / rides if rides else None,
        "place_rate": 100 * places / rides if rides else None,
    }


def _strike_counts(window: Q | None = None) -> tuple[Count, Count, Count]:
    window = window or Q()
    return (
        Count("pk", filter=window),
        Count("pk", filter=window & Q(finish_position=1)),
        Count("pk", filter=window & Q(finish_position__lte=3)),
    )


def participant_strike_rates(
    *, kind: str, participant_id: int, today: datetime.date
) -> dict[str, dict[str, Any]]:
    """Rides, wins, places (top 3) and their rates in settled races: all time, the last 365 days
    and the last 30 days up to `today` (keys "all", "365", "30"). One query.

    A ride is a start (non-runners excluded) in a race with a result.
    """
    counts: dict[str, Any] = {}
    windows = {"all": None}
    for days in (365, 30):
        windows[str(days)] = Q(
            race__meeting_date__gt=today - datetime.timedelta(days=days),
            race__meeting_date__lte=today,
        )
    for key, window in windows.items():
        rides, wins, places = _strike_counts(window)
        counts |= {f"{key}_rides": rides, f"{key}_wins": wins, f"{key}_places": places}
    totals = _settled_starts(kind, participant_id).aggregate(**counts)
    return {
        key: _strike_rate(totals[f"{key}_rides"], totals[f"{key}_wins"], totals[f"{key}_places"])
        for key in windows
    }


def participant_strike_rates_by_year(*, kind: str, participant_id: int) -> list[dict[str, Any]]:
    """The same counts and rates per calendar year, newest first. One query."""
    rides, wins, places = _strike_counts()
    years = (
        _settled_starts(kind, participant_id)
        .annotate(year=ExtractYear("race__meeting_date"))
        .values("year")
        .annotate(rides=rides, wins=wins, places=places)
        .order_by("-year")
    )
    return [
        {"year": row["year"], **_strike_rate(row["rides"], row["wins"], row["places"])}
        for row in years
    ]


def _settled_starts(kind: str, participant_id: int) -> QuerySet[Runner]:
    return participant_runs(kind=kind, participant_id=participant_id).settled_starters()
