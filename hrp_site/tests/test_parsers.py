"""API request bodies: JSON only, and a body the API cannot take is a 4xx saying why, never a
500 and never a write."""

import io

import pytest
from rest_framework.exceptions import ParseError

from hrp_site.parsers import BoundedJSONParser
from races.models import Race
from races.tests.factories import RaceFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def race():
    return RaceFactory(name="Sha Tin Trophy", going="good")


def _patch(client, race, body: bytes, content_type="application/json"):
    return client.generic("PATCH", f"/api/v1/races/{race.pk}/", body, content_type=content_type)


def _unchanged(race) -> bool:
    stored = Race.objects.get(pk=race.pk)
    return (stored.name, stored.going, stored.updated_at) == (
        race.name,
        race.going,
        race.updated_at,
    )


def test_a_body_nested_100000_levels_is_a_400_not_a_recursion_error(staff_api, race):
    response = _patch(staff_api, race, b"[" * 100_000 + b"]" * 100_000)

    assert response.status_code == 400
    assert response.json() == {"detail": "JSON nested deeper than 32 levels."}
    assert _unchanged(race)


def test_a_body_nested_33_levels_inside_an_object_is_a_400(staff_api, race):
    response = _patch(staff_api, race, b'{"name": ' + b"[" * 32 + b"]" * 32 + b"}")

    assert response.status_code == 400
    assert response.json() == {"detail": "JSON nested deeper than 32 levels."}
    assert _unchanged(race)


def test_the_parser_takes_32_levels_and_refuses_33():
    def parse(body: bytes):
        return BoundedJSONParser().parse(io.BytesIO(body))

    assert parse(b"[" * 32 + b"]" * 32) == eval("[" * 32 + "]" * 32)  # noqa: S307
    with pytest.raises(ParseError, match="JSON nested deeper than 32 levels."):
        parse(b"[" * 33 + b"]" * 33)


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        (b'{"distance_m": NaN}', "JSON parse error - NaN is not a number JSON allows"),
        (b'{"distance_m": Infinity}', "JSON parse error - Infinity is not a number JSON allows"),
        (b'{"distance_m": -Infinity}', "JSON parse error - -Infinity is not a number JSON allows"),
        (b'{"distance_m": 1e999}', "JSON parse error - the number 1e999 is too large"),
        (
            b'{"going": "GOOD \xff"}',
            "JSON parse error - the body is not UTF-8: byte 0xff at position 16.",
        ),
        (
            b'{"going": "GOOD \\ud800"}',
            "JSON parse error - a string holds a lone surrogate (\\ud800), which is not a "
            "character.",
        ),
        (
            b'{"\\udfff": "GOOD"}',
            "JSON parse error - a string holds a lone surrogate (\\udfff), which is not a "
            "character.",
        ),
    ],
)
def test_a_body_json_or_the_database_cannot_hold_is_a_400_saying_why(staff_api, race, body, detail):
    response = _patch(staff_api, race, body)

    assert response.status_code == 400
    assert response.json() == {"detail": detail}
    assert _unchanged(race)


def test_a_surrogate_pair_is_one_character_and_is_stored(staff_api, race):
    response = _patch(staff_api, race, b'{"name": "Sha Tin \\ud83d\\udc0e"}')

    assert response.status_code == 200
    assert Race.objects.get(pk=race.pk).name == "Sha Tin \U0001f40e"


def test_a_body_over_the_upload_limit_is_a_413(staff_api, race, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024 * 1024
    body = b'{"name": "' + b"x" * (1024 * 1024) + b'"}'

    response = _patch(staff_api, race, body)

    assert response.status_code == 413
    assert response.json() == {"detail": "The request body is too large: the limit is 1 MB."}
    assert _unchanged(race)


@pytest.mark.parametrize(
    "content_type", ["application/x-www-form-urlencoded", "multipart/form-data; boundary=x"]
)
def test_form_bodies_are_refused_with_415(staff_api, race, content_type):
    response = _patch(staff_api, race, b"name=Other", content_type=content_type)

    assert response.status_code == 415
    assert response.json() == {"detail": f'Unsupported media type "{content_type}" in request.'}
    assert _unchanged(race)
