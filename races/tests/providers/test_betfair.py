"""Betfair's client mapping the recorded cards and race statuses."""

from races.providers.betfair import LIST_RACES, BetfairProvider
from races.tests.providers.recorded import BETFAIR_DAY, RECORDED_STATUS_DAY


def test_betfair_maps_the_recorded_cards_of_a_day(betfair):
    # given
    provider = BetfairProvider(
        base_url=f"{betfair.url}/json-rpc", app_key="app-key", session_token="session"
    )

    # when
    cards = provider.racecards(BETFAIR_DAY)

    # then
    assert len(cards) == 10
    card = next(c for c in cards if c.external_id == "2.136.1170513.3")
    assert (card.course_name, card.course_country, card.course_code) == (
        "Evangeline Downs",
        "US",
        "EVD",
    )
    assert (card.race_number, card.distance_m, card.surface) == (3, 1408, "dirt")
    assert (str(card.prize), card.prize_currency, len(card.runners)) == ("15000.00", "USD", 8)
    runner = card.runners[0]
    assert (runner.horse_name, runner.horse_external_id, runner.saddle_number) == (
        "Jayrew",
        "2.14012613",
        1,
    )
    assert (runner.jockey_external_id, runner.trainer_name, runner.weight_lb) == (
        "2.00123498",
        "Samuel Breaux",
        118,
    )
    posted = betfair.requests[0]
    assert (posted["method"], posted["headers"]["X-Application"]) == ("POST", "app-key")


def test_betfair_results_are_the_recorded_final_statuses_without_placings(betfair, shared_data_dir):
    # given: the recorded race status answer, as it is
    betfair.race_list = (shared_data_dir / "betfair" / "list_race_details.json").read_bytes()
    provider = BetfairProvider(
        base_url=f"{betfair.url}/json-rpc", app_key="app-key", session_token="session"
    )

    # when
    results = provider.results(RECORDED_STATUS_DAY)

    # then: 466 races weighed in; the 8 dormant ones and the one going behind are not over
    assert len(results) == 466
    assert {(result.status, len(result.runners)) for result in results} == {("result", 0)}
    race_ids = {result.external_id for result in results}
    assert "27873033.1300" in race_ids
    assert not {"27875259.1920", "27875177.1915"} & race_ids
    assert betfair.calls == [
        {"jsonrpc": "2.0", "method": LIST_RACES, "params": {"date": "2016-08-04"}, "id": 1}
    ]
