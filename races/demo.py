"""Writing the demo data set (`races.demo_data`) to the race tables, so that a re-run with the
same seed and day writes nothing."""

from __future__ import annotations

import dataclasses
import datetime
from collections.abc import Callable

from django.db import models, transaction

from races.demo_data import demo_data_generate
from races.models import ExternalRecord, Horse, Jockey, Race, Racecourse, Runner, Trainer
from races.services.upsert import records_upsert

DEMO = ExternalRecord.Source.DEMO
DEMO_COUNTRY = "ZZ"  # ISO 3166 user-assigned: no real course can clash with a demo one.


@dataclasses.dataclass(frozen=True)
class DemoSeedReport:
    """How many demo rows the seed covers, and how many of them it had to write."""

    racecourses: int
    horses: int
    jockeys: int
    trainers: int
    result_races: int
    declared_races: int
    runners: int
    created: int
    updated: int
    deleted: int


@dataclasses.dataclass(frozen=True)
class _SyncResult:
    ids: dict[str, int]
    created: int
    updated: int
    deleted: int


def _rows_sync(
    model: type[models.Model],
    rows: list[dict],
    *,
    unique_fields: tuple[str, ...] = (),
    owns: Callable[[models.Model], bool] | None = None,
) -> _SyncResult:
    """Create the missing demo rows and update the ones whose values differ, keyed on external id.

    Rows that already match are left alone, so a re-run writes nothing. A row whose
    `unique_fields` would change is deleted and created again, so that no update trips a unique
    constraint halfway through; demo rows that `owns` claims but `rows` lacks are deleted.
    """
    wanted = {row["external_id"]: row for row in rows}
    existing = {obj.external_id: obj for obj in model.objects.filter(source=DEMO)}
    doomed = [
        external_id
        for external_id, obj in existing.items()
        if (external_id not in wanted and owns is not None and owns(obj))
        or (
            external_id in wanted
            and any(getattr(obj, field) != wanted[external_id][field] for field in unique_fields)
        )
    ]
    pks = [existing[external_id].pk for external_id in doomed]
    for start in range(0, len(pks), 500):
        model.objects.filter(pk__in=pks[start : start + 500]).delete()

    counts, ids = records_upsert(
        model,
        {
            external_id: {name: value for name, value in row.items() if name != "external_id"}
            for external_id, row in wanted.items()
        },
        source=DEMO,
    )
    created, updated = counts.created, counts.updated
    replaced = len(set(doomed) & wanted.keys())
    return _SyncResult(
        ids=ids,
        created=created - replaced,
        updated=updated + replaced,
        deleted=len(doomed) - replaced,
    )


def _dataclass_row(instance: object, *, exclude: tuple[str, ...] = ()) -> dict:
    return {
        field.name: getattr(instance, field.name)
        for field in dataclasses.fields(instance)
        if field.name not in exclude
    }


@transaction.atomic
def demo_data_seed(
    *, seed: int = 7, today: datetime.date, days_ahead: int = 3, history_days: int = 120
) -> DemoSeedReport:
    """Write the demo data set for `today`; a second run with the same arguments writes nothing.

    The demo races in the seeded window and their runners are made to match the generator
    exactly, so the data also converges after a change of seed or of this module.
    """
    data = demo_data_generate(
        seed=seed, today=today, days_ahead=days_ahead, history_days=history_days
    )
    population = data.population
    first_day = today - datetime.timedelta(days=history_days)
    last_day = today + datetime.timedelta(days=days_ahead)

    courses = _rows_sync(
        Racecourse,
        [
            {"external_id": c.external_id, "code": c.code, "name": c.name, "country": DEMO_COUNTRY}
            for c in population.courses
        ],
    )
    jockeys = _rows_sync(
        Jockey, [{"external_id": j.external_id, "name": j.name} for j in population.jockeys]
    )
    trainers = _rows_sync(
        Trainer, [{"external_id": t.external_id, "name": t.name} for t in population.trainers]
    )
    horses = _rows_sync(
        Horse,
        [
            {"external_id": h.external_id, "name": h.name, "country": h.country, "sex": h.sex}
            for h in population.horses
        ],
    )
    races = _rows_sync(
        Race,
        [
            {
                **_dataclass_row(race, exclude=("racecourse", "runners")),
                "racecourse_id": courses.ids[race.racecourse],
            }
            for race in data.races
        ],
        owns=lambda race: first_day <= race.meeting_date <= last_day,
    )
    seeded_races = {races.ids[race.external_id] for race in data.races}
    runners = _rows_sync(
        Runner,
        [
            {
                **_dataclass_row(runner, exclude=("horse", "jockey", "trainer")),
                "race_id": races.ids[race.external_id],
                "horse_id": horses.ids[runner.horse],
                "jockey_id": jockeys.ids[runner.jockey],
                "trainer_id": trainers.ids[runner.trainer],
            }
            for race in data.races
            for runner in race.runners
        ],
        unique_fields=("race_id", "horse_id", "saddle_number"),
        owns=lambda runner: runner.race_id in seeded_races,
    )

    syncs = (courses, jockeys, trainers, horses, races, runners)
    settled = sum(race.status == Race.Status.RESULT for race in data.races)
    return DemoSeedReport(
        racecourses=len(population.courses),
        horses=len(population.horses),
        jockeys=len(population.jockeys),
        trainers=len(population.trainers),
        result_races=settled,
        declared_races=len(data.races) - settled,
        runners=sum(len(race.runners) for race in data.races),
        created=sum(sync.created for sync in syncs),
        updated=sum(sync.updated for sync in syncs),
        deleted=sum(sync.deleted for sync in syncs),
    )
