"""The Racing API's client mapping the recorded racecards."""

import datetime

from races.providers.theracingapi import TheRacingApiProvider
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
    non_runners = [r for card in cards for r in card.runners if r.non_runner]
    assert len(non_runners) == 6
    assert {(r.saddle_number, r.jockey_name) for r in non_runners} == {(None, "")}
