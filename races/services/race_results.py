"""Results: settling or abandoning the races a provider's results name."""

from __future__ import annotations

import datetime

from django.utils import timezone

from races.models import Horse, Race, Runner
from races.providers.base import RaceResult

from .cache import races_cache_invalidate
from .upsert import BATCH_SIZE, external_id_fit

RESULT_COUNTS = (
    "races_settled",
    "races_abandoned",
    "results_unchanged",
    "results_without_placings",
    "results_unmatched",
)


def race_results_store(
    *, results: list[RaceResult], source: str, race_pks: dict[str, int] | None = None
) -> dict[str, int]:
    """Settle or abandon the races a provider's results name, idempotently.

    A result finds its race by the id the provider's racecard carried: under `source`, or in
    `race_pks` (the external id -> primary key map of the same sync's cards, which includes races
    that another source stored first). A settled race takes its placings; a runner left out of
    them did not finish. A settled race without any placing is left as it is and counted: every
    reader of results (training, form, strike rates) takes a starter without a position for a
    non-finisher, so storing it as a result would record a race in which nobody finished.
    """
    counts = dict.fromkeys(RESULT_COUNTS, 0)
    if not results:
        return counts
    by_key = {external_id_fit(result.external_id): result for result in results}
    pks = {key: pk for key, pk in (race_pks or {}).items() if key in by_key}
    unknown = [key for key in by_key if key not in pks]
    pks |= dict(
        Race.objects.filter(source=source, external_id__in=unknown).values_list("external_id", "pk")
    )
    counts["results_unmatched"] = len(by_key) - len(pks)
    to_settle = {}
    statuses = {}
    for key, pk in pks.items():
        result = by_key[key]
        if result.status == Race.Status.RESULT and not any(
            runner.finish_position for runner in result.runners
        ):
            counts["results_without_placings"] += 1
            continue
        statuses[pk] = result.status
        if result.status == Race.Status.RESULT:
            to_settle[pk] = result

    stamp = timezone.now()
    changed = [
        Race(pk=pk, status=statuses[pk], updated_at=stamp)
        for pk, status in Race.objects.filter(pk__in=list(statuses)).values_list("pk", "status")
        if status != statuses[pk]
    ]
    Race.objects.bulk_update(changed, ["status", "updated_at"], batch_size=BATCH_SIZE)
    placings_changed = _placings_store(to_settle, source=source, stamp=stamp)
    changed_pks = {race.pk for race in changed} | placings_changed
    if changed_pks:
        races_cache_invalidate()  # bulk writes send no signals
    for pk, status in statuses.items():
        if pk not in changed_pks:
            counts["results_unchanged"] += 1
        elif status == Race.Status.RESULT:
            counts["races_settled"] += 1
        else:
            counts["races_abandoned"] += 1
    return counts


def _placings_store(
    results: dict[int, RaceResult], *, source: str, stamp: datetime.datetime
) -> set[int]:
    """Write each settled race's placings onto its runners; return the races that changed."""
    horse_ids = {runner.horse_external_id for r in results.values() for runner in r.runners}
    horse_pks = dict(
        Horse.objects.filter(
            source=source, external_id__in=[external_id_fit(h) for h in horse_ids]
        ).values_list("external_id", "pk")
    )
    placings = {
        (race_pk, horse_pks.get(external_id_fit(runner.horse_external_id))): runner
        for race_pk, result in results.items()
        for runner in result.runners
    }
    fields = ("finish_position", "dead_heat", "non_runner", "non_finish")
    to_update, changed = [], set()
    stored = Runner.objects.filter(race_id__in=list(results)).values(
        "pk", "race_id", "horse_id", *fields
    )
    for row in stored:
        placing = placings.get((row["race_id"], row["horse_id"]))
        if placing is None:
            wanted = {
                "finish_position": None,
                "dead_heat": False,
                "non_runner": row["non_runner"],
                "non_finish": "",
            }
        elif placing.non_runner:
            wanted = {
                "finish_position": None,
                "dead_heat": False,
                "non_runner": True,
                "non_finish": "",
            }
        else:
            finished = placing.finish_position is not None
            wanted = {
                "finish_position": placing.finish_position,
                "dead_heat": placing.dead_heat and finished,
                "non_runner": False,
                "non_finish": "" if finished else placing.non_finish,
            }
        if any(row[name] != value for name, value in wanted.items()):
            to_update.append(Runner(pk=row["pk"], **wanted, updated_at=stamp))
            changed.add(row["race_id"])
    Runner.objects.bulk_update(to_update, [*fields, "updated_at"], batch_size=BATCH_SIZE)
    return changed
