import datetime
import re
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from races.models import ExternalRecord, Race
from races.services.cache import races_cache_invalidate
from races.tests.factories import (
    HorseFactory,
    JockeyFactory,
    RacecourseFactory,
    RaceFactory,
    RunnerFactory,
    TrainerFactory,
)

pytestmark = pytest.mark.django_db

DAY = datetime.date(2024, 3, 10)


def _at(day: datetime.date, hour: int, minute: int = 0) -> datetime.datetime:
    return datetime.datetime(day.year, day.month, day.day, hour, minute, tzinfo=datetime.UTC)


def _text(response) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


# --- log-in --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "kwargs"),
    [
        ("races:today", {}),
        ("races:day", {"day": DAY}),
        ("races:search", {}),
        ("races:horse", {"pk": 1}),
        ("races:jockey", {"pk": 1}),
        ("races:trainer", {"pk": 1}),
    ],
)
def test_pages_need_log_in(client, name, kwargs):
    url = reverse(name, kwargs=kwargs)

    response = client.get(url)

    assert response.status_code == 302
    assert response["Location"] == f"{reverse('accounts:login')}?next={url}"


# --- day view ------------------------------------------------------------------------------------


def test_day_view_lists_meetings_and_races(member_client):
    # given
    course = RacecourseFactory(name="Sha Tin", country="HK")
    race = RaceFactory(
        racecourse=course,
        meeting_date=DAY,
        race_number=3,
        name="Lotus Handicap",
        race_class="4",
        distance_m=1200,
        going="good",
        post_time=_at(DAY, 13, 30),
    )
    RunnerFactory.create_batch(2, race=race)
    RunnerFactory(race=race, non_runner=True)
    demo_course = RacecourseFactory(name="Demo Park", source=ExternalRecord.Source.DEMO)
    RaceFactory(racecourse=demo_course, meeting_date=DAY, race_number=1)

    # when
    response = member_client.get(reverse("races:day", kwargs={"day": DAY}))

    # then
    text = _text(response)
    assert response.status_code == 200
    assert "<title>Race cards, 10 March 2024 · HRP</title>" in text
    assert 'Sha Tin <span class="muted">(HK)</span>' in text
    assert f'href="/racing/race/{race.pk}/">Lotus Handicap</a>' in text
    assert "1200 m (6f)" in text
    assert '<td class="num">2</td>' in text  # starters, not the non-runner
    assert "13:30" in text
    assert 'Demo Park <span class="muted">(HK)</span> <span class="badge demo"' in text
    assert text.count('class="badge demo"') == 1


def test_today_is_the_default_day(member_client):
    race = RaceFactory(meeting_date=timezone.localdate(), name="Today's race")

    response = member_client.get(reverse("races:today"))

    assert response.context["day"] == timezone.localdate()
    assert list(response.context["races"]) == [race]


def test_day_links_skip_to_the_closest_days_with_races(member_client):
    RaceFactory(meeting_date=DAY - datetime.timedelta(5))
    RaceFactory(meeting_date=DAY)
    RaceFactory(meeting_date=DAY + datetime.timedelta(12))

    text = _text(member_client.get(reverse("races:day", kwargs={"day": DAY})))

    assert 'href="/racing/2024-03-05/" rel="prev"' in text
    assert 'href="/racing/2024-03-22/" rel="next"' in text


def test_empty_day_says_so_and_still_links(member_client):
    RaceFactory(meeting_date=DAY - datetime.timedelta(1))

    response = member_client.get(reverse("races:day", kwargs={"day": DAY}))

    text = _text(response)
    assert response.status_code == 200
    assert "No races on Sunday 10 March 2024." in text
    assert 'href="/racing/2024-03-09/" rel="prev"' in text
    assert "No later race days" in text
    assert '<label for="id_date">Go to date</label>' in text


def test_date_picker_redirects_to_the_day(member_client):
    response = member_client.get(reverse("races:today"), {"date": "2024-03-10"})

    assert response.status_code == 302
    assert response["Location"] == "/racing/2024-03-10/"


def test_a_bad_date_shows_today_or_is_not_found(member_client):
    assert member_client.get(reverse("races:today"), {"date": "10/03/2024"}).status_code == 200
    assert member_client.get("/racing/2024-02-30/").status_code == 404


def _day_queries(member_client, races: int) -> int:
    day = DAY + datetime.timedelta(races)
    for number in range(1, races + 1):
        race = RaceFactory(meeting_date=day, race_number=number % 10 + 1)
        RunnerFactory.create_batch(2, race=race)
    with CaptureQueriesContext(connection) as queries:
        assert member_client.get(reverse("races:day", kwargs={"day": day})).status_code == 200
    return len(queries)


def test_day_view_queries_do_not_grow_with_races(member_client, django_assert_max_num_queries):
    two = _day_queries(member_client, 2)
    twelve = _day_queries(member_client, 12)

    assert two == twelve
    assert twelve <= 8


# --- search --------------------------------------------------------------------------------------


def test_search_by_name_and_by_external_id(member_client):
    # given
    horse = HorseFactory(name="Golden Sixty", external_id="A001")
    jockey = JockeyFactory(name="Vincent Ho")
    trainer = TrainerFactory(name="Francis Lui")
    nameless = HorseFactory(name="", external_id="K099")
    url = reverse("races:search")

    # when
    by_name = _text(member_client.get(url, {"q": "Golden"}))
    jockey_hit = _text(member_client.get(url, {"q": " ho "}))
    by_id = _text(member_client.get(url, {"q": "K099"}))

    # then
    assert f'<a href="/horses/{horse.pk}/">Golden Sixty</a>' in by_name
    assert 'Horses <span class="muted">(1)</span>' in by_name
    assert "No jockeys match" in by_name
    assert f'<a href="/jockeys/{jockey.pk}/">Vincent Ho</a>' in jockey_hit
    assert f'href="/trainers/{trainer.pk}/"' not in jockey_hit
    assert f'<a href="/horses/{nameless.pk}/">Horse #K099</a>' in by_id


def test_search_needs_two_characters(member_client):
    HorseFactory(name="X")

    response = member_client.get(reverse("races:search"), {"q": "x"})

    text = _text(response)
    assert "Type at least 2 characters to search." in text
    assert response.context["sections"] == []
    label = "Search racecourses, races, horses, jockeys and trainers"
    assert f'<label for="id_q">{label}</label>' in text
    assert 'type="search"' in text


@pytest.mark.parametrize(
    ("query", "error"),
    [
        ("x" * 50_000, "The search is too long: at most 100 characters."),
        ("Golden\x00", "Null characters are not allowed."),
    ],
)
def test_a_search_too_long_or_with_a_nul_is_a_400_page_saying_so(member_client, query, error):
    # given: a row to match, so that the database compares against the pattern
    HorseFactory(name="Golden Sixty")

    response = member_client.get(reverse("races:search"), {"q": query})

    assert response.status_code == 400
    text = _text(response)
    assert f'<p class="message error" role="alert">{error}</p>' in text
    assert 'maxlength="100"' in text
    assert "Golden Sixty" not in text


def test_a_search_of_100_characters_is_searched(member_client):
    horse = HorseFactory(name="G" * 100)

    response = member_client.get(reverse("races:search"), {"q": "G" * 100})

    assert response.status_code == 200
    assert f'<a href="/horses/{horse.pk}/">{"G" * 100}</a>' in _text(response)


# --- horse, jockey, trainer ----------------------------------------------------------------------


def test_horse_page_shows_form_charts_and_next_run(member_client):
    # given
    horse = HorseFactory(name="Romantic Warrior", country="IRE", sex="gelding")
    today = timezone.localdate()
    for days_before, position, rating in [(40, 3, 100), (20, 1, 104)]:
        race = RaceFactory(
            meeting_date=today - datetime.timedelta(days_before), status=Race.Status.RESULT
        )
        RunnerFactory(race=race, horse=horse, finish_position=position, rating=rating)
    upcoming = RaceFactory(meeting_date=today + datetime.timedelta(3), racecourse__name="Sha Tin")
    RunnerFactory(race=upcoming, horse=horse)

    # when
    response = member_client.get(reverse("races:horse", kwargs={"pk": horse.pk}))

    # then
    text = _text(response)
    assert "<title>Romantic Warrior · HRP</title>" in text
    assert f'<a href="/racing/race/{upcoming.pk}/">' in text
    assert [run.finish_position for run in response.context["runs"]] == [1, 3]
    assert "Romantic Warrior: finishing positions" in text
    assert "Romantic Warrior: ratings" in text
    assert text.count('<figure class="chart">') == 2
    assert " style=" not in text  # the Content-Security-Policy refuses inline styles
    assert '<td class="num">104</td>' in text
    assert 'aria-label="Follow Romantic Warrior"' in text


def test_horse_page_shows_the_latest_fifty_runs_with_a_note(member_client):
    horse = HorseFactory()
    for day in range(51):
        race = RaceFactory(meeting_date=DAY - datetime.timedelta(day), status=Race.Status.RESULT)
        RunnerFactory(race=race, horse=horse, finish_position=1)

    response = member_client.get(reverse("races:horse", kwargs={"pk": horse.pk}))

    assert len(response.context["runs"]) == 50
    assert response.context["runs"][0].race.meeting_date == DAY
    assert "Only the latest 50 runs are shown." in _text(response)


def test_demo_horse_is_marked(member_client):
    horse = HorseFactory(source=ExternalRecord.Source.DEMO)

    text = _text(member_client.get(reverse("races:horse", kwargs={"pk": horse.pk})))

    assert '<span class="badge demo"' in text
    assert "Demo data: this horse is synthetic." in text


def _horse_queries(member_client, runs: int) -> int:
    horse = HorseFactory()
    for day in range(runs):
        race = RaceFactory(meeting_date=DAY - datetime.timedelta(day), status=Race.Status.RESULT)
        RunnerFactory(race=race, horse=horse, finish_position=2)
    RunnerFactory(race=RaceFactory(meeting_date=timezone.localdate()), horse=horse)
    with CaptureQueriesContext(connection) as queries:
        assert member_client.get(reverse("races:horse", kwargs={"pk": horse.pk})).status_code == 200
    return len(queries)


def test_horse_page_queries_are_constant(member_client):
    assert _horse_queries(member_client, 2) == _horse_queries(member_client, 12) <= 6


@pytest.fixture
def trainer_record():
    """A trainer with four settled runners in the last 30 days, one a year ago, one declared."""
    trainer = TrainerFactory(name="John Size")
    today = timezone.localdate()
    for days_before, position in [(1, 1), (5, 2), (10, 5), (20, None), (400, 1)]:
        race = RaceFactory(
            meeting_date=today - datetime.timedelta(days_before), status=Race.Status.RESULT
        )
        RunnerFactory(race=race, trainer=trainer, finish_position=position)
    RunnerFactory(race=RaceFactory(meeting_date=today + datetime.timedelta(2)), trainer=trainer)
    return trainer


def test_trainer_page_shows_strike_rates(member_client, trainer_record):
    response = member_client.get(reverse("races:trainer", kwargs={"pk": trainer_record.pk}))

    text = _text(response)
    assert "<title>John Size · HRP</title>" in text
    # all time: 5 runners, 2 wins (40%), 3 places (60%); last 365 and 30 days: 4, 1 (25%), 2 (50%)
    assert (
        '<th scope="row">All time</th> <td class="num">5</td> <td class="num">2</td> '
        '<td class="num">40.0%</td> <td class="num">3</td> <td class="num">60.0%</td>'
    ) in text
    assert (
        '<th scope="row">Last 30 days</th> <td class="num">4</td> <td class="num">1</td> '
        '<td class="num">25.0%</td> <td class="num">2</td> <td class="num">50.0%</td>'
    ) in text
    assert len(response.context["recent_runs"]) == 5
    assert len(response.context["next_runs"]) == 1
    assert 'aria-label="Follow John Size"' in text


def test_jockey_page_shows_strike_rates_and_follow_state(member_client):
    jockey = JockeyFactory(name="Zac Purton")
    race = RaceFactory(meeting_date=timezone.localdate(), status=Race.Status.RESULT)
    RunnerFactory(race=race, jockey=jockey, finish_position=1)
    # the member follows the jockey, as the watchlist's own button does
    member_client.post(reverse("accounts:follow", args=["jockey", jockey.pk]), {"action": "follow"})

    response = member_client.get(reverse("races:jockey", kwargs={"pk": jockey.pk}))

    text = _text(response)
    assert response.context["strike_rates"]["30"] == {
        "rides": 1,
        "wins": 1,
        "places": 1,
        "win_rate": 100.0,
        "place_rate": 100.0,
    }
    assert '<th scope="col" class="num">Rides</th>' in text
    assert 'aria-pressed="true" aria-label="Follow Zac Purton"' in text


def _jockey_queries(member_client, rides: int) -> int:
    jockey = JockeyFactory()
    for day in range(rides):
        race = RaceFactory(meeting_date=DAY - datetime.timedelta(day * 100), status="result")
        RunnerFactory(race=race, jockey=jockey, finish_position=day % 4 + 1)
    RunnerFactory(race=RaceFactory(meeting_date=timezone.localdate()), jockey=jockey)
    with CaptureQueriesContext(connection) as queries:
        assert member_client.get(jockey.get_absolute_url()).status_code == 200
    return len(queries)


def test_participant_page_queries_are_constant(member_client):
    assert _jockey_queries(member_client, 2) == _jockey_queries(member_client, 12) <= 8


# --- edge cases ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "factory"),
    [
        ("races:horse", HorseFactory),
        ("races:jockey", JockeyFactory),
        ("races:trainer", TrainerFactory),
    ],
)
def test_a_profile_without_any_runs_renders(member_client, name, factory):
    participant = factory(name="Newcomer")

    response = member_client.get(reverse(name, kwargs={"pk": participant.pk}))

    assert response.status_code == 200
    assert "Newcomer" in _text(response)


def test_unknown_pages_are_404(member_client):
    assert member_client.get("/racing/race/999999/").status_code == 404
    assert member_client.get("/horses/999999/").status_code == 404
    assert member_client.get("/racing/2026-02-30/").status_code == 404


# --- next to run ---------------------------------------------------------------------------------


def test_next_to_run_lists_todays_races_not_yet_run_by_off_time(member_client):
    # given: two meetings today, one race run, one abandoned, and a race tomorrow
    today = timezone.localdate()
    now = timezone.now()
    sha_tin = RacecourseFactory(name="Sha Tin")
    happy_valley = RacecourseFactory(name="Happy Valley")
    later = RaceFactory(
        racecourse=sha_tin, meeting_date=today, race_number=2, post_time=now + timedelta(hours=2)
    )
    sooner = RaceFactory(
        racecourse=happy_valley,
        meeting_date=today,
        race_number=5,
        post_time=now + timedelta(minutes=30, seconds=30),
    )
    late = RaceFactory(
        racecourse=sha_tin, meeting_date=today, race_number=1, post_time=now - timedelta(minutes=5)
    )
    RunnerFactory.create_batch(3, race=sooner)
    RaceFactory(racecourse=sha_tin, meeting_date=today, race_number=3, status=Race.Status.RESULT)
    RaceFactory(racecourse=sha_tin, meeting_date=today, race_number=4, status="abandoned")
    RaceFactory(racecourse=sha_tin, meeting_date=today + timedelta(1), race_number=1)

    # when
    response = member_client.get(reverse("races:next_to_run"))

    # then
    assert response.status_code == 200
    listed = [item["race"].pk for item in response.context["races"]]
    assert listed == [late.pk, sooner.pk, later.pk]
    text = _text(response)
    assert "(in 30 min)" in text
    assert "(off time passed; awaiting the result)" in text
    assert f'<a href="/racing/race/{sooner.pk}/">R5 {sooner.name}</a>' in text
    assert '<td class="num">3</td>' in text
    assert f'href="/racing/{today.isoformat()}/results/"' in text


def test_next_to_run_is_linked_from_the_navigation_and_says_when_none_are_left(member_client):
    races_cache_invalidate()  # nothing is written here: retire what earlier tests cached
    response = member_client.get(reverse("races:today"))

    text = _text(response)
    assert '<a href="/racing/next/">Next to run</a>' in text
    assert '<a href="/racing/results/">Results</a>' in text
    assert "No races left to run today." in _text(member_client.get(reverse("races:next_to_run")))


def test_next_to_run_queries_do_not_grow_with_races(member_client):
    today = timezone.localdate()

    def queries(count: int) -> int:
        races_cache_invalidate()
        for _ in range(count):
            RunnerFactory.create_batch(2, race=RaceFactory(meeting_date=today))
        with CaptureQueriesContext(connection) as captured:
            assert member_client.get(reverse("races:next_to_run")).status_code == 200
        return len(captured)

    assert queries(1) == queries(8)


# --- search: racecourses and races, no internal ids -----------------------------------------------


def test_search_finds_racecourses_and_their_races_by_name(member_client):
    # given
    sha_tin = RacecourseFactory(name="Sha Tin", code="ST")
    past = RaceFactory(racecourse=sha_tin, meeting_date=date(2004, 3, 28), race_number=3)
    RaceFactory(racecourse=RacecourseFactory(name="Happy Valley"), meeting_date=date(2004, 3, 28))

    # when
    response = member_client.get(reverse("races:search"), {"q": "sha tin"})

    # then
    text = _text(response)
    titles = {section["title"]: section["total"] for section in response.context["sections"]}
    assert titles == {"Racecourses": 1, "Races": 1, "Horses": 0, "Jockeys": 0, "Trainers": 0}
    assert 'Sha Tin <span class="muted">(ST, HK)</span>' in text
    assert 'last raced <a href="/racing/2004-03-28/">Sun 28 Mar 2004</a>' in text
    assert f'<a href="/racing/race/{past.pk}/">Sun 28 Mar 2004, Sha Tin R3: {past.name}</a>' in text
    assert "Happy Valley" not in text


def test_search_finds_the_races_of_a_day_and_of_a_course_on_a_day(member_client):
    # given
    day = date(2004, 3, 28)
    sha_tin = RaceFactory(racecourse=RacecourseFactory(name="Sha Tin"), meeting_date=day)
    valley = RaceFactory(racecourse=RacecourseFactory(name="Happy Valley"), meeting_date=day)
    RaceFactory(racecourse=sha_tin.racecourse, meeting_date=day + timedelta(1))
    url = reverse("races:search")

    # when
    on_day = member_client.get(url, {"q": "2004-03-28"}).context["sections"]
    course_on_day = member_client.get(url, {"q": "Sha Tin 2004-03-28"}).context["sections"]
    not_a_day = member_client.get(url, {"q": "2004-02-30"})

    # then
    races = {section["title"]: section["results"] for section in on_day}["Races"]
    assert {race.pk for race in races} == {sha_tin.pk, valley.pk}
    races = {section["title"]: section["results"] for section in course_on_day}["Races"]
    assert [race.pk for race in races] == [sha_tin.pk]
    assert not_a_day.status_code == 200
    assert "No races match" in _text(not_a_day)


def test_search_shows_no_internal_ids(member_client):
    # given: rows with primary keys that would stand out, and a horse known by nothing but its row
    nameless = HorseFactory(name="", external_id="", source=ExternalRecord.Source.MANUAL)
    course = RacecourseFactory(pk=987_651, name="Shatin Park")
    race = RaceFactory(
        pk=987_652, racecourse=course, name="Shatin Cup", meeting_date=date(2004, 3, 28)
    )
    star = HorseFactory(pk=987_654, name="Shatin Star", external_id="HK-4242")
    RunnerFactory(pk=987_653, race=race, horse=star)
    JockeyFactory(pk=987_655, name="Shatin Rider")

    # when
    response = member_client.get(reverse("races:search"), {"q": "Shatin"})

    # then: the pks are in link targets only, never in what is shown
    text = _text(response)
    visible = re.sub(r"<[^>]+>", " ", text)
    assert "/racing/race/987652/" in text
    assert "/horses/987654/" in text
    assert "98765" not in visible
    # nor a provider's id beside a name (a horse known by its id alone is named by it)
    assert star.external_id not in visible
    for name in ("Shatin Cup", "Shatin Rider", "Shatin Star"):
        assert name in visible
    assert str(nameless) == "Unnamed horse"


def test_horse_and_jockey_pages_show_odds_in_the_members_format(client, django_user_model):
    # given: a member who reads fractional odds, and a horse's run at 5.50
    member = django_user_model.objects.create_user(
        username="fractions", password="a-long-member-password", odds_format="fractional"
    )
    client.force_login(member)
    race = RaceFactory(meeting_date=timezone.localdate(), status=Race.Status.RESULT)
    runner = RunnerFactory(race=race, finish_position=1, win_odds=Decimal("5.50"))

    # when
    horse_page = _text(client.get(reverse("races:horse", kwargs={"pk": runner.horse_id})))
    jockey_page = _text(client.get(reverse("races:jockey", kwargs={"pk": runner.jockey_id})))

    # then
    assert '<td class="num">9/2</td>' in horse_page
    assert '<td class="num">9/2</td>' in jockey_page
    assert "5.50" not in horse_page
