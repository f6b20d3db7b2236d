"""Racecards: storing a provider's cards of a day, every row keyed by the provider's ids."""

from __future__ import annotations

from django.utils import timezone

from races.models import Horse, Jockey, Race, Racecourse, Runner, Trainer
from races.providers.base import RaceCard

from .cache import races_cache_invalidate
from .upsert import external_id_fit, records_upsert


def race_cards_store(
    cards: list[RaceCard], *, source: str
) -> tuple[dict[str, int], dict[str, int]]:
    """Upsert a provider's racecards: courses, horses, jockeys, trainers, races and runners.

    A runner that left its race's card is marked a non-runner, never deleted. Returns the counts
    and each card's external id -> race primary key (races another source stored first included).
    """
    courses = {
        external_id_fit(card.course_external_id): {
            "code": card.course_code,
            "name": card.course_name,
            "country": card.course_country,
        }
        for card in cards
    }
    _, course_pks = records_upsert(
        Racecourse, courses, source=source, natural_key=("code", "country")
    )
    runners = [runner for card in cards for runner in card.runners]
    horses = {
        external_id_fit(r.horse_external_id): {
            "name": r.horse_name,
            "country": r.horse_country,
            "sex": r.horse_sex,
        }
        for r in runners
    }
    _, horse_pks = records_upsert(Horse, horses, source=source)
    jockeys = {
        external_id_fit(r.jockey_external_id): {"name": r.jockey_name}
        for r in runners
        if r.jockey_external_id
    }
    _, jockey_pks = records_upsert(Jockey, jockeys, source=source)
    trainers = {
        external_id_fit(r.trainer_external_id): {"name": r.trainer_name}
        for r in runners
        if r.trainer_external_id
    }
    _, trainer_pks = records_upsert(Trainer, trainers, source=source)

    races = {
        external_id_fit(card.external_id): {
            "racecourse_id": course_pks[external_id_fit(card.course_external_id)],
            "meeting_date": card.date,
            "race_number": card.race_number,
            "post_time": card.off_time,
            "name": card.name,
            "distance_m": card.distance_m,
            "surface": card.surface,
            "going": card.going,
            "race_class": card.race_class,
            "rating_band": card.rating_band,
            "prize": card.prize,
            "prize_currency": card.prize_currency,
        }
        for card in cards
    }
    race_counts, race_pks = records_upsert(
        Race, races, source=source, natural_key=("meeting_date", "racecourse_id", "race_number")
    )

    stored = list(
        Runner.objects.filter(race_id__in=race_pks.values()).values(
            "pk", "race_id", "horse_id", "saddle_number"
        )
    )
    stored_numbers = {(r["race_id"], r["horse_id"]): r["saddle_number"] for r in stored}
    rows = {}
    for card in cards:
        race_pk = race_pks[external_id_fit(card.external_id)]
        taken = {r["saddle_number"] for r in stored if r["race_id"] == race_pk}
        taken |= {r.saddle_number for r in card.runners if r.saddle_number}
        for runner in card.runners:
            horse_pk = horse_pks[external_id_fit(runner.horse_external_id)]
            number = runner.saddle_number or stored_numbers.get((race_pk, horse_pk))
            if number is None:
                # A non-runner the card no longer numbers: a number clear of the field's.
                number = max(taken, default=0) + 1
                taken.add(number)
            key = external_id_fit(f"{card.external_id}:{runner.horse_external_id}")
            rows[key] = {
                "race_id": race_pk,
                "horse_id": horse_pk,
                "jockey_id": jockey_pks.get(external_id_fit(runner.jockey_external_id)),
                "trainer_id": trainer_pks.get(external_id_fit(runner.trainer_external_id)),
                "saddle_number": number,
                "draw": runner.draw,
                "carried_weight_lb": runner.weight_lb,
                "rating": runner.rating,
                "age": runner.age,
                "gear": runner.gear,
                "jockey_allowance_lb": runner.jockey_allowance_lb,
                "declared_form": runner.form,
                "declared_days_since_run": runner.days_since_run,
                "win_odds": runner.win_odds,
                "non_runner": runner.non_runner,
            }
    runner_counts, runner_pks = records_upsert(
        Runner, rows, source=source, natural_key=("race_id", "horse_id")
    )
    gone = (
        Runner.objects.filter(race_id__in=race_pks.values(), non_runner=False)
        .exclude(pk__in=runner_pks.values())
        .update(
            non_runner=True,
            finish_position=None,
            dead_heat=False,
            lengths_behind=None,
            finish_time=None,
            updated_at=timezone.now(),
        )
    )
    if gone:
        races_cache_invalidate()  # update() sends no signals
    counts = {
        "races_created": race_counts.created,
        "races_updated": race_counts.updated,
        "races_unchanged": race_counts.unchanged,
        "runners_created": runner_counts.created,
        "runners_updated": runner_counts.updated,
        "runners_unchanged": runner_counts.unchanged,
        "non_runners_marked": gone,
    }
    return counts, race_pks
