"""Place terms: how many places pay, by field size, handicap, racecourse and provider."""

import pytest

from races.models import ExternalRecord, Racecourse
from races.place_terms import places_paid, race_place_terms
from races.tests.factories import RacecourseFactory, RaceFactory

BRITISH = Racecourse.PlaceTerms.BRITISH
HONG_KONG = Racecourse.PlaceTerms.HONG_KONG


@pytest.mark.parametrize(
    ("field_size", "handicap", "places"),
    [
        (2, False, 0),
        (4, False, 0),
        (5, False, 2),
        (7, False, 2),
        (8, False, 3),
        (15, True, 3),
        (16, False, 3),
        (16, True, 4),
        (30, True, 4),
    ],
)
def test_british_each_way_terms(field_size, handicap, places):
    assert places_paid(field_size=field_size, handicap=handicap, terms=BRITISH) == places


@pytest.mark.parametrize(
    ("field_size", "places"), [(3, 0), (4, 2), (6, 2), (7, 3), (14, 3), (16, 3)]
)
def test_hong_kong_place_pool_terms_ignore_handicaps(field_size, places):
    assert places_paid(field_size=field_size, handicap=True, terms=HONG_KONG) == places


@pytest.mark.django_db
def test_a_race_takes_its_courses_terms_else_its_providers_else_british():
    # given
    chosen = RaceFactory(
        racecourse=RacecourseFactory(place_terms=HONG_KONG),
        source=ExternalRecord.Source.THERACINGAPI,
        name="Novices' Hurdle",
    )
    hong_kong = RaceFactory(source=ExternalRecord.Source.HKRACING, name="Handicap")
    british = RaceFactory(source=ExternalRecord.Source.THERACINGAPI, name="Apprentice Handicap")

    # then
    assert race_place_terms(race=chosen, field_size=6).places == 2  # the course's, not British
    assert race_place_terms(race=hong_kong, field_size=16).places == 3
    terms = race_place_terms(race=british, field_size=16)
    assert (terms.places, terms.terms) == (4, BRITISH)
    assert terms.description == "Place pays the first 4 (16 runners)"
    assert race_place_terms(race=british, field_size=4).description == (
        "No place terms with 4 runners"
    )
