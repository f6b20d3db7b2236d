"""The racecards endpoint: a day's races in one call, with their runners and the predictions of
the versions the day shows, in a number of queries that does not grow with the races, from the
shared cache until what it shows changes."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from predictions.models import Prediction
from predictions.services.refresh import predictions_refresh
from predictions.services.versions import model_version_train_new
from races.demo import demo_data_seed
from races.models import Race
from races.tests.factories import HorseFactory, RacecourseFactory, RaceFactory, RunnerFactory

from .factories import ModelVersionFactory, PredictionFactory

DAY = datetime.date(2025, 12, 17)
URL = "/api/v1/racecards/"


def predicted(racecourse, number, version, runners=3, day=DAY) -> Race:
    race = RaceFactory(meeting_date=day, racecourse=racecourse, race_number=number)
    for n in range(1, runners + 1):
        runner = RunnerFactory(race=race, saddle_number=n)
        PredictionFactory(runner=runner, model_version=version, win_probability=0.5 / n, rank=n)
    return race


def _get(client, query):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(URL, query)
    return response, len(queries)


@pytest.mark.django_db
def test_a_days_racecards_list_every_race_with_runners_and_predictions(member_api):
    # given: two courses racing on DAY, and a race the day after
    sha_tin = RacecourseFactory(code="ST", name="Sha Tin", country="HK")
    kempton = RacecourseFactory(code="KEM", name="Kempton", country="GB")
    logit = ModelVersionFactory(train_until=DAY - datetime.timedelta(days=1), is_active=True)
    st2, st1 = predicted(sha_tin, 2, logit), predicted(sha_tin, 1, logit)
    kem1 = predicted(kempton, 1, logit, runners=2)
    RunnerFactory(race=kem1, saddle_number=3, non_runner=True)
    predicted(sha_tin, 1, logit, day=DAY + datetime.timedelta(days=1))

    # when
    response = member_api.get(URL, {"date": DAY.isoformat()})

    # then: by course name, then race number
    assert response.status_code == 200
    body = response.json()
    assert (body["date"], body["total"]) == ("2025-12-17", 3)
    cards = body["racecards"]
    assert [card["id"] for card in cards] == [kem1.pk, st1.pk, st2.pk]
    kem = cards[0]
    assert (kem["racecourse_code"], kem["racecourse_name"], kem["region"]) == (
        "KEM",
        "Kempton",
        "GB",
    )
    assert (kem["field_size"], len(kem["runners"])) == (2, 3)
    assert (kem["shown_model_version"], kem["shown_algorithm"]) == (logit.pk, "logit")
    first = kem["runners"][0]
    assert first["saddle_number"] == 1
    assert first["horse_name"]
    assert first["predictions"] == [
        {
            "model_version": logit.pk,
            "algorithm": "logit",
            "win_probability": 0.5,
            "place_probability": 0.6,
            "rank": 1,
            "fair_odds": 4.0,
            "edge": 0.1,
        }
    ]
    assert kem["runners"][2]["predictions"] == []  # the non-runner


@pytest.mark.django_db
def test_racecards_filter_by_course_and_region(member_api):
    sha_tin = RacecourseFactory(code="ST", name="Sha Tin", country="HK")
    happy_valley = RacecourseFactory(code="HV", name="Happy Valley", country="HK")
    kempton = RacecourseFactory(code="KEM", name="Kempton", country="GB")
    logit = ModelVersionFactory(is_active=True)
    st, hv, kem = (predicted(course, 1, logit) for course in (sha_tin, happy_valley, kempton))

    def ids(**query):
        response = member_api.get(URL, {"date": DAY.isoformat(), **query})
        assert response.status_code == 200, response.json()
        return [card["id"] for card in response.json()["racecards"]]

    assert ids(course="st") == [st.pk]
    assert ids(region="hk") == [hv.pk, st.pk]
    assert ids(region="GB") == [kem.pk]
    assert ids(course="KEM", region="HK") == []


@pytest.mark.django_db
def test_racecards_default_to_today(member_api):
    today = timezone.localdate()
    race = RaceFactory(meeting_date=today)

    body = member_api.get(URL).json()

    assert (body["date"], [card["id"] for card in body["racecards"]]) == (
        today.isoformat(),
        [race.pk],
    )
    # no version to show yet
    assert (
        body["racecards"][0]["shown_model_version"],
        body["racecards"][0]["shown_algorithm"],
    ) == (
        None,
        None,
    )


@pytest.mark.django_db
def test_a_past_days_racecards_show_the_versions_trained_before_it(member_api):
    # given: an active logit trained on DAY's results, and one trained before DAY
    race = RaceFactory(meeting_date=DAY)
    runner = RunnerFactory(race=race)
    before = ModelVersionFactory(train_until=DAY - datetime.timedelta(days=1))
    after = ModelVersionFactory(train_until=DAY, is_active=True)
    PredictionFactory(runner=runner, model_version=before, win_probability=0.2)
    PredictionFactory(runner=runner, model_version=after, win_probability=0.9)

    body = member_api.get(URL, {"date": DAY.isoformat()}).json()

    [predictions] = [r["predictions"] for r in body["racecards"][0]["runners"]]
    assert [(p["model_version"], p["win_probability"]) for p in predictions] == [(before.pk, 0.2)]


@pytest.mark.django_db
def test_racecards_take_the_same_queries_for_1_race_and_for_12(
    member_api, django_assert_num_queries
):
    # given: one race, read once so that the session is warm
    course = RacecourseFactory()
    logit = ModelVersionFactory(is_active=True)
    market = ModelVersionFactory(algorithm="market", is_active=True)
    predicted(course, 1, logit)
    member_api.get(URL, {"date": DAY.isoformat(), "course": "none"})

    # when: built for 1 race, then for 12 of 14 runners with two versions' predictions
    with CaptureQueriesContext(connection) as one:
        response = member_api.get(URL, {"date": DAY.isoformat()})
    assert response.json()["total"] == 1
    for number in range(2, 13):
        race = predicted(course, number, logit, runners=14)
        for runner in race.runners.all():
            PredictionFactory(runner=runner, model_version=market)
    with django_assert_num_queries(len(one.captured_queries)):
        response = member_api.get(URL, {"date": DAY.isoformat()})

    # then: the card shows the logit, ahead of the market
    body = response.json()
    assert body["total"] == 12
    assert {card["shown_model_version"] for card in body["racecards"]} == {logit.pk}
    assert {len(r["predictions"]) for card in body["racecards"][1:] for r in card["runners"]} == {2}


@pytest.mark.django_db
def test_racecards_come_from_the_shared_cache_until_a_prediction_changes(member_api):
    # given: a day's cards read once
    logit = ModelVersionFactory(is_active=True)
    race = predicted(RacecourseFactory(), 1, logit)
    first, first_queries = _get(member_api, {"date": DAY.isoformat()})

    # when: read again, then after a prediction is deleted
    second, second_queries = _get(member_api, {"date": DAY.isoformat()})
    Prediction.objects.filter(runner__race=race, rank=3).delete()
    third, _ = _get(member_api, {"date": DAY.isoformat()})

    # then: the second read skips the body's reads (races, runners, versions, predictions,
    # histories); the third shows the change
    assert second.json() == first.json()
    assert first_queries - second_queries == 5
    assert [len(r["predictions"]) for r in third.json()["racecards"][0]["runners"]] == [1, 1, 0]


@pytest.mark.django_db
def test_racecards_show_a_trained_versions_refreshed_predictions(member_api):
    # given: the demo's race days and a logit trained up to yesterday, today's cards read once
    today = datetime.date(2026, 5, 20)
    demo_data_seed(seed=5, today=today, days_ahead=1, history_days=45)
    logit = model_version_train_new(algorithm="logit", train_until=today - datetime.timedelta(1))
    before = member_api.get(URL, {"date": today.isoformat()}).json()

    # when: the predictions of today's declared races are refreshed
    declared = Race.objects.filter(meeting_date=today, status=Race.Status.DECLARED)
    predictions_refresh(race_ids=list(declared.values_list("pk", flat=True)))
    after = member_api.get(URL, {"date": today.isoformat()}).json()

    # then: every starter of every card shows the logit's prediction, ranks 1.. in each race
    assert before["total"] == after["total"] == declared.count() > 1
    assert all(r["predictions"] == [] for c in before["racecards"] for r in c["runners"])
    for card in after["racecards"]:
        starters = [r for r in card["runners"] if not r["non_runner"]]
        shown = [p for r in starters for p in r["predictions"] if p["algorithm"] == "logit"]
        assert [p["model_version"] for p in shown] == [logit.pk] * len(starters)
        assert sorted(p["rank"] for p in shown) == list(range(1, len(starters) + 1))
        assert sum(p["win_probability"] for p in shown) == pytest.approx(1.0)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("query", "errors"),
    [
        ({"date": "17-12-2025"}, {"date": ["Enter a valid date."]}),
        ({"region": "GBR"}, {"region": ["Ensure this value has at most 2 characters (it has 3)."]}),
        ({"course": ""}, None),
        ({"day": "2025-12-17"}, None),
    ],
)
def test_bad_racecard_queries_are_a_400_naming_the_parameter(member_api, query, errors):
    response = member_api.get(URL, query)

    assert response.status_code == 400
    if errors:
        assert response.json() == errors
    else:
        assert list(response.json()) == list(query)


@pytest.mark.django_db
def test_anonymous_clients_cannot_read_racecards(api_client):
    assert api_client.get(URL).status_code == 401


@pytest.mark.django_db
def test_racecard_runners_carry_what_the_race_card_shows(member_api):
    # given: a 5-runner race at Kempton (British terms) and a 4-runner one at Lingfield, on DAY
    kempton = RacecourseFactory(code="KEM", name="Kempton", country="GB", place_terms="british")
    lingfield = RacecourseFactory(code="LIN", name="Lingfield", country="GB", place_terms="british")
    five = RaceFactory(meeting_date=DAY, racecourse=kempton, race_number=1, distance_m=1600)
    four = RaceFactory(meeting_date=DAY, racecourse=lingfield, race_number=1, distance_m=2000)
    winner = HorseFactory(sex="mare")
    # its past: a win at Kempton over a mile, then 12th elsewhere in blinkers, 20 days ago
    for days, course, metres, position, gear in [
        (40, kempton, 1600, 1, ""),
        (20, lingfield, 1400, 12, "b"),
    ]:
        past = RaceFactory(
            meeting_date=DAY - datetime.timedelta(days),
            racecourse=course,
            distance_m=metres,
            status=Race.Status.RESULT,
        )
        RunnerFactory(race=past, horse=winner, finish_position=position, gear=gear)
    RunnerFactory(race=five, horse=winner, saddle_number=1, gear="v", jockey_allowance_lb=3)
    newcomer = RunnerFactory(
        race=five, saddle_number=2, declared_form="-2453P", declared_days_since_run=68
    )
    for n in range(3, 6):
        RunnerFactory(race=five, saddle_number=n)
    # a Lingfield winner, over 1400 m: a course winner in the 2000 m race there
    course_winner = HorseFactory(sex="")
    past = RaceFactory(
        meeting_date=DAY - datetime.timedelta(400),
        racecourse=lingfield,
        distance_m=1400,
        status=Race.Status.RESULT,
    )
    RunnerFactory(race=past, horse=course_winner, finish_position=1)
    RunnerFactory(race=four, saddle_number=1, horse=course_winner)
    for n in range(2, 5):
        RunnerFactory(race=four, saddle_number=n)
    RunnerFactory(race=four, saddle_number=5, non_runner=True)

    # when
    response = member_api.get(URL, {"date": DAY.isoformat()})

    # then: the runners as The Racing API's racecards give them, with C/D marks from each race
    assert response.status_code == 200
    cards = {card["id"]: card for card in response.json()["racecards"]}
    kem, lin = cards[five.pk], cards[four.pk]
    assert (kem["places_paid"], kem["place_terms"]) == (2, "british")
    assert (lin["places_paid"], lin["place_terms"]) == (0, "british")  # 4 starters: none
    first = kem["runners"][0]
    assert {
        name: first[name]
        for name in [
            "age",
            "sex",
            "gear",
            "headgear_first_time",
            "jockey_allowance_lb",
            "form",
            "days_since_last_run",
            "winner_marks",
        ]
    } == {
        "age": 4,
        "sex": "mare",
        "gear": "v",
        "headgear_first_time": True,  # visor today, blinkers last time
        "jockey_allowance_lb": 3,
        "form": "10",
        "days_since_last_run": 20,
        "winner_marks": "CD",
    }
    assert first["form_runs"] == [
        {"meeting_date": "2025-11-07", "figure": "1", "position": 1, "field_size": 1},
        {"meeting_date": "2025-11-27", "figure": "0", "position": 12, "field_size": 1},
    ]
    second = kem["runners"][1]
    assert second["id"] == newcomer.pk
    assert (second["form"], second["days_since_last_run"], second["winner_marks"]) == (
        "-2453P",
        68,
        "",
    )
    assert (second["headgear_first_time"], second["jockey_allowance_lb"]) == (False, None)
    assert second["form_runs"] == []  # the provider's figures: no runs behind them
    # each race's marks by its own course and distance
    lin_first = lin["runners"][0]
    assert (lin_first["sex"], lin_first["winner_marks"]) == ("", "C")
    assert (lin_first["form"], lin_first["days_since_last_run"]) == ("1", 400)
