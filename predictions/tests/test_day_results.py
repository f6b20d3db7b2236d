"""The day's results page: placings, the winner's odds, our top pick and how it finished."""

import datetime
import re
from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from predictions.services.cache import race_predictions_invalidate
from predictions.tests.factories import ModelVersionFactory, PredictionFactory
from races.models import Race
from races.tests.factories import RacecourseFactory, RaceFactory, RunnerFactory

pytestmark = pytest.mark.django_db

DAY = datetime.date(2024, 3, 10)


def _text(response) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


def _at(hour: int) -> datetime.datetime:
    return datetime.datetime(DAY.year, DAY.month, DAY.day, hour, tzinfo=datetime.UTC)


def _settled_race(*, version, number: int, hour: int, pick_position: int | None, course=None):
    """A race with three starters finishing 1-2-3 (our pick the one at `pick_position`, or
    one that did not finish when None) and a non-runner."""
    race = RaceFactory(
        meeting_date=DAY,
        race_number=number,
        post_time=_at(hour),
        status=Race.Status.RESULT,
        **({"racecourse": course} if course else {}),
    )
    runners = [
        RunnerFactory(
            race=race, saddle_number=n, finish_position=n, win_odds=Decimal(f"{n + 1}.50")
        )
        for n in (1, 2, 3)
    ]
    dnf = RunnerFactory(race=race, saddle_number=4, finish_position=None)
    RunnerFactory(race=race, saddle_number=5, non_runner=True, win_odds=None)
    pick = dnf if pick_position is None else runners[pick_position - 1]
    others = [r for r in [*runners, dnf] if r != pick]
    PredictionFactory(runner=pick, model_version=version, rank=1, win_probability=0.4)
    for rank, runner in enumerate(others, start=2):
        PredictionFactory(runner=runner, model_version=version, rank=rank, win_probability=0.1)
    return race, runners, pick


def test_results_page_shows_placings_winners_odds_and_our_top_pick(member_client):
    # given: a benter version trained before the day (the card's preferred model) and a logit
    benter = ModelVersionFactory(algorithm="benter", train_until=DAY - datetime.timedelta(1))
    logit = ModelVersionFactory(algorithm="logit", train_until=DAY - datetime.timedelta(1))
    sha_tin = RacecourseFactory(name="Sha Tin")
    won, won_runners, _ = _settled_race(
        version=benter, number=1, hour=14, pick_position=1, course=sha_tin
    )
    third, third_runners, third_pick = _settled_race(
        version=benter, number=2, hour=13, pick_position=3, course=sha_tin
    )
    failed, _, failed_pick = _settled_race(version=benter, number=3, hour=15, pick_position=None)
    PredictionFactory(runner=third_runners[0], model_version=logit, rank=1)  # not shown
    declared = RaceFactory(meeting_date=DAY, race_number=4, post_time=_at(16))
    abandoned = RaceFactory(meeting_date=DAY, race_number=5, post_time=_at(17), status="abandoned")

    # when
    response = member_client.get(reverse("predictions:day_results", kwargs={"day": DAY}))

    # then: the races in running order
    assert response.status_code == 200
    results = response.context["results"]
    assert [r.race.pk for r in results] == [third.pk, won.pk, failed.pk, declared.pk, abandoned.pk]
    text = _text(response)
    winner = won_runners[0]
    assert f'Winner: <a href="/horses/{winner.horse_id}/">{winner.horse.name}</a> at 2.50' in text
    assert (
        f'Our top pick: <a href="/horses/{winner.horse_id}/">{winner.horse.name}</a> (40.0%), '
        'finished 1st <span class="badge won">Won</span>'
    ) in text
    assert f"{third_pick.horse.name}</a> (40.0%), finished 3rd</li>" in text
    assert f"{failed_pick.horse.name}</a> (40.0%), did not finish</li>" in text
    assert "Our top pick (Benter (model + market), trained on races up to 9 March 2024) won" in text
    assert "<strong>1 of 3</strong> settled races with a pick" in text
    assert "Non-runners: " in text
    assert "Not run yet; our top pick: " not in text  # the declared race has no predictions
    assert "Abandoned: no result." in text
    # placings in finishing order, the non-finisher after them
    positions = [r.finish_position for r in results[0].finishers]
    assert positions == [1, 2, 3]
    assert len(results[0].non_finishers) == 1
    assert len(results[0].non_runners) == 1


def test_each_member_sees_the_results_odds_in_their_own_format(client, django_user_model):
    # given: one member reads fractional odds, the other decimal; a race settled 1-2-3 at 2.50,
    # 3.50 and 4.50
    version = ModelVersionFactory(algorithm="logit", train_until=DAY - datetime.timedelta(1))
    _, runners, _ = _settled_race(version=version, number=1, hour=14, pick_position=1)
    winner = runners[0]
    members = {
        odds_format: django_user_model.objects.create_user(
            username=odds_format, password="a-long-member-password", odds_format=odds_format
        )
        for odds_format in ("fractional", "decimal")
    }
    url = reverse("predictions:day_results", kwargs={"day": DAY})

    # when: each asks twice, in turn: every answer after the first is built from the cache
    pages, queries = {}, []
    for _ in range(2):
        for odds_format, member in members.items():
            client.force_login(member)
            with CaptureQueriesContext(connection) as captured:
                pages.setdefault(odds_format, []).append(_text(client.get(url)))
            queries.append(len(captured))

    # then
    assert queries[0] > queries[1] == queries[2] == queries[3]
    for page in pages["fractional"]:
        assert f"{winner.horse.name}</a> at 6/4</li>" in page
        assert all(odds in page for odds in ('"num">6/4<', '"num">5/2<', '"num">7/2<'))
        assert "2.50" not in page
    for page in pages["decimal"]:
        assert f"{winner.horse.name}</a> at 2.50</li>" in page
        assert all(odds in page for odds in ('"num">2.50<', '"num">3.50<', '"num">4.50<'))
        assert "6/4" not in page


def test_results_page_without_a_model_shows_placings_only(member_client):
    race = RaceFactory(meeting_date=DAY, status=Race.Status.RESULT)
    winner = RunnerFactory(race=race, saddle_number=1, finish_position=1, win_odds=Decimal("3.20"))
    RunnerFactory(race=race, saddle_number=2, finish_position=2)

    text = _text(member_client.get(reverse("predictions:day_results", kwargs={"day": DAY})))

    assert f"{winner.horse.name}</a> at 3.20" in text
    assert "No top picks: no model had been trained on races before this day." in text
    assert "Our top pick:" not in text


def test_results_page_needs_log_in_and_today_is_the_default(member_client):
    assert Client().get("/racing/results/").status_code == 302
    assert Client().get(f"/racing/{DAY.isoformat()}/results/").status_code == 302
    response = member_client.get("/racing/results/")
    assert response.status_code == 200
    assert response.context["day"] == timezone.localdate()


def test_results_page_is_rebuilt_when_a_result_or_a_prediction_changes(member_client):
    # given: the page built and cached
    version = ModelVersionFactory(algorithm="logit", train_until=DAY - datetime.timedelta(1))
    race, runners, pick = _settled_race(version=version, number=1, hour=14, pick_position=2)
    url = reverse("predictions:day_results", kwargs={"day": DAY})
    assert "finished 2nd</li>" in _text(member_client.get(url))

    # when: a stewards' inquiry reverses the first two, then the model is refreshed
    runners[0].finish_position, runners[1].finish_position = 2, 1
    runners[0].save()
    runners[1].save()
    after_result = _text(member_client.get(url))
    pick.predictions.update(win_probability=0.55)  # a bulk write, as a refresh makes
    race_predictions_invalidate(race_ids=[race.pk])
    after_refresh = _text(member_client.get(url))

    # then
    assert 'finished 1st <span class="badge won">Won</span>' in after_result
    assert "(55.0%), finished 1st" in after_refresh


def _day_with_results(races: int) -> datetime.date:
    day = DAY + datetime.timedelta(days=races)
    version = ModelVersionFactory(algorithm="logit", train_until=day - datetime.timedelta(1))
    for number in range(1, races + 1):
        race = RaceFactory(meeting_date=day, race_number=number, status=Race.Status.RESULT)
        for n in (1, 2, 3):
            runner = RunnerFactory(race=race, saddle_number=n, finish_position=n)
            PredictionFactory(runner=runner, model_version=version, rank=n)
    return day


@pytest.mark.parametrize("races", [1, 9])
def test_results_page_queries_do_not_grow_with_races(
    member_client, django_assert_num_queries, races
):
    day = _day_with_results(races)

    # session and user, the day's race ids, the versions, races, runners, top picks, neighbours
    with django_assert_num_queries(8):
        response = member_client.get(reverse("predictions:day_results", kwargs={"day": day}))

    assert len(response.context["results"]) == races
    # then from the shared cache: the session and the user only
    with django_assert_num_queries(2):
        member_client.get(reverse("predictions:day_results", kwargs={"day": day}))
