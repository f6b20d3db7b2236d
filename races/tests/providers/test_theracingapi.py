"""The Racing API's client mapping the recorded racecards."""

import datetime

import pytest

from races.providers.theracingapi import TheRacingApiProvider, jockey_parse
from races.tests.providers.recorded import DAY, EMPTY_DAY, PASSWORD, USERNAME


def test_racingapi_maps_the_recorded_racecards(racingapi):
    # given
    provider = TheRacingApiProvider(base_url=racingapi.url, username=USERNAME, password=PASSWORD)

    # when
    cards = provider.racecards(DAY)
    empty = provider.racecards(EMPTY_DAY)

    # then
    assert empty == []
    assert len(cards) == 32
    assert sum(len(card.runners) for card in cards) == 300
    kempton = next(c for c in cards if c.course_name == "Kempton (AW)" and c.race_number == 1)
    assert (kempton.course_code, kempton.course_country, kempton.date) == ("KEMPTOAW", "GB", DAY)
    assert kempton.off_time == datetime.datetime(2025, 12, 17, 16, 5, tzinfo=datetime.UTC)
    assert (kempton.distance_m, kempton.surface, kempton.going) == (
        2414,
        "all_weather",
        "standard to slow",
    )
    assert (kempton.race_class, str(kempton.prize), kempton.prize_currency) == (
        "Class 5",
        "4187",
        "GBP",
    )
    first = kempton.runners[0]
    assert (first.horse_name, first.horse_external_id, first.saddle_number) == (
        "One Cool Dreamer",
        "One Cool Dreamer (IRE)",
        1,
    )
    assert (first.jockey_name, first.trainer_name, first.draw, first.weight_lb) == (
        "Tom Kiely-Marshall",
        "Alan King",
        10,
        142,
    )
    assert (first.rating, first.age, first.gear, first.non_runner) == (70, 4, "p", False)
    assert (first.form, first.days_since_run) == ("-24534", 68)  # last_run "68 (36J)"
    non_runners = [r for card in cards for r in card.runners if r.non_runner]
    assert len(non_runners) == 6
    assert {(r.saddle_number, r.jockey_name) for r in non_runners} == {(None, "")}


def test_racingapi_reads_a_claiming_riders_allowance_off_the_name(racingapi):
    # given: the recorded cards write an apprentice's claim after the name, "Charlie Tucker(7)"
    provider = TheRacingApiProvider(base_url=racingapi.url, username=USERNAME, password=PASSWORD)

    # when
    runners = [runner for card in provider.racecards(DAY) for runner in card.runners]

    # then
    claims = {r.jockey_name: r.jockey_allowance_lb for r in runners if r.jockey_allowance_lb}
    assert claims["Charlie Tucker"] == 7
    assert set(claims.values()) <= {3, 5, 7}
    assert all("(" not in r.jockey_name for r in runners)
    assert all(r.jockey_external_id == r.jockey_name for r in runners)
    full_riders = [r for r in runners if r.jockey_name and r.jockey_allowance_lb is None]
    assert full_riders


@pytest.mark.parametrize(
    ("text", "parsed"),
    [
        ("Charlie Tucker(7)", ("Charlie Tucker", 7)),
        ("Tom Kiely-Marshall", ("Tom Kiely-Marshall", None)),
        ("Mr P. W. Mullins (5)", ("Mr P. W. Mullins", 5)),
        ("", ("", None)),
    ],
)
def test_jockey_parse_splits_the_claim_from_the_name(text, parsed):
    assert jockey_parse(text) == parsed
