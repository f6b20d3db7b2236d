"""The results endpoint: a range of race days' results, by course and region, each race with its
runners in finishing order, in a number of queries that does not grow with the races."""

import datetime
from decimal import Decimal

import pytest

from races.models import Race
from races.tests.factories import RacecourseFactory, RaceFactory, RunnerFactory

DAY = datetime.date(2025, 12, 17)


def settled(day=DAY, racecourse=None, number=1, runners=3) -> Race:
    race = RaceFactory(
        meeting_date=day,
        race_number=number,
        status=Race.Status.RESULT,
        **({"racecourse": racecourse} if racecourse else {}),
    )
    for n in range(1, runners + 1):
        # saddle 1 finishes last, the highest number wins
        RunnerFactory(
            race=race,
            saddle_number=n,
            finish_position=runners - n + 1,
            win_odds=Decimal(f"{n + 1}.50"),
            lengths_behind=Decimal(runners - n),
        )
    return race


@pytest.mark.django_db
def test_a_result_lists_runners_in_finishing_order_non_runners_last(member_api):
    # given: a settled race with a non-runner, and a race still declared the same day
    race = settled()
    scratched = RunnerFactory(race=race, saddle_number=9, non_runner=True)
    RaceFactory(meeting_date=DAY, racecourse=race.racecourse, race_number=2)

    # when
    response = member_api.get("/api/v1/results/", {"date_from": "2025-12-17", "date_to": DAY})

    # then
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 1
    [result] = body["results"]
    assert result["id"] == race.pk
    assert (result["racecourse_code"], result["racecourse_name"], result["region"]) == (
        race.racecourse.code,
        race.racecourse.name,
        "HK",
    )
    assert (result["status"], result["field_size"]) == ("result", 3)
    assert [(r["saddle_number"], r["finish_position"]) for r in result["runners"]] == [
        (3, 1),
        (2, 2),
        (1, 3),
        (9, None),
    ]
    winner = result["runners"][0]
    assert (winner["win_odds"], winner["lengths_behind"], winner["non_runner"]) == (
        "4.50",
        "0.00",
        False,
    )
    assert result["runners"][-1]["id"] == scratched.pk
    assert result["runners"][-1]["non_runner"] is True


@pytest.mark.django_db
def test_results_filter_by_date_range_course_and_region(member_api):
    sha_tin = RacecourseFactory(code="ST", country="HK")
    kempton = RacecourseFactory(code="KEM", country="GB")
    early = settled(DAY - datetime.timedelta(days=3), sha_tin)
    in_range = settled(DAY, sha_tin)
    elsewhere = settled(DAY, kempton)

    def ids(**query):
        response = member_api.get("/api/v1/results/", query)
        assert response.status_code == 200, response.json()
        return [row["id"] for row in response.json()["results"]]

    assert ids(date_from="2025-12-16") == sorted([in_range.pk, elsewhere.pk])
    assert ids(date_to="2025-12-16") == [early.pk]
    assert ids(course="st") == [in_range.pk, early.pk]  # newest day first
    assert ids(region="GB") == [elsewhere.pk]
    assert ids(date_from="2025-12-14", date_to="2025-12-17", course="ST") == [
        in_range.pk,
        early.pk,
    ]
    # A range that ends before it starts holds no day (as the races' date_from and date_to).
    assert ids(date_from="2025-12-18", date_to="2025-12-17") == []


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("query", "errors"),
    [
        ({"date_from": "17/12/2025"}, {"date_from": ["Enter a valid date."]}),
        ({"region": "GBR"}, {"region": ["Ensure this value has at most 2 characters (it has 3)."]}),
        ({"day": "2025-12-17"}, None),
    ],
)
def test_bad_result_queries_are_a_400_naming_the_parameter(member_api, query, errors):
    response = member_api.get("/api/v1/results/", query)

    assert response.status_code == 400
    if errors:
        assert response.json() == errors
    else:
        assert list(response.json()) == list(query)


@pytest.mark.django_db
def test_results_take_the_same_number_of_queries_for_1_and_12_races(
    member_api, django_assert_num_queries
):
    settled(DAY, number=1)
    member_api.get("/api/v1/results/")  # the session and user, read once before counting

    with django_assert_num_queries(5) as one:
        member_api.get("/api/v1/results/")
    for number in range(2, 13):
        settled(DAY, number=number, runners=5)
    with django_assert_num_queries(len(one.captured_queries)):
        response = member_api.get("/api/v1/results/")

    assert response.json()["count"] == 12


@pytest.mark.django_db
def test_anonymous_clients_cannot_read_results(api_client):
    assert api_client.get("/api/v1/results/").status_code == 401
