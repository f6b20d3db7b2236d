"""What is a member's own on a cached race card (the follow buttons) is never shared."""

import datetime
import re
from decimal import Decimal

import pytest
from django.urls import reverse

from accounts.services import watchlist_follow
from accounts.tests.factories import UserFactory
from predictions.tests.factories import predicted_race
from races.models import Runner
from races.odds import OddsFormat

pytestmark = pytest.mark.django_db

DAY = datetime.date(2024, 3, 10)


def _page(response) -> str:
    """The page without its CSRF tokens, which change from one response to the next."""
    assert response.status_code == 200
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", response.content.decode())


@pytest.fixture
def card():
    """A race on DAY with three runners and a logit's predictions of them."""
    return predicted_race(DAY)


def test_a_members_follow_buttons_are_not_shared(client, card):
    # given: one member follows the first horse; the other follows nothing
    race, runners, _ = card
    follower, other = UserFactory(username="follower"), UserFactory(username="other")
    watchlist_follow(user=follower, kind="horse", pk=runners[0].horse_id)
    runners[1].horse.name = "Rock & Roll's <Best>"
    runners[1].horse.save()

    # when: the follower's request fills the cache, the other's reads it
    client.force_login(follower)
    followed = _page(client.get(race.get_absolute_url()))
    client.force_login(other)
    shared = _page(client.get(race.get_absolute_url()))

    # then
    assert followed.count('aria-pressed="true"') == 1
    assert f'aria-label="Follow {runners[0].horse.name}"' in followed
    assert shared.count('aria-pressed="true"') == 0
    assert f'action="{reverse("accounts:follow", args=["horse", runners[1].horse_id])}"' in shared
    assert 'aria-label="Follow Rock &amp; Roll&#x27;s &lt;Best&gt;"' in shared
    assert shared.count('aria-pressed="false"') == 3
    assert "<!--follow:" not in shared


def test_each_member_sees_the_odds_in_their_own_format(client, card):
    # given: one member reads fractional odds, the other decimal; the card is cached
    race, runners, _ = card
    Runner.objects.filter(pk=runners[0].pk).update(win_odds=Decimal("5.50"))
    fractional = UserFactory(username="fractional", odds_format=OddsFormat.FRACTIONAL)
    decimal = UserFactory(username="decimal", odds_format=OddsFormat.DECIMAL)

    # when: each asks twice, in turn, so that every answer after the first may come from the cache
    pages = {}
    for _ in range(2):
        for member in (fractional, decimal):
            client.force_login(member)
            pages.setdefault(member.username, []).append(_page(client.get(race.get_absolute_url())))

    # then: the price of 5.50 and the fair odds of 4.00 (the factory's)
    for page in pages["fractional"]:
        assert '<td class="num c-odds" data-label="Odds">9/2</td>' in page
        assert '<td class="num c-fair" data-label="Fair">3/1</td>' in page
        assert "5.50" not in page
    for page in pages["decimal"]:
        assert '<td class="num c-odds" data-label="Odds">5.50</td>' in page
        assert '<td class="num c-fair" data-label="Fair">4.00</td>' in page
        assert ">9/2<" not in page
