"""Query parameters from outside: a text filter longer than the API takes is a 400 naming it."""

import pytest

from predictions.tests.factories import ModelVersionFactory
from races.tests.factories import (
    HorseFactory,
    JockeyFactory,
    RacecourseFactory,
    RaceFactory,
    TrainerFactory,
)

pytestmark = pytest.mark.django_db

LONG = "x" * 50_000

# Every free-text filter of the API, with a row each for the database to compare against.
TEXT_FILTERS = [
    ("/api/v1/racecourses/", "code"),
    ("/api/v1/racecourses/", "country"),
    ("/api/v1/races/", "course"),
    ("/api/v1/horses/", "name"),
    ("/api/v1/horses/", "country"),
    ("/api/v1/jockeys/", "name"),
    ("/api/v1/trainers/", "name"),
]


@pytest.fixture
def rows():
    RaceFactory()
    HorseFactory(name="Golden Sixty", country="AUS")
    JockeyFactory(name="Zac Purton")
    TrainerFactory(name="Francis Lui")
    RacecourseFactory(code="HV")
    ModelVersionFactory()


@pytest.mark.parametrize(("url", "param"), TEXT_FILTERS)
def test_a_text_filter_over_100_characters_is_a_400_naming_it(member_api, rows, url, param):
    response = member_api.get(url, {param: LONG})

    assert response.status_code == 400
    assert response.json() == {
        param: ["Ensure this value has at most 100 characters (it has 50000)."]
    }


@pytest.mark.parametrize(("url", "param"), TEXT_FILTERS)
def test_a_text_filter_with_a_nul_is_a_400_naming_it(member_api, rows, url, param):
    response = member_api.get(url, {param: "H\x00"})

    assert response.status_code == 400
    assert response.json() == {param: ["Null characters are not allowed."]}


@pytest.mark.parametrize(("url", "param"), TEXT_FILTERS)
def test_a_text_filter_of_100_characters_is_applied(member_api, rows, url, param):
    response = member_api.get(url, {param: "x" * 100})

    assert response.status_code == 200
    assert response.json()["results"] == []


@pytest.mark.parametrize(
    ("url", "param"),
    [
        ("/api/v1/races/", "status"),
        ("/api/v1/races/", "surface"),
        ("/api/v1/model-versions/", "algorithm"),
        ("/api/v1/model-versions/", "status"),
        ("/api/v1/predictions/", "algorithm"),
    ],
)
def test_a_choice_filter_refuses_a_long_value_naming_it(member_api, rows, url, param):
    response = member_api.get(url, {param: LONG})

    assert response.status_code == 400
    assert list(response.json()) == [param]
