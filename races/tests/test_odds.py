"""Odds shown as members choose: decimal or fractional."""

from decimal import Decimal

import pytest

from races.odds import OddsFormat, fractional, odds_display
from races.templatetags.racing import headgear_words, minutes_words, sex_code


@pytest.mark.parametrize(
    ("decimal", "text"),
    [
        (2.0, "Evs"),
        (5.5, "9/2"),
        (3.0, "2/1"),
        (1.5, "1/2"),
        (1.8, "4/5"),
        (2.62, "13/8"),
        (2.5, "6/4"),  # as quoted, not reduced to 3/2
        (1.67, "4/6"),
        (4.33, "10/3"),
        (11.0, "10/1"),
        (34.0, "33/1"),
        (1.01, "1/100"),
        (101.0, "100/1"),
    ],
)
def test_fractional_odds_are_the_nearest_quoted_price(decimal, text):
    assert fractional(decimal) == text


def test_odds_display_follows_the_format_and_says_when_unknown():
    assert odds_display(Decimal("5.50"), OddsFormat.DECIMAL) == "5.50"
    assert odds_display(Decimal("5.50"), OddsFormat.FRACTIONAL) == "9/2"
    assert odds_display(4.0, OddsFormat.FRACTIONAL) == "3/1"
    assert odds_display(None, OddsFormat.FRACTIONAL) == "–"
    assert odds_display(1.0, OddsFormat.FRACTIONAL) == "1.00"  # no fraction for certainty


def test_headgear_and_sex_codes_in_words():
    assert headgear_words("tp") == "tongue strap, cheekpieces"
    assert headgear_words("B/TT") == "B/TT"  # the Hong Kong codes are shown as they are
    assert sex_code("gelding") == "g"
    assert sex_code("") == ""


@pytest.mark.parametrize(
    ("minutes", "words"),
    [(0, "0 min"), (30, "30 min"), (60, "1 h"), (247, "4 h 7 min"), (None, "")],
)
def test_a_wait_reads_in_hours_and_minutes(minutes, words):
    assert minutes_words(minutes) == words
