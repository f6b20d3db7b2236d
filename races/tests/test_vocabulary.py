"""The going and a horse's sex are choices: the providers' words map to them, the model and the
API refuse anything else."""

import csv
import io
import json

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from races.models import Horse, Race, Runner
from races.providers.betfair import BetfairProvider
from races.services.hkracing_import import hkracing_import
from races.tests.factories import RacecourseFactory, RaceFactory, RunnerFactory
from races.tests.hkracing_csv import RACE_HEADER, RUN_HEADER, race_row, run_row, to_csv
from races.tests.providers.recorded import BETFAIR_DAY
from races.vocabulary import going_choice, non_finish_choice, sex_choice


# Every going in the recorded data of ../shared/data: Hong Kong's races.csv, The Racing API's
# and Betfair's racecards.
@pytest.mark.parametrize(
    ("text", "going"),
    [
        ("GOOD", "good"),
        ("GOOD TO FIRM", "good to firm"),
        ("GOOD TO YIELDING", "good to yielding"),
        ("YIELDING", "yielding"),
        ("YIELDING TO SOFT", "yielding to soft"),
        ("SOFT", "soft"),
        ("FAST", "fast"),
        ("SLOW", "slow"),
        ("WET FAST", "wet fast"),
        ("WET SLOW", "wet slow"),
        ("Good To Soft", "good to soft"),
        ("Standard To Slow", "standard to slow"),
        ("Standard", "standard"),
        ("Fast", "fast"),
        ("Good (Good to Firm in places)", "good"),
        # the demo's spelling, abbreviations, stray spacing and hyphens
        ("Good to Firm", "good to firm"),
        ("  good-to  soft ", "good to soft"),
        ("Std/Slow", "standard to slow"),
        ("Gd/Fm", "good to firm"),
        ("Soft, Heavy in places", "soft"),
    ],
)
def test_provider_goings_map_to_the_choices(text, going):
    assert going_choice(text) == going


@pytest.mark.parametrize("text", ["", "   ", "Frozen", "meeting_going", None, 3])
def test_an_unknown_going_is_blank(text):
    assert going_choice(text) == ""


@pytest.mark.parametrize(
    ("text", "sex"),
    [
        # Hong Kong's horse_type
        ("Gelding", "gelding"),
        ("Horse", "horse"),
        ("Mare", "mare"),
        ("Rig", "rig"),
        ("Colt", "colt"),
        ("Filly", "filly"),
        # The Racing API's sex and sex_code
        ("gelding", "gelding"),
        ("filly", "filly"),
        ("G", "gelding"),
        ("C", "colt"),
        ("F", "filly"),
        ("M", "mare"),
        ("Stallion", "horse"),
        # Hong Kong gives some horses' colour instead
        ("Brown", ""),
        ("Roan", ""),
        ("Grey", ""),
        ("", ""),
        (None, ""),
    ],
)
def test_provider_sexes_map_to_the_choices(text, sex):
    assert sex_choice(text) == sex


def test_every_going_and_sex_in_the_shared_data_is_known(shared_data_dir):
    with (shared_data_dir / "hkracing" / "races.csv").open(newline="") as races:
        goings = {row["going"] for row in csv.DictReader(races)}
    with (shared_data_dir / "hkracing" / "runs.csv").open(newline="") as runs:
        horse_types = {row["horse_type"] for row in csv.DictReader(runs)}
    cards = json.loads((shared_data_dir / "theracingapi" / "racecards_2025-12-17.json").read_text())
    goings |= {card["going"] for card in cards["racecards"]}
    sexes = {runner["sex"] for card in cards["racecards"] for runner in card["runners"]}

    assert {text: going_choice(text) for text in goings if not going_choice(text)} == {}
    assert {text: sex_choice(text) for text in sexes if not sex_choice(text)} == {}
    assert {text for text in horse_types if not sex_choice(text)} == {"", "Brown", "Grey", "Roan"}


# --- the model and the API -------------------------------------------------------------------


@pytest.mark.django_db
def test_full_clean_refuses_an_unknown_going():
    race = RaceFactory.build(racecourse=RacecourseFactory(), going="GOOD TO FIRM")

    with pytest.raises(ValidationError) as raised:
        race.full_clean()

    assert list(raised.value.message_dict) == ["going"]
    assert raised.value.message_dict["going"] == ["Value 'GOOD TO FIRM' is not a valid choice."]


@pytest.mark.django_db
def test_full_clean_refuses_an_unknown_sex():
    horse = Horse(name="Brown Bess", sex="Brown")

    with pytest.raises(ValidationError) as raised:
        horse.full_clean()

    assert list(raised.value.message_dict) == ["sex"]


@pytest.mark.django_db
def test_the_api_refuses_an_unknown_going_and_names_the_choices(staff_api):
    course = RacecourseFactory()
    body = {"racecourse": course.pk, "meeting_date": "2024-05-01", "race_number": 4}

    refused = staff_api.post("/api/v1/races/", {**body, "distance_m": 1650, "going": "Boggy"})
    accepted = staff_api.post("/api/v1/races/", {**body, "distance_m": 1650, "going": "soft"})

    assert refused.status_code == 400
    assert list(refused.json()) == ["going"]
    assert refused.json()["going"] == [
        f'"Boggy" is not a going; use one of {", ".join(Race.Going.values)}, or "" when unknown.'
    ]
    assert accepted.status_code == 201
    assert list(Race.objects.values_list("going", flat=True)) == ["soft"]


@pytest.mark.django_db
def test_the_api_refuses_an_unknown_going_on_update_and_keeps_the_row(staff_api):
    race = RaceFactory(going=Race.Going.GOOD)

    response = staff_api.patch(f"/api/v1/races/{race.pk}/", {"going": "GOOD"}, format="json")

    assert response.status_code == 400
    assert list(response.json()) == ["going"]
    race.refresh_from_db()
    assert race.going == "good"


# --- the importers ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_hkracing_import_stores_choices_and_blanks_unknown_words():
    races = [
        race_row(0, going="GOOD TO FIRM"),
        race_row(1, going="WET SLOW", surface=1),
        race_row(2, going="TACKY"),
    ]
    runs = [
        run_row(0, 1, 1, horse_type="Gelding"),
        run_row(1, 2, 1, horse_type="Brown"),
        run_row(2, 3, 1, horse_type="Rig"),
    ]

    hkracing_import(
        races_file=io.StringIO(to_csv(RACE_HEADER, races)),
        runs_file=io.StringIO(to_csv(RUN_HEADER, runs)),
    )

    assert dict(Race.objects.values_list("external_id", "going")) == {
        "0": "good to firm",
        "1": "wet slow",
        "2": "",
    }
    assert dict(Horse.objects.values_list("external_id", "sex")) == {
        "1001": "gelding",
        "1002": "",
        "1003": "rig",
    }


def test_the_betfair_client_maps_the_going_and_sex(betfair):
    provider = BetfairProvider(
        base_url=f"{betfair.url}/json-rpc", app_key="app-key", session_token="session"
    )

    cards = provider.racecards(BETFAIR_DAY)

    assert {card.going for card in cards} <= {*Race.Going.values, ""}
    assert {runner.horse_sex for card in cards for runner in card.runners} == {
        "colt",
        "filly",
        "gelding",
        "horse",
        "mare",
        "rig",
    }


# --- the data migration ----------------------------------------------------------------------

BEFORE = [("races", "0005_input_bounds")]


@pytest.fixture
def old_races(transactional_db):
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    yield executor.loader.project_state(BEFORE).apps
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())


def test_the_migration_maps_stored_words_to_the_choices(old_races):
    # given: rows as the importers stored them before the choices
    racecourse = old_races.get_model("races", "Racecourse").objects.create(
        code="ST", name="Sha Tin", country="HK"
    )
    OldRace = old_races.get_model("races", "Race")
    for number, going in enumerate(["GOOD TO FIRM", "Good to Soft", "Standard To Slow", "TACKY"]):
        OldRace.objects.create(
            racecourse=racecourse,
            meeting_date="2024-05-01",
            race_number=number + 1,
            distance_m=1200,
            going=going,
        )
    OldHorse = old_races.get_model("races", "Horse")
    for number, sex in enumerate(["Gelding", "filly", "Brown", ""]):
        OldHorse.objects.create(name=f"Horse {number}", external_id=str(number), sex=sex)

    # when
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())

    # then
    assert list(Race.objects.order_by("race_number").values_list("going", flat=True)) == [
        "good to firm",
        "good to soft",
        "standard to slow",
        "",
    ]
    assert list(Horse.objects.order_by("external_id").values_list("sex", flat=True)) == [
        "gelding",
        "filly",
        "",
        "",
    ]


@pytest.mark.parametrize(
    ("text", "reason"),
    [("PU", "P"), ("UR", "U"), ("F", "F"), ("Brought Down", "B"), ("RR", "R"), ("dsq", "D")],
)
def test_provider_non_finish_codes_map_to_the_choices(text, reason):
    assert non_finish_choice(text) == reason


@pytest.mark.parametrize("text", ["", "12", "LFT", None])
def test_an_unknown_non_finish_code_is_blank(text):
    assert non_finish_choice(text) == ""


@pytest.mark.django_db
def test_a_non_finish_reason_needs_a_starter_without_a_position():
    runner = RunnerFactory(finish_position=3)
    runner.non_finish = Runner.NonFinish.FELL

    with pytest.raises(ValidationError, match="runner_non_finisher_has_no_position"):
        runner.full_clean()
