"""The race card's shared part and the race detail API's body come from the shared cache until
what they show changes; a cache that fails is skipped. (That a member's own follow buttons are
not shared is hrp_site's test_card_cache_members: it needs accounts, which predictions does not
build on.)"""

import datetime
import re
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from hrp_site import shared_cache
from hrp_site.testing.processes import free_port
from predictions.models import Prediction
from predictions.services.refresh import predictions_refresh
from predictions.services.versions import model_version_activate, model_version_train_new
from predictions.tests.factories import ModelVersionFactory, PredictionFactory, predicted_race
from races.demo import demo_data_seed
from races.models import Race, Runner
from races.services.upsert import records_upsert

pytestmark = pytest.mark.django_db

DAY = datetime.date(2024, 3, 10)


@pytest.fixture
def card():
    """A race on DAY with three runners and a logit's predictions of them."""
    return predicted_race(DAY)


def _get(client, url):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return response, len(queries)


def _page(response) -> str:
    """The page without its CSRF tokens, which change from one response to the next."""
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", response.content.decode())


def _api(race) -> str:
    return f"/api/v1/races/{race.pk}/"


def _odds(response) -> list[str]:
    return [runner["win_odds"] for runner in response.json()["runners"]]


def test_the_second_api_request_is_served_from_the_cache(member_api, card):
    race, _, _ = card

    first, first_queries = _get(member_api, _api(race))
    second, second_queries = _get(member_api, _api(race))

    assert second.json() == first.json()
    assert [len(r["predictions"]) for r in second.json()["runners"]] == [1, 1, 1]
    # The body's reads (race, runners, versions, predictions, form) are gone; auth and session
    # remain.
    assert first_queries - second_queries == 5


def test_the_second_card_request_is_served_from_the_cache(member_client, card):
    race, _, _ = card

    first, first_queries = _get(member_client, race.get_absolute_url())
    second, second_queries = _get(member_client, race.get_absolute_url())

    assert _page(second) == _page(first)
    assert "50.0%" in _page(second)
    # Race, runners, versions, predictions, form figures and neighbours: read once.
    assert first_queries - second_queries == 6


def test_the_day_view_is_served_from_the_cache_until_a_race_changes(member_client, card):
    race, _, _ = card
    url = f"/racing/{DAY.isoformat()}/"
    first, first_queries = _get(member_client, url)
    _, second_queries = _get(member_client, url)

    race.name = "The Renamed Plate"
    race.save()
    third, _ = _get(member_client, url)

    assert second_queries < first_queries
    assert "The Renamed Plate" not in _page(first)
    assert "The Renamed Plate" in _page(third)


def test_a_runner_saved_through_the_orm_shows_on_the_next_request(member_api, card):
    _, runners, _ = card
    member_api.get(_api(runners[0].race))

    runners[0].win_odds = Decimal("33.00")
    runners[0].save()

    assert _odds(member_api.get(_api(runners[0].race)))[0] == "33.00"


def test_a_bulk_update_by_an_import_or_sync_shows_on_the_next_request(
    member_api, member_client, card
):
    # given: both cached
    race, runners, _ = card
    member_api.get(_api(race))
    member_client.get(race.get_absolute_url())

    # when: the import's and the provider sync's upsert changes a runner (bulk_update, no signal)
    row = {"race_id": race.pk, "horse_id": runners[1].horse_id, "win_odds": Decimal("41.00")}
    records_upsert(Runner, {"r2": row}, source="hkracing", natural_key=("race_id", "horse_id"))

    # then
    assert _odds(member_api.get(_api(race)))[1] == "41.00"
    assert "41.0" in _page(member_client.get(race.get_absolute_url()))


def test_a_predictions_refresh_shows_on_the_next_request(member_api):
    # given: the demo's race days, a logit trained up to yesterday, a declared race's body cached
    today = datetime.date(2026, 5, 20)
    demo_data_seed(seed=5, today=today, days_ahead=1, history_days=45)
    logit = model_version_train_new(algorithm="logit", train_until=today - datetime.timedelta(1))
    race = Race.objects.filter(meeting_date=today, status=Race.Status.DECLARED).first()
    before = member_api.get(_api(race)).json()

    # when: the refresh writes in bulk (INSERT ... ON CONFLICT), which sends no signal
    predictions_refresh(race_ids=[race.pk], algorithms_to_use=["logit"])

    # then
    after = member_api.get(_api(race)).json()
    assert [p["model_version"] for r in before["runners"] for p in r["predictions"]] == []
    starters = [r for r in after["runners"] if not r["non_runner"]]
    assert [[p["model_version"] for p in r["predictions"]] for r in starters] == [[logit.pk]] * len(
        starters
    )


def test_a_prediction_saved_through_the_orm_shows_on_the_next_request(member_api, card):
    race, runners, logit = card
    member_api.get(_api(race))

    prediction = Prediction.objects.get(runner=runners[2], model_version=logit)
    prediction.delete()

    body = member_api.get(_api(race)).json()
    assert [len(r["predictions"]) for r in body["runners"]] == [1, 1, 0]


def test_activating_a_version_changes_the_cached_card(member_client, card):
    # given: an older logit, not shown while the walk-forward one is the latest
    race, runners, _ = card
    older = ModelVersionFactory(algorithm="logit", train_until=DAY - datetime.timedelta(5))
    for rank, runner in enumerate(runners, start=1):
        PredictionFactory(runner=runner, model_version=older, win_probability=0.07, rank=rank)
    before = _page(member_client.get(race.get_absolute_url()))

    # when
    model_version_activate(version=older)

    # then: the active version comes first
    after = _page(member_client.get(race.get_absolute_url()))
    assert '<td class="num c-win" data-label="Win">7.0%</td>' not in before
    assert '<td class="num c-win" data-label="Win">7.0%</td>' in after


def test_pages_are_served_uncached_while_the_cache_is_unreachable(
    settings, monkeypatch, member_api, member_client, card
):
    # given: a cache on a port nothing listens on
    race, runners, _ = card
    monkeypatch.setattr(shared_cache, "_bump_lost", False)
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{free_port()}/0",
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        }
    }

    # when
    api = member_api.get(_api(race))
    page = member_client.get(race.get_absolute_url())
    runners[0].win_odds = Decimal("12.00")
    runners[0].save()  # its bump fails too, and is made up for later
    again = member_api.get(_api(race))

    # then
    assert (api.status_code, page.status_code) == (200, 200)
    assert [len(r["predictions"]) for r in api.json()["runners"]] == [1, 1, 1]
    assert "50.0%" in _page(page)
    assert _odds(again)[0] == "12.00"
    assert shared_cache._bump_lost
