from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from races.models import Race, Runner
from races.tests.factories import HorseFactory, RaceFactory, RunnerFactory

pytestmark = pytest.mark.django_db


def refused(**values) -> bool:
    """Whether the database refuses a runner with these values (in a savepoint)."""
    try:
        with transaction.atomic():
            RunnerFactory(**values)
    except IntegrityError:
        return True
    return False


def test_the_database_enforces_one_runner_per_horse_and_one_saddle_number_per_race():
    runner = RunnerFactory(saddle_number=1)

    assert refused(race=runner.race, horse=runner.horse, saddle_number=2)
    assert refused(race=runner.race, saddle_number=1)
    assert not refused(race=runner.race, saddle_number=2)
    assert Runner.objects.filter(race=runner.race).count() == 2


@pytest.mark.parametrize(
    "values",
    [
        {"finish_position": 0},
        {"saddle_number": 0},
        {"draw": 0},
        {"win_odds": Decimal("1.00")},
        {"win_odds": Decimal("0.50")},
        {"place_odds": Decimal("0.90")},
        {"non_runner": True, "finish_position": 3},
        {"dead_heat": True, "finish_position": None},
    ],
)
def test_the_database_refuses_impossible_runners(values):
    assert refused(**values)
    assert not Runner.objects.exists()


def test_place_odds_may_return_the_stake():
    assert not refused(place_odds=Decimal("1.00"), win_odds=Decimal("1.01"))


def test_the_database_refuses_two_races_in_one_slot_and_impossible_races():
    race = RaceFactory()

    for values in (
        {"racecourse": race.racecourse, "meeting_date": race.meeting_date},
        {"race_number": 0},
        {"distance_m": 0},
        {"prize": Decimal("-1")},
    ):
        with pytest.raises(IntegrityError), transaction.atomic():
            RaceFactory(**{"race_number": race.race_number, **values})
    assert Race.objects.count() == 1


def test_an_external_id_is_unique_per_source_but_blank_ones_are_not():
    HorseFactory(source="hkracing", external_id="7")
    HorseFactory(source="demo", external_id="7")
    HorseFactory(source="manual", external_id="")
    HorseFactory(source="manual", external_id="")

    with pytest.raises(IntegrityError), transaction.atomic():
        HorseFactory(source="hkracing", external_id="7")


def test_field_size_counts_starters_only():
    race = RaceFactory()
    RunnerFactory.create_batch(3, race=race)
    RunnerFactory(race=race, non_runner=True, finish_position=None)
    empty = RaceFactory()

    sizes = dict(Race.objects.with_field_size().values_list("pk", "field_size"))

    assert sizes == {race.pk: 3, empty.pk: 0}


def test_a_nameless_horse_is_shown_by_its_id():
    assert str(HorseFactory(name="", external_id="3917")) == "Horse #3917"
    assert str(HorseFactory(name="Silver Harbour")) == "Silver Harbour"


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("age", 41, "Ensure this value is less than or equal to 40."),
        ("rating", -1000, "Ensure this value is greater than or equal to -999."),
        ("carried_weight_lb", 1000, "Ensure this value is less than or equal to 999."),
        ("lengths_behind", Decimal("-0.5"), "Ensure this value is greater than or equal to 0."),
    ],
)
def test_a_typed_runner_is_checked_against_the_bounds_the_model_keeps(field, value, message):
    # given a runner as the admin or the API would save it
    runner = RunnerFactory.build(race=RaceFactory(), horse=HorseFactory(), **{field: value})

    # when / then: the model names the field, and the bound is its own (the API reads it there)
    with pytest.raises(ValidationError) as refused_value:
        runner.full_clean()
    assert refused_value.value.message_dict == {field: [message]}
