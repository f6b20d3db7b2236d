import datetime

import pytest
from django.db import IntegrityError
from django.utils import timezone

from accounts.models import WatchlistEntry
from accounts.selectors import followed_ids, watchlist_home
from accounts.services import WatchlistTargetError, watchlist_follow, watchlist_unfollow
from races.models import Race
from races.tests.factories import (
    HorseFactory,
    JockeyFactory,
    RaceFactory,
    RunnerFactory,
    TrainerFactory,
)

from .clients import page_html
from .factories import UserFactory, WatchlistEntryFactory

pytestmark = pytest.mark.django_db


def entries(user) -> list[tuple]:
    return list(
        WatchlistEntry.objects.filter(user=user)
        .order_by("pk")
        .values_list("horse_id", "jockey_id", "trainer_id")
    )


# Services


@pytest.mark.parametrize(
    ("kind", "factory"),
    [("horse", HorseFactory), ("jockey", JockeyFactory), ("trainer", TrainerFactory)],
)
def test_following_twice_keeps_one_entry(kind, factory):
    user = UserFactory()
    target = factory()

    first = watchlist_follow(user=user, kind=kind, pk=target.pk)
    second = watchlist_follow(user=user, kind=kind, pk=target.pk)

    assert first == second
    assert (first.kind, first.target) == (kind, target)
    assert WatchlistEntry.objects.count() == 1


def test_unfollow_removes_the_entry_and_a_second_unfollow_is_harmless():
    user = UserFactory()
    horse = HorseFactory()
    watchlist_follow(user=user, kind="horse", pk=horse.pk)

    removed = watchlist_unfollow(user=user, kind="horse", pk=horse.pk)
    again = watchlist_unfollow(user=user, kind="horse", pk=horse.pk)

    assert (removed, again) == (True, False)
    assert WatchlistEntry.objects.count() == 0


def test_unfollow_leaves_other_users_and_other_targets_alone():
    user, other = UserFactory(), UserFactory()
    horse, jockey = HorseFactory(), JockeyFactory()
    watchlist_follow(user=user, kind="horse", pk=horse.pk)
    watchlist_follow(user=user, kind="jockey", pk=jockey.pk)
    watchlist_follow(user=other, kind="horse", pk=horse.pk)

    watchlist_unfollow(user=user, kind="horse", pk=horse.pk)

    assert entries(user) == [(None, jockey.pk, None)]
    assert entries(other) == [(horse.pk, None, None)]


@pytest.mark.parametrize(
    ("kind", "pk", "message"),
    [
        ("owner", 1, "Cannot follow a 'owner': choose one of horse, jockey, trainer."),
        ("horse", 999999, "There is no horse with id 999999."),
    ],
)
def test_an_unknown_kind_or_object_is_an_error(kind, pk, message):
    user = UserFactory()

    with pytest.raises(WatchlistTargetError, match=message):
        watchlist_follow(user=user, kind=kind, pk=pk)
    with pytest.raises(WatchlistTargetError, match=message):
        watchlist_unfollow(user=user, kind=kind, pk=pk)
    assert WatchlistEntry.objects.count() == 0


def test_an_entry_must_follow_exactly_one_thing():
    user = UserFactory()

    with pytest.raises(IntegrityError):
        WatchlistEntry.objects.create(user=user, horse=HorseFactory(), jockey=JockeyFactory())


def test_an_entry_must_follow_something():
    user = UserFactory()

    with pytest.raises(IntegrityError):
        WatchlistEntry.objects.create(user=user)


def test_deleting_a_horse_removes_its_entries():
    entry = WatchlistEntryFactory()

    entry.horse.delete()

    assert WatchlistEntry.objects.count() == 0


# Selectors


def test_followed_ids_in_one_query(django_assert_num_queries):
    user = UserFactory()
    horses = HorseFactory.create_batch(2)
    jockey, trainer = JockeyFactory(), TrainerFactory()
    for horse in horses:
        watchlist_follow(user=user, kind="horse", pk=horse.pk)
    watchlist_follow(user=user, kind="jockey", pk=jockey.pk)
    watchlist_follow(user=user, kind="trainer", pk=trainer.pk)
    watchlist_follow(user=UserFactory(), kind="jockey", pk=JockeyFactory().pk)

    with django_assert_num_queries(1):
        followed = followed_ids(user=user)

    assert followed == {
        "horse": {horses[0].pk, horses[1].pk},
        "jockey": {jockey.pk},
        "trainer": {trainer.pk},
    }


def test_followed_ids_of_an_anonymous_user_runs_no_query(django_assert_num_queries):
    from django.contrib.auth.models import AnonymousUser

    with django_assert_num_queries(0):
        followed = followed_ids(user=AnonymousUser())

    assert followed == {"horse": set(), "jockey": set(), "trainer": set()}


def declared(days_ahead: int, **kwargs) -> Race:
    return RaceFactory(
        status=Race.Status.DECLARED,
        meeting_date=timezone.localdate() + datetime.timedelta(days=days_ahead),
        **kwargs,
    )


def test_watchlist_home_lists_next_runs_and_latest_results_of_what_is_followed():
    # given a member following a horse, a jockey and a trainer
    user = UserFactory()
    horse, jockey, trainer = HorseFactory(), JockeyFactory(), TrainerFactory()
    for kind, target in [("horse", horse), ("jockey", jockey), ("trainer", trainer)]:
        watchlist_follow(user=user, kind=kind, pk=target.pk)
    later = RunnerFactory(race=declared(3), horse=horse)
    sooner = RunnerFactory(race=declared(1), jockey=jockey)
    today = RunnerFactory(race=declared(0), trainer=trainer)
    RunnerFactory(race=declared(1))  # nothing followed in it
    RunnerFactory(race=declared(-1), horse=horse)  # declared but in the past: never run
    old = RunnerFactory(
        race=RaceFactory(status=Race.Status.RESULT, meeting_date=datetime.date(2024, 1, 1)),
        horse=horse,
        finish_position=2,
    )
    recent = RunnerFactory(
        race=RaceFactory(status=Race.Status.RESULT, meeting_date=datetime.date(2024, 6, 1)),
        jockey=jockey,
        finish_position=1,
    )
    RunnerFactory(race=RaceFactory(status=Race.Status.RESULT), finish_position=1)

    # when
    home = watchlist_home(user=user)

    # then
    assert [entry.target for entry in home["entries"]] == [trainer, jockey, horse]
    assert home["next_runners"] == [today, sooner, later]
    assert home["latest_results"] == [recent, old]


def test_watchlist_home_when_nothing_is_followed(django_assert_num_queries):
    user = UserFactory()
    RunnerFactory(race=declared(1))

    with django_assert_num_queries(1):
        home = watchlist_home(user=user)

    assert home == {"entries": [], "next_runners": [], "latest_results": []}


def follow_with_runs(user, n: int) -> None:
    for _ in range(n):
        runner = RunnerFactory(race=declared(1))
        watchlist_follow(user=user, kind="horse", pk=runner.horse_id)
        watchlist_follow(user=user, kind="jockey", pk=runner.jockey_id)
        RunnerFactory(
            race=RaceFactory(status=Race.Status.RESULT), trainer=runner.trainer, finish_position=1
        )
        watchlist_follow(user=user, kind="trainer", pk=runner.trainer_id)


def render_home(user) -> None:
    home = watchlist_home(user=user)
    for runner in [*home["next_runners"], *home["latest_results"]]:
        str(runner.race.racecourse), str(runner.horse), str(runner.jockey), str(runner.trainer)
    for entry in home["entries"]:
        str(entry.target)


@pytest.mark.parametrize("followed", [1, 5])
def test_watchlist_home_runs_three_queries_however_many_are_followed(
    django_assert_num_queries, followed
):
    user = UserFactory()
    follow_with_runs(user, followed)

    with django_assert_num_queries(3):
        render_home(user)

    home = watchlist_home(user=user)
    assert (len(home["entries"]), len(home["next_runners"]), len(home["latest_results"])) == (
        3 * followed,
        followed,
        followed,
    )


# The follow view


def test_follow_view_follows_and_goes_back(client):
    user = UserFactory()
    horse = HorseFactory(name="Golden Sixty")
    client.force_login(user)

    response = client.post(
        f"/accounts/watchlist/horse/{horse.pk}/",
        {"action": "follow", "next": "/racing/?page=2"},
        follow=True,
    )

    assert response.redirect_chain[0] == ("/racing/?page=2", 302)
    assert entries(user) == [(horse.pk, None, None)]
    assert [str(m) for m in response.context["messages"]] == ["You now follow Golden Sixty."]


def test_unfollow_view_unfollows(client):
    user = UserFactory()
    jockey = JockeyFactory(name="Zac Purton")
    watchlist_follow(user=user, kind="jockey", pk=jockey.pk)
    client.force_login(user)

    response = client.post(
        f"/accounts/watchlist/jockey/{jockey.pk}/", {"action": "unfollow"}, follow=True
    )

    assert response.redirect_chain == [("/", 302)]
    assert entries(user) == []
    assert [str(m) for m in response.context["messages"]] == ["You no longer follow Zac Purton."]


def test_follow_view_ignores_a_next_on_another_host(client):
    user = UserFactory()
    horse = HorseFactory()
    client.force_login(user)

    response = client.post(
        f"/accounts/watchlist/horse/{horse.pk}/",
        {"action": "follow", "next": "https://evil.example.com/"},
    )

    assert (response.status_code, response.url) == (302, "/")
    assert entries(user) == [(horse.pk, None, None)]


def test_follow_view_rejects_get(client):
    user = UserFactory()
    horse = HorseFactory()
    client.force_login(user)

    response = client.get(f"/accounts/watchlist/horse/{horse.pk}/")

    assert response.status_code == 405
    assert WatchlistEntry.objects.count() == 0


@pytest.mark.parametrize(
    ("path", "data", "status"),
    [
        ("/accounts/watchlist/owner/1/", {"action": "follow"}, 404),
        ("/accounts/watchlist/horse/999999/", {"action": "follow"}, 404),
        ("/accounts/watchlist/horse/{pk}/", {"action": "star"}, 400),
        ("/accounts/watchlist/horse/{pk}/", {}, 400),
    ],
)
def test_follow_view_rejects_unknown_kinds_objects_and_actions(client, path, data, status):
    client.force_login(UserFactory())
    horse = HorseFactory()

    response = client.post(path.format(pk=horse.pk), data)

    assert response.status_code == status
    assert WatchlistEntry.objects.count() == 0


def test_follow_view_needs_a_login(client):
    horse = HorseFactory()

    response = client.post(f"/accounts/watchlist/horse/{horse.pk}/", {"action": "follow"})

    assert response.status_code == 302
    assert response.url.startswith("/accounts/login/?next=")
    assert WatchlistEntry.objects.count() == 0


# Templates


def test_follow_button_names_the_object_and_says_whether_it_is_followed(rf):
    from django.template.loader import render_to_string

    horse = HorseFactory(name="Golden Sixty")
    request = rf.get("/racing/?day=1")
    request.user = UserFactory()

    off = render_to_string(
        "accounts/_follow_button.html",
        {"kind": "horse", "obj": horse, "following": False},
        request=request,
    )
    on = render_to_string(
        "accounts/_follow_button.html",
        {"kind": "horse", "obj": horse, "following": True},
        request=request,
    )

    action = f'action="/accounts/watchlist/horse/{horse.pk}/"'
    assert action in off
    assert action in on
    assert '<input type="hidden" name="next" value="/racing/?day=1">' in off
    assert '<input type="hidden" name="action" value="follow">' in off
    assert '<input type="hidden" name="action" value="unfollow">' in on
    assert 'aria-pressed="false" aria-label="Follow Golden Sixty">Follow</button>' in off
    assert 'aria-pressed="true" aria-label="Follow Golden Sixty"' in on
    assert ">Following ✓</button>" in on
    assert "csrfmiddlewaretoken" in off


def test_member_home_shows_next_runners_and_results(client):
    user = UserFactory()
    horse = HorseFactory(name="Golden Sixty")
    watchlist_follow(user=user, kind="horse", pk=horse.pk)
    runner = RunnerFactory(race=declared(1, name="Sha Tin Mile"), horse=horse)
    result = RunnerFactory(
        race=RaceFactory(status=Race.Status.RESULT, name="Derby"), horse=horse, finish_position=3
    )

    html = page_html(client, "/", user=user)

    assert '<h2 id="next-runners">Your next runners</h2>' in html
    assert '<h2 id="latest-results">Latest results</h2>' in html
    assert (
        f'href="/racing/race/{runner.race.pk}/">R{runner.race.race_number} Sha Tin Mile</a>' in html
    )
    assert f'href="/racing/race/{result.race.pk}/">R{result.race.race_number} Derby</a>' in html
    assert f'href="/horses/{horse.pk}/">Golden Sixty</a>' in html
    assert '<td class="num">3</td>' in html
    assert "You do not follow anything yet" not in html


def test_member_home_without_follows_shows_the_hint(client):
    html = page_html(client, "/", user=UserFactory())

    assert "You do not follow anything yet" in html
    assert 'href="/racing/"' in html
    assert "Your next runners" not in html


def test_profile_lists_what_is_followed_with_unfollow_buttons(client):
    user = UserFactory()
    trainer = TrainerFactory(name="John Size")
    watchlist_follow(user=user, kind="trainer", pk=trainer.pk)

    html = page_html(client, "/accounts/profile/", user=user)

    assert f'href="/trainers/{trainer.pk}/">John Size</a>' in html
    assert f'action="/accounts/watchlist/trainer/{trainer.pk}/"' in html
    assert '<input type="hidden" name="action" value="unfollow">' in html
