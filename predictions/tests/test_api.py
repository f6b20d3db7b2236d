import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from hrp_site.testing.sent import commit_callbacks
from predictions.models import ModelVersion
from races.models import Operation, Race
from races.tests.factories import RaceFactory, RunnerFactory

from .factories import ModelVersionFactory, PredictionFactory
from .sent import record_sent_tasks

DAY = datetime.date(2024, 3, 2)


def assert_queued(response, operation: Operation) -> None:
    """The 202's body: the queued operation, polled at its absolute URL (also in Location)."""
    poll = f"http://testserver/api/v1/operations/{operation.pk}/"
    assert response.json() == {
        "id": operation.pk,
        "kind": operation.kind,
        "status": "queued",
        "poll": poll,
        "parameters": operation.parameters,
        "outcome": {},
        "error": "",
        "created_at": operation.created_at.isoformat().replace("+00:00", "Z"),
        "started_at": None,
        "finished_at": None,
    }
    assert response["Location"] == poll


@pytest.fixture
def sent(monkeypatch):
    """The tasks sent to the broker, as (task name, args, kwargs)."""
    return record_sent_tasks(monkeypatch)


# --- the race API's detail, with predictions ------------------------------------------------------


@pytest.mark.django_db
def test_race_detail_nests_runners_and_the_active_models_predictions(member_api):
    race = RaceFactory()
    first = RunnerFactory(race=race, saddle_number=1)
    second = RunnerFactory(race=race, saddle_number=2)
    active = ModelVersionFactory(is_active=True)
    old = ModelVersionFactory()
    PredictionFactory(runner=first, model_version=active, win_probability=0.7, rank=1)
    PredictionFactory(runner=second, model_version=active, win_probability=0.3, rank=2)
    PredictionFactory(runner=first, model_version=old, win_probability=0.1, rank=2)

    response = member_api.get(f"/api/v1/races/{race.pk}/")

    assert response.status_code == 200
    runners = response.json()["runners"]
    assert [r["id"] for r in runners] == [first.pk, second.pk]
    assert runners[0]["horse_name"] == first.horse.name
    assert runners[0]["predictions"] == [
        {
            "model_version": active.pk,
            "algorithm": "logit",
            "win_probability": 0.7,
            "place_probability": 0.6,
            "rank": 1,
            "fair_odds": 4.0,
            "edge": 0.1,
        }
    ]
    assert [p["win_probability"] for p in runners[1]["predictions"]] == [0.3]


@pytest.mark.django_db
def test_a_past_race_shows_the_versions_trained_before_its_day_not_a_later_active_one(
    member_api,
):
    # given: a race on DAY, predicted by a logit version trained before it and by an active
    # logit version trained on DAY's results; an active market version trained before DAY
    race = RaceFactory(meeting_date=DAY)
    runner = RunnerFactory(race=race, saddle_number=1)
    before = ModelVersionFactory(train_until=DAY - datetime.timedelta(days=1))
    after = ModelVersionFactory(train_until=DAY, is_active=True)
    market = ModelVersionFactory(
        algorithm="market", train_until=DAY - datetime.timedelta(days=30), is_active=True
    )
    PredictionFactory(runner=runner, model_version=before, win_probability=0.2)
    PredictionFactory(runner=runner, model_version=after, win_probability=0.9)
    PredictionFactory(runner=runner, model_version=market, win_probability=0.3)

    # when
    response = member_api.get(f"/api/v1/races/{race.pk}/")

    # then
    assert response.status_code == 200
    predictions = response.json()["runners"][0]["predictions"]
    assert sorted(
        (p["model_version"], p["algorithm"], p["win_probability"]) for p in predictions
    ) == sorted([(before.pk, "logit", 0.2), (market.pk, "market", 0.3)])


@pytest.mark.django_db
def test_race_detail_with_fourteen_runners_takes_at_most_eight_queries(
    member_api, django_assert_max_num_queries
):
    race = RaceFactory()
    version = ModelVersionFactory(is_active=True)
    for runner in RunnerFactory.create_batch(14, race=race):
        PredictionFactory(runner=runner, model_version=version)

    with django_assert_max_num_queries(8):
        response = member_api.get(f"/api/v1/races/{race.pk}/")

    assert response.status_code == 200
    assert len(response.json()["runners"]) == 14
    assert all(len(r["predictions"]) == 1 for r in response.json()["runners"])


@pytest.mark.django_db
def test_race_detail_runners_carry_the_cards_details_in_the_same_queries_for_1_and_14(
    member_api, django_assert_num_queries
):
    # given: a race with one runner, a course winner over the trip wearing first-time cheekpieces
    race = RaceFactory(meeting_date=DAY, distance_m=1200)
    horse = RunnerFactory(
        race=RaceFactory(
            meeting_date=DAY - datetime.timedelta(days=9),
            racecourse=race.racecourse,
            distance_m=1200,
            status=Race.Status.RESULT,
        ),
        finish_position=1,
    ).horse
    RunnerFactory(race=race, horse=horse, saddle_number=1, gear="p", jockey_allowance_lb=5)
    with CaptureQueriesContext(connection) as one:
        response = member_api.get(f"/api/v1/races/{race.pk}/")
    body = response.json()

    # when: 13 more runners, each with a run of its own
    for n in range(2, 15):
        past = RunnerFactory(
            race=RaceFactory(meeting_date=DAY - datetime.timedelta(days=n), status="result"),
            finish_position=n,
        )
        RunnerFactory(race=race, horse=past.horse, saddle_number=n)
    with django_assert_num_queries(len(one.captured_queries)):
        response = member_api.get(f"/api/v1/races/{race.pk}/")

    # then
    first = body["runners"][0]
    assert (first["form"], first["days_since_last_run"], first["winner_marks"]) == ("1", 9, "CD")
    assert (first["gear"], first["headgear_first_time"], first["jockey_allowance_lb"]) == (
        "p",
        True,
        5,
    )
    assert (body["places_paid"], body["place_terms"]) == (0, "hong_kong")  # one starter
    runners = response.json()["runners"]
    assert [r["form"] for r in runners[1:]] == [str(n) if n < 10 else "0" for n in range(2, 15)]
    assert (response.json()["places_paid"], response.json()["place_terms"]) == (3, "hong_kong")


# --- predictions and model versions ---------------------------------------------------------------


@pytest.mark.django_db
def test_member_reads_predictions_by_race_date_and_model_version(member_api):
    version, other_version = ModelVersionFactory(), ModelVersionFactory(algorithm="market")
    race = RaceFactory(meeting_date=DAY)
    wanted = PredictionFactory(runner=RunnerFactory(race=race), model_version=version)
    same_race_other_version = PredictionFactory(runner=wanted.runner, model_version=other_version)
    other_day = PredictionFactory(
        runner=RunnerFactory(race=RaceFactory(meeting_date=DAY + datetime.timedelta(1))),
        model_version=version,
    )

    def ids(query):
        response = member_api.get("/api/v1/predictions/", query)
        assert response.status_code == 200
        return sorted(row["id"] for row in response.json()["results"])

    assert ids({"race": race.pk, "model_version": version.pk}) == [wanted.pk]
    assert ids({"race": race.pk}) == sorted([wanted.pk, same_race_other_version.pk])
    assert ids({"date": "2024-03-02", "algorithm": "logit"}) == [wanted.pk]
    assert ids({"model_version": version.pk}) == sorted([wanted.pk, other_day.pk])
    assert ids({"race_ids": f"{race.pk},{other_day.runner.race_id}"}) == sorted(
        [wanted.pk, same_race_other_version.pk, other_day.pk]
    )
    row = member_api.get(f"/api/v1/predictions/{wanted.pk}/").json()
    assert row["race"] == race.pk
    assert row["meeting_date"] == "2024-03-02"
    assert row["horse_name"] == wanted.runner.horse.name
    assert row["algorithm"] == "logit"
    assert row["win_probability"] == 0.25


@pytest.mark.django_db
def test_predictions_order_by_win_probability(member_api):
    low = PredictionFactory(win_probability=0.1)
    high = PredictionFactory(win_probability=0.9)

    response = member_api.get("/api/v1/predictions/", {"ordering": "-win_probability"})

    assert [row["id"] for row in response.json()["results"]] == [high.pk, low.pk]


@pytest.mark.django_db
def test_member_reads_model_versions_with_metrics(member_api):
    version = ModelVersionFactory(metrics={"log_loss": 2.05, "roi": -0.02}, is_active=True)
    ModelVersionFactory(algorithm="market")

    response = member_api.get("/api/v1/model-versions/", {"is_active": "true"})

    assert response.status_code == 200
    rows = response.json()["results"]
    assert [row["id"] for row in rows] == [version.pk]
    assert rows[0]["metrics"] == {"log_loss": 2.05, "roi": -0.02}
    assert rows[0]["status"] == "ready"


@pytest.mark.django_db
@pytest.mark.parametrize("url", ["/api/v1/predictions/", "/api/v1/model-versions/"])
def test_lists_take_the_same_number_of_queries_for_3_and_30_rows(
    member_api, django_assert_max_num_queries, url
):
    PredictionFactory.create_batch(3)
    with CaptureQueriesContext(connection) as few:
        member_api.get(url)
    PredictionFactory.create_batch(27)

    with django_assert_max_num_queries(len(few)):
        response = member_api.get(url)

    assert response.json()["count"] == 30
    assert len(few) <= 4


@pytest.mark.django_db
def test_staff_retrain_answers_202_and_queues_training_after_commit(
    staff_api, sent, django_capture_on_commit_callbacks
):
    version = ModelVersionFactory(hyperparameters={"C": 1.0}, seed=7)
    RaceFactory(meeting_date=DAY, status=Race.Status.RESULT)

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = staff_api.post(
            f"/api/v1/model-versions/{version.pk}/retrain/", {"activate": True}, format="json"
        )

    new = ModelVersion.objects.exclude(pk=version.pk).get()
    operation = Operation.objects.get()
    assert response.status_code == 202
    assert_queued(response, operation)
    assert (operation.kind, operation.parameters) == (
        "model_retrain",
        {"model_version": version.pk, "activate": True},
    )
    assert (new.algorithm, new.train_until, new.seed, new.status) == ("logit", DAY, 7, "queued")
    assert new.hyperparameters == {"C": 1.0}
    assert len(commit_callbacks(callbacks)) == 1  # sent from the commit's callback, not before
    assert sent == [
        (
            "predictions.tasks.train_model_task",
            (new.pk,),
            {"activate": True, "operation_id": operation.pk},
        )
    ]


@pytest.mark.django_db
def test_retrain_without_settled_races_is_400_and_queues_nothing(
    staff_api, sent, django_capture_on_commit_callbacks
):
    version = ModelVersionFactory()

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = staff_api.post(f"/api/v1/model-versions/{version.pk}/retrain/")

    assert response.status_code == 400
    assert response.json() == {"detail": "there are no settled races to train on"}
    assert ModelVersion.objects.count() == 1
    assert not Operation.objects.exists()
    assert callbacks == []
    assert sent == []


@pytest.mark.django_db
def test_members_cannot_run_operations(member_api, sent, django_capture_on_commit_callbacks):
    version = ModelVersionFactory()
    race = RaceFactory(meeting_date=DAY, status=Race.Status.RESULT)

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        retrain = member_api.post(f"/api/v1/model-versions/{version.pk}/retrain/")
        refresh = member_api.post(
            "/api/v1/predictions/refresh/", {"race_ids": [race.pk]}, format="json"
        )

    assert (retrain.status_code, refresh.status_code) == (403, 403)
    assert ModelVersion.objects.count() == 1
    assert not Operation.objects.exists()
    assert callbacks == []
    assert sent == []


@pytest.mark.django_db
def test_refresh_by_races_answers_202_and_queues_after_commit(
    staff_api, sent, django_capture_on_commit_callbacks
):
    races = RaceFactory.create_batch(2)
    ids = [race.pk for race in races]

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = staff_api.post("/api/v1/predictions/refresh/", {"race_ids": ids}, format="json")

    operation = Operation.objects.get()
    assert response.status_code == 202
    assert_queued(response, operation)
    assert (operation.kind, operation.parameters) == ("predictions_refresh", {"race_ids": ids})
    assert len(callbacks) == 1  # sent from the commit's callback, not before
    assert sent == [
        (
            "predictions.tasks.refresh_predictions_task",
            (),
            {"race_ids": ids, "day": None, "operation_id": operation.pk},
        )
    ]


@pytest.mark.django_db
def test_refresh_by_date_answers_202(staff_api, sent, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = staff_api.post(
            "/api/v1/predictions/refresh/", {"date": "2024-03-02"}, format="json"
        )

    operation = Operation.objects.get()
    assert response.status_code == 202
    assert_queued(response, operation)
    assert operation.parameters == {"date": "2024-03-02"}
    assert sent == [
        (
            "predictions.tasks.refresh_predictions_task",
            (),
            {"race_ids": None, "day": "2024-03-02", "operation_id": operation.pk},
        )
    ]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("body", "errors"),
    [
        ({}, {"non_field_errors": ["Give either race_ids or date, not both or neither."]}),
        (
            {"race_ids": "the race", "date": "2024-03-02"},
            {"non_field_errors": ["Give either race_ids or date, not both or neither."]},
        ),
        ({"race_ids": [999_998, 999_999]}, {"race_ids": ["No race with id 999998, 999999."]}),
        ({"race_ids": []}, {"race_ids": ["Ensure this field has at least 1 elements."]}),
        ({"race_ids": ["1"]}, {"race_ids": ["Must be an integer."]}),
        ({"date": 20240302}, {"date": ["Must be a string."]}),
        (
            {"date": "soon"},
            {"date": ["Date has wrong format. Use one of these formats instead: YYYY-MM-DD."]},
        ),
    ],
)
def test_refresh_with_bad_input_is_400_and_queues_nothing(
    staff_api, sent, django_capture_on_commit_callbacks, body, errors
):
    race = RaceFactory()
    if body.get("race_ids") == "the race":
        body = {**body, "race_ids": [race.pk]}

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = staff_api.post("/api/v1/predictions/refresh/", body, format="json")

    assert response.status_code == 400
    assert response.json() == errors
    assert callbacks == []
    assert sent == []


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("query", "errors"),
    [
        ({"race_ids": "1,x"}, {"race_ids": ["Enter a whole number."]}),
        ({"race_ids": ""}, {"race_ids": ["Give a value, or leave the parameter out."]}),
        (
            {"model_version": "0"},
            {"model_version": ["Ensure this value is greater than or equal to 1."]},
        ),
        (
            {"race": str(2**63)},
            {"race": [f"Ensure this value is less than or equal to {2**63 - 1}."]},
        ),
        (
            {"algorithm": "magic"},
            {"algorithm": ["Select a valid choice. magic is not one of the available choices."]},
        ),
    ],
)
def test_prediction_filters_refuse_what_the_schema_does_not_allow(member_api, query, errors):
    response = member_api.get("/api/v1/predictions/", query)

    assert response.status_code == 400
    assert response.json() == errors


@pytest.mark.django_db
def test_the_schema_says_the_refresh_takes_either_race_ids_or_date(api_client):
    schema = api_client.get("/api/schema/", {"format": "json"}).json()

    body = schema["paths"]["/api/v1/predictions/refresh/"]["post"]["requestBody"]
    assert body["required"] is True
    assert body["content"]["application/json"]["schema"]["oneOf"] == [
        {"required": ["race_ids"]},
        {"required": ["date"]},
    ]
