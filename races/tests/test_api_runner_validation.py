"""Staff writes to /api/v1/runners/ are checked against the model's rules (full_clean) and a bad
value is a 400 naming its field, with nothing written."""

from decimal import Decimal

import pytest

from hrp_site.api import check_constraint_minimums
from races.api.serializers import RunnerSerializer
from races.models import Runner

from .factories import HorseFactory, RunnerFactory

pytestmark = pytest.mark.django_db

AT_LEAST = "Ensure this value is greater than or equal to {}."
AT_MOST = "Ensure this value is less than or equal to {}."
STORED = [
    "saddle_number",
    "draw",
    "finish_position",
    "dead_heat",
    "non_runner",
    "win_odds",
    "place_odds",
    "age",
    "rating",
    "carried_weight_lb",
    "declared_weight_lb",
    "lengths_behind",
    "finish_time",
]


def stored(runner: Runner) -> dict:
    return Runner.objects.filter(pk=runner.pk).values(*STORED).get()


def test_the_model_s_check_constraints_bound_the_serializer_s_fields():
    fields = RunnerSerializer().fields

    assert check_constraint_minimums(Runner) == {
        "saddle_number": 1,
        "draw": 1,
        "finish_position": 1,
        "win_odds": Decimal("1.01"),
        "place_odds": Decimal("1.00"),
    }
    assert [fields[name].min_value for name in ("saddle_number", "draw", "finish_position")] == [
        1,
        1,
        1,
    ]
    assert (fields["win_odds"].min_value, fields["place_odds"].min_value) == (
        Decimal("1.01"),
        Decimal("1.00"),
    )


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("saddle_number", 0, AT_LEAST.format(1)),
        ("draw", 0, AT_LEAST.format(1)),
        ("finish_position", 0, AT_LEAST.format(1)),
        ("win_odds", "1.00", AT_LEAST.format("1.01")),
        ("place_odds", "0.99", AT_LEAST.format("1.00")),
        ("age", 41, AT_MOST.format(40)),
        ("rating", 1000, AT_MOST.format(999)),
        ("rating", -1000, AT_LEAST.format(-999)),
        ("carried_weight_lb", 1000, AT_MOST.format(999)),
        ("declared_weight_lb", "-0.5", AT_LEAST.format(0)),
        ("lengths_behind", "-0.25", AT_LEAST.format(0)),
        ("finish_time", "-1.00", AT_LEAST.format(0)),
    ],
)
def test_a_value_out_of_bounds_is_400_on_its_field(staff_api, field, value, message):
    runner = RunnerFactory()
    before = stored(runner)

    response = staff_api.patch(f"/api/v1/runners/{runner.pk}/", {field: value}, format="json")

    assert response.status_code == 400
    assert response.json() == {field: [message]}
    assert stored(runner) == before


@pytest.mark.parametrize(
    ("existing", "change", "errors"),
    [
        (
            {},
            {"non_runner": True, "finish_position": 2},
            {"finish_position": ["A non-runner has no finishing position."]},
        ),
        (
            {"finish_position": 3},
            {"non_runner": True},
            {"finish_position": ["A non-runner has no finishing position."]},
        ),
        (
            {"non_runner": True},
            {"finish_position": 1},
            {"finish_position": ["A non-runner has no finishing position."]},
        ),
        ({}, {"dead_heat": True}, {"dead_heat": ["A dead heat needs a finishing position."]}),
        (
            {"finish_position": 2, "dead_heat": True},
            {"finish_position": None},
            {"dead_heat": ["A dead heat needs a finishing position."]},
        ),
    ],
    ids=[
        "placed-non-runner",
        "placed-runner-made-non-runner",
        "non-runner-placed",
        "dead-heat-unplaced",
        "dead-heater-unplaced",
    ],
)
def test_a_change_that_breaks_a_rule_across_fields_is_400_on_the_field_it_names(
    staff_api, existing, change, errors
):
    # given: a runner as stored, and a change that with it breaks one of the model's rules
    runner = RunnerFactory(**existing)
    before = stored(runner)

    # when
    response = staff_api.patch(f"/api/v1/runners/{runner.pk}/", change, format="json")

    # then
    assert response.status_code == 400
    assert response.json() == errors
    assert stored(runner) == before


def test_a_change_that_keeps_the_rules_is_saved(staff_api):
    runner = RunnerFactory(finish_position=2, dead_heat=True)

    response = staff_api.patch(
        f"/api/v1/runners/{runner.pk}/",
        {"non_runner": True, "finish_position": None, "dead_heat": False, "win_odds": "1.01"},
        format="json",
    )

    assert response.status_code == 200
    saved = stored(runner)
    assert (saved["non_runner"], saved["finish_position"], saved["dead_heat"]) == (
        True,
        None,
        False,
    )
    assert saved["win_odds"] == Decimal("1.01")
    assert (response.json()["non_runner"], response.json()["finish_position"]) == (True, None)


def test_a_new_runner_that_breaks_a_rule_is_400_and_not_written(staff_api):
    runner = RunnerFactory()

    response = staff_api.post(
        "/api/v1/runners/",
        {
            "race": runner.race_id,
            "horse": HorseFactory().pk,
            "saddle_number": 2,
            "non_runner": True,
            "finish_position": 4,
        },
        format="json",
    )

    assert response.status_code == 400
    assert response.json() == {"finish_position": ["A non-runner has no finishing position."]}
    assert list(Runner.objects.values_list("pk", flat=True)) == [runner.pk]
