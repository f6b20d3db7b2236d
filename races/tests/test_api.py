import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.throttling import AnonRateThrottle, UserRateThrottle

from races.models import Race, Runner

from .factories import (
    HorseFactory,
    JockeyFactory,
    RacecourseFactory,
    RaceFactory,
    RunnerFactory,
    TrainerFactory,
)

DAY = datetime.date(2024, 3, 2)
LISTS = [
    "/api/v1/racecourses/",
    "/api/v1/races/",
    "/api/v1/runners/",
    "/api/v1/horses/",
    "/api/v1/jockeys/",
    "/api/v1/trainers/",
]


@pytest.mark.django_db
@pytest.mark.parametrize("url", [*LISTS, "/api/v1/model-versions/", "/api/v1/predictions/"])
def test_anonymous_requests_are_refused(api_client, url):
    response = api_client.get(url)

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"


@pytest.mark.django_db
def test_member_reads_races(member_api):
    race = RaceFactory(meeting_date=DAY, race_number=3)

    response = member_api.get("/api/v1/races/")

    assert response.status_code == 200
    assert response.json()["count"] == 1
    row = response.json()["results"][0]
    assert row["id"] == race.pk
    assert row["racecourse"] == race.racecourse_id
    assert row["racecourse_code"] == race.racecourse.code
    assert row["meeting_date"] == "2024-03-02"
    assert row["race_number"] == 3
    assert row["status"] == "declared"


@pytest.mark.django_db
def test_member_cannot_write_races_or_runners(member_api):
    race = RaceFactory(distance_m=1200)
    runner = RunnerFactory(race=race, draw=3)
    created = {"racecourse": race.racecourse_id, "meeting_date": "2024-05-01", "race_number": 1}

    responses = [
        member_api.post("/api/v1/races/", {**created, "distance_m": 1000}, format="json"),
        member_api.patch(f"/api/v1/races/{race.pk}/", {"distance_m": 1400}, format="json"),
        member_api.delete(f"/api/v1/races/{race.pk}/"),
        member_api.patch(f"/api/v1/runners/{runner.pk}/", {"draw": 9}, format="json"),
        member_api.delete(f"/api/v1/runners/{runner.pk}/"),
    ]

    assert [r.status_code for r in responses] == [403] * 5
    assert Race.objects.count() == 1
    assert Race.objects.get().distance_m == 1200
    assert Runner.objects.get().draw == 3


@pytest.mark.django_db
def test_staff_writes_a_race_and_its_runner(staff_api):
    course = RacecourseFactory()
    horse, jockey, trainer = HorseFactory(), JockeyFactory(), TrainerFactory()

    race_response = staff_api.post(
        "/api/v1/races/",
        {
            "racecourse": course.pk,
            "meeting_date": "2024-05-01",
            "race_number": 4,
            "distance_m": 1650,
            "going": "good",
        },
        format="json",
    )
    race_id = race_response.json()["id"]
    runner_response = staff_api.post(
        "/api/v1/runners/",
        {
            "race": race_id,
            "horse": horse.pk,
            "jockey": jockey.pk,
            "trainer": trainer.pk,
            "saddle_number": 1,
            "win_odds": "3.50",
        },
        format="json",
    )
    update = staff_api.patch(f"/api/v1/races/{race_id}/", {"status": "result"}, format="json")

    assert race_response.status_code == 201
    assert runner_response.status_code == 201
    assert update.status_code == 200
    race = Race.objects.get(pk=race_id)
    assert (race.racecourse, race.meeting_date, race.race_number) == (
        course,
        datetime.date(2024, 5, 1),
        4,
    )
    assert race.status == Race.Status.RESULT
    assert race.source == Race.Source.MANUAL
    runner = Runner.objects.get(pk=runner_response.json()["id"])
    assert (runner.race_id, runner.horse, runner.saddle_number) == (race_id, horse, 1)
    assert str(runner.win_odds) == "3.50"


@pytest.mark.django_db
def test_staff_writes_that_break_a_constraint_are_400(staff_api):
    runner = RunnerFactory()

    bad_race = staff_api.post(
        "/api/v1/races/",
        {
            "racecourse": runner.race.racecourse_id,
            "meeting_date": "2024-05-01",
            "race_number": 0,
            "distance_m": 1000,
        },
        format="json",
    )
    bad_odds = staff_api.patch(f"/api/v1/runners/{runner.pk}/", {"win_odds": "1.00"}, format="json")
    non_runner_placed = staff_api.patch(
        f"/api/v1/runners/{runner.pk}/",
        {"non_runner": True, "finish_position": 2},
        format="json",
    )
    same_saddle = staff_api.post(
        "/api/v1/runners/",
        {"race": runner.race_id, "horse": HorseFactory().pk, "saddle_number": runner.saddle_number},
        format="json",
    )

    assert bad_race.status_code == 400
    assert bad_race.json() == {"race_number": ["Ensure this value is greater than or equal to 1."]}
    assert bad_odds.status_code == 400
    assert bad_odds.json() == {"win_odds": ["Ensure this value is greater than or equal to 1.01."]}
    assert non_runner_placed.status_code == 400
    assert non_runner_placed.json() == {
        "finish_position": ["A non-runner has no finishing position."]
    }
    assert same_saddle.status_code == 400
    assert same_saddle.json() == {
        "non_field_errors": ["The fields race, saddle_number must make a unique set."]
    }
    assert Race.objects.count() == 1
    assert Runner.objects.count() == 1


@pytest.mark.django_db
def test_races_filter_by_date_course_and_status(member_api):
    sha_tin = RacecourseFactory(code="ST")
    happy_valley = RacecourseFactory(code="HV")
    wanted = RaceFactory(racecourse=sha_tin, meeting_date=DAY, status=Race.Status.RESULT)
    RaceFactory(racecourse=sha_tin, meeting_date=DAY, status=Race.Status.DECLARED)
    RaceFactory(racecourse=happy_valley, meeting_date=DAY, status=Race.Status.RESULT)
    RaceFactory(racecourse=sha_tin, meeting_date=DAY + datetime.timedelta(1), status="result")

    def ids(query):
        response = member_api.get("/api/v1/races/", query)
        assert response.status_code == 200
        return [row["id"] for row in response.json()["results"]]

    assert ids({"date": "2024-03-02", "course": "st", "status": "result"}) == [wanted.pk]
    assert len(ids({"date": "2024-03-02"})) == 3
    assert len(ids({"course": "HV"})) == 1
    assert len(ids({"status": "declared"})) == 1
    assert len(ids({"date_from": "2024-03-03"})) == 1


@pytest.mark.django_db
def test_bad_filter_values_are_400(member_api):
    response = member_api.get("/api/v1/races/", {"date": "yesterday", "status": "won"})

    assert response.status_code == 400
    assert response.json() == {
        "date": ["Enter a valid date."],
        "status": ["Select a valid choice. won is not one of the available choices."],
    }


@pytest.mark.django_db
def test_races_order_and_page(member_api):
    races = [RaceFactory(meeting_date=DAY, race_number=n) for n in (2, 1, 3)]

    ordered = member_api.get("/api/v1/races/", {"ordering": "-race_number"})
    first = member_api.get("/api/v1/races/", {"ordering": "race_number", "page_size": 2})
    second = member_api.get(
        "/api/v1/races/", {"ordering": "race_number", "page_size": 2, "page": 2}
    )

    assert [r["race_number"] for r in ordered.json()["results"]] == [3, 2, 1]
    assert first.json()["count"] == 3
    assert [r["id"] for r in first.json()["results"]] == [races[1].pk, races[0].pk]
    assert first.json()["next"].endswith("page=2&page_size=2")
    assert [r["id"] for r in second.json()["results"]] == [races[2].pk]
    assert second.json()["next"] is None


@pytest.mark.django_db
def test_page_size_up_to_the_maximum(member_api):
    RaceFactory.create_batch(3)

    response = member_api.get("/api/v1/races/", {"page_size": 200})

    assert response.status_code == 200
    assert len(response.json()["results"]) == 3


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("query", "error"),
    [
        ({"page_size": 201}, {"page_size": ["Must be a whole number from 1 to 200."]}),
        ({"page_size": 0}, {"page_size": ["Must be a whole number from 1 to 200."]}),
        ({"page_size": "ten"}, {"page_size": ["Must be a whole number from 1 to 200."]}),
        ({"page_size": ""}, {"page_size": ["Must be a whole number from 1 to 200."]}),
        ({"page": 0}, {"page": ["Must be a whole number of 1 or more."]}),
        ({"page": "last"}, {"page": ["Must be a whole number of 1 or more."]}),
        ({"page": ""}, {"page": ["Must be a whole number of 1 or more."]}),
    ],
)
def test_page_parameters_it_cannot_use_are_400(member_api, query, error):
    RaceFactory()

    response = member_api.get("/api/v1/races/", query)

    assert response.status_code == 400
    assert response.json() == error


@pytest.mark.django_db
def test_a_page_past_the_end_is_404(member_api):
    RaceFactory()

    response = member_api.get("/api/v1/races/", {"page": 2})

    assert response.status_code == 404


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("query", "error"),
    [
        ({"date": ""}, {"date": ["Give a value, or leave the parameter out."]}),
        ({"date": "02/03/2024"}, {"date": ["Enter a valid date."]}),
        ({"racecourse": "1.0"}, {"racecourse": ["Enter a whole number."]}),
        ({"racecourse": "0"}, {"racecourse": ["Ensure this value is greater than or equal to 1."]}),
        (
            {"course": "x" * 9},
            {"course": ["Ensure this value has at most 8 characters (it has 9)."]},
        ),
        ({"status": ""}, {"status": ["Give a value, or leave the parameter out."]}),
    ],
)
def test_race_filters_refuse_what_the_schema_does_not_allow(member_api, query, error):
    RaceFactory()

    response = member_api.get("/api/v1/races/", query)

    assert response.status_code == 400
    assert response.json() == error


@pytest.mark.django_db
def test_runner_filters_take_true_or_false_and_any_id(member_api):
    runner = RunnerFactory(non_runner=False)

    not_boolean = member_api.get("/api/v1/runners/", {"non_runner": "1"})
    runs = member_api.get("/api/v1/runners/", {"non_runner": "false", "race": runner.race_id})
    no_such_race = member_api.get("/api/v1/runners/", {"race": runner.race_id + 1000})

    assert not_boolean.status_code == 400
    assert not_boolean.json() == {"non_runner": ["Must be true or false."]}
    assert [row["id"] for row in runs.json()["results"]] == [runner.pk]
    assert no_such_race.status_code == 200
    assert no_such_race.json()["results"] == []


@pytest.mark.django_db
def test_ordering_by_an_unknown_field_is_400(member_api):
    RaceFactory()

    response = member_api.get("/api/v1/races/", {"ordering": "-race_number,prize"})

    assert response.status_code == 400
    assert response.json() == {
        "ordering": [
            "Cannot order by 'prize'; order by a comma-separated list of: distance_m, "
            "meeting_date, post_time, race_number, each with an optional - for descending."
        ]
    }


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("field", "value", "error"),
    [
        ("non_runner", 0, "Must be true or false."),
        ("gear", 5, "Must be a string."),
        ("saddle_number", "3", "Must be an integer."),
        ("win_odds", 3.5, 'Must be a decimal number in a string, e.g. "3.50".'),
        ("win_odds", " 3.50", 'Must be a decimal number in a string, e.g. "3.50".'),
        ("win_odds", "", 'Must be a decimal number in a string, e.g. "3.50".'),
    ],
)
def test_runner_writes_refuse_values_of_the_wrong_json_type(staff_api, field, value, error):
    runner = RunnerFactory(gear="", win_odds=None)

    response = staff_api.patch(f"/api/v1/runners/{runner.pk}/", {field: value}, format="json")

    assert response.status_code == 400
    assert response.json() == {field: [error]}
    runner.refresh_from_db()
    assert (runner.non_runner, runner.gear, runner.win_odds) == (False, "", None)


def _rows(count: int) -> None:
    # Per row: two racecourses, races, runners, jockeys and trainers; one horse with two runs.
    for _ in range(count):
        runner = RunnerFactory()
        RunnerFactory(horse=runner.horse)


def _list_queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("url", "per_row"),
    [(url, 1 if url == "/api/v1/horses/" else 2) for url in LISTS],
)
def test_lists_take_the_same_number_of_queries_for_3_and_30_rows(
    member_api, django_assert_max_num_queries, url, per_row
):
    _rows(3)
    few = _list_queries(member_api, url)
    _rows(27)

    with django_assert_max_num_queries(few):
        response = member_api.get(url)

    assert response.json()["count"] == 30 * per_row
    assert few <= 5


@pytest.mark.django_db
def test_horses_come_with_their_latest_form(member_api):
    horse = HorseFactory()
    runs = [
        RunnerFactory(horse=horse, race=RaceFactory(meeting_date=DAY + datetime.timedelta(n)))
        for n in range(8)
    ]

    response = member_api.get(f"/api/v1/horses/{horse.pk}/")

    form = response.json()["form"]
    assert [run["id"] for run in form] == [run.pk for run in reversed(runs)][:6]
    assert form[0]["meeting_date"] == "2024-03-09"
    assert form[0]["racecourse"] == runs[-1].race.racecourse.code


@pytest.mark.django_db
def test_users_are_throttled_after_the_limit(member_api, monkeypatch):
    monkeypatch.setattr(UserRateThrottle, "THROTTLE_RATES", {"user": "3/minute"})

    codes = [member_api.get("/api/v1/racecourses/").status_code for _ in range(4)]

    assert codes == [200, 200, 200, 429]


@pytest.mark.django_db
def test_a_forged_forwarded_for_does_not_dodge_the_anonymous_limit(api_client, monkeypatch):
    monkeypatch.setattr(AnonRateThrottle, "THROTTLE_RATES", {"anon": "2/minute"})

    # The proxy appends the address it saw; whatever the client wrote comes before it.
    codes = [
        api_client.get(
            "/api/schema/", HTTP_X_FORWARDED_FOR=f"198.51.100.{n}, 203.0.113.7"
        ).status_code
        for n in range(3)
    ]
    other_client = api_client.get("/api/schema/", HTTP_X_FORWARDED_FOR="203.0.113.8")

    assert codes == [200, 200, 429]
    assert other_client.status_code == 200


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("race_number", 0, "Ensure this value is greater than or equal to 1."),
        ("race_number", 100, "Ensure this value is less than or equal to 99."),
        ("distance_m", 0, "Ensure this value is greater than or equal to 1."),
        ("distance_m", 10_001, "Ensure this value is less than or equal to 10000."),
        ("prize", "-0.01", "Ensure this value is greater than or equal to 0.00."),
    ],
)
def test_a_race_out_of_the_model_s_bounds_is_400_naming_the_field(staff_api, field, value, message):
    # given a valid race but for one value
    course = RacecourseFactory()
    race = {"racecourse": course.pk, "meeting_date": "2024-05-01", "race_number": 1}
    race |= {"distance_m": 1200, field: value}

    # when
    response = staff_api.post("/api/v1/races/", race, format="json")

    # then: the bound is the model's (its check constraint or validator), and nothing is written
    assert response.status_code == 400
    assert response.json() == {field: [message]}
    assert not Race.objects.exists()
