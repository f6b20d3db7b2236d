"""Input from outside the API: a text filter longer than the API takes is a 400 naming it, and
answers are JSON, never the browsable API, outside debug mode."""

import os
import subprocess
import sys

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
# Each text filter with the longest value it takes: the model field's length, or 100.
TEXT_FILTERS = [
    ("/api/v1/racecourses/", "code", 8),
    ("/api/v1/racecourses/", "country", 2),
    ("/api/v1/races/", "course", 8),
    ("/api/v1/horses/", "name", 100),
    ("/api/v1/horses/", "country", 3),
    ("/api/v1/jockeys/", "name", 100),
    ("/api/v1/trainers/", "name", 100),
]


@pytest.fixture
def rows():
    RaceFactory()
    HorseFactory(name="Golden Sixty", country="AUS")
    JockeyFactory(name="Zac Purton")
    TrainerFactory(name="Francis Lui")
    RacecourseFactory(code="HV")
    ModelVersionFactory()


@pytest.mark.parametrize(("url", "param", "max_length"), TEXT_FILTERS)
def test_a_text_filter_over_its_length_is_a_400_naming_it(member_api, rows, url, param, max_length):
    response = member_api.get(url, {param: LONG})

    assert response.status_code == 400
    assert response.json() == {
        param: [f"Ensure this value has at most {max_length} characters (it has 50000)."]
    }


@pytest.mark.parametrize(("url", "param", "max_length"), TEXT_FILTERS)
def test_a_text_filter_with_a_nul_is_a_400_naming_it(member_api, rows, url, param, max_length):
    response = member_api.get(url, {param: "H\x00"})

    assert response.status_code == 400
    assert response.json() == {param: ["Null characters are not allowed."]}


@pytest.mark.parametrize(("url", "param", "max_length"), TEXT_FILTERS)
def test_a_text_filter_of_its_length_is_applied(member_api, rows, url, param, max_length):
    response = member_api.get(url, {param: "x" * max_length})

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


# --- the browsable API ---

BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


def test_a_browser_gets_json_not_the_browsable_api_in_production(member_api):
    response = member_api.get("/api/v1/races/", headers={"accept": BROWSER_ACCEPT})

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response.json()["results"] == []


def test_the_api_refuses_to_answer_only_html_in_production(member_api):
    response = member_api.get("/api/v1/races/", headers={"accept": "text/html"})

    assert response.status_code == 406
    assert response.json() == {"detail": "Could not satisfy the request Accept header."}


@pytest.mark.parametrize(
    ("debug", "renderers"),
    [
        ("false", ["JSONRenderer"]),
        ("true", ["JSONRenderer", "BrowsableAPIRenderer"]),
    ],
)
def test_the_browsable_api_is_on_only_in_debug_mode(debug, renderers):
    # The settings module reads DJANGO_DEBUG once, on import: a fresh interpreter for each value.
    script = (
        "import django; django.setup()\n"
        "from rest_framework.settings import api_settings\n"
        "print(' '.join(r.__name__ for r in api_settings.DEFAULT_RENDERER_CLASSES))\n"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "hrp_site.settings", "DJANGO_DEBUG": debug}

    result = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True
    )

    assert result.stdout.split() == renderers


@pytest.mark.parametrize(
    ("url", "query", "unknown"),
    [
        ("/api/v1/races/", {"winner": "1"}, ["winner"]),
        (
            "/api/v1/races/",
            {"meeting_date__gte": "2026-01-01", "date": "2026-01-01"},
            ["meeting_date__gte"],
        ),
        ("/api/v1/runners/", {"finish_position": "1", "sort": "x"}, ["finish_position", "sort"]),
    ],
)
def test_an_unknown_query_parameter_is_a_400_naming_it(member_api, rows, url, query, unknown):
    response = member_api.get(url, query)

    assert response.status_code == 400
    body = response.json()
    assert sorted(body) == unknown
    assert body[unknown[0]][0].startswith("Unknown query parameter; this endpoint takes: ")
    assert "date" in body[unknown[0]][0]


def test_the_known_query_parameters_are_what_the_schema_lists(member_api, rows):
    schema = member_api.get("/api/schema/", {"format": "json"}).json()
    listed = {p["name"] for p in schema["paths"]["/api/v1/races/"]["get"]["parameters"]}

    response = member_api.get("/api/v1/races/", {"unknown": "1"})

    takes = response.json()["unknown"][0].removeprefix(
        "Unknown query parameter; this endpoint takes: "
    )
    assert set(takes.rstrip(".").split(", ")) == listed
