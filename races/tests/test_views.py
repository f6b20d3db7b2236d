import datetime
import re
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.models import WatchlistEntry
from predictions.models import ModelVersion
from predictions.tests.factories import ModelVersionFactory, PredictionFactory
from races.models import ExternalRecord, Race
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


@pytest.fixture
def member(client, member_user):
    client.force_login(member_user)
    return client


def _at(day: datetime.date, hour: int, minute: int = 0) -> datetime.datetime:
    return datetime.datetime(day.year, day.month, day.day, hour, minute, tzinfo=datetime.UTC)


def _text(response) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


def _horse_names_in_order(response) -> list[str]:
    return re.findall(r'href="/horses/\d+/">([^<]+)</a>', response.content.decode())


# --- log-in --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "kwargs"),
    [
        ("races:today", {}),
        ("races:day", {"day": DAY}),
        ("races:race", {"pk": 1}),
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


def test_day_view_lists_meetings_and_races(member):
    # given
    course = RacecourseFactory(name="Sha Tin", country="HK")
    race = RaceFactory(
        racecourse=course,
        meeting_date=DAY,
        race_number=3,
        name="Lotus Handicap",
        race_class="4",
        distance_m=1200,
        going="GOOD",
        post_time=_at(DAY, 13, 30),
    )
    RunnerFactory.create_batch(2, race=race)
    RunnerFactory(race=race, non_runner=True)
    demo_course = RacecourseFactory(name="Demo Park", source=ExternalRecord.Source.DEMO)
    RaceFactory(racecourse=demo_course, meeting_date=DAY, race_number=1)

    # when
    response = member.get(reverse("races:day", kwargs={"day": DAY}))

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


def test_today_is_the_default_day(member):
    race = RaceFactory(meeting_date=timezone.localdate(), name="Today's race")

    response = member.get(reverse("races:today"))

    assert response.context["day"] == timezone.localdate()
    assert list(response.context["races"]) == [race]


def test_day_links_skip_to_the_closest_days_with_races(member):
    RaceFactory(meeting_date=DAY - datetime.timedelta(5))
    RaceFactory(meeting_date=DAY)
    RaceFactory(meeting_date=DAY + datetime.timedelta(12))

    text = _text(member.get(reverse("races:day", kwargs={"day": DAY})))

    assert 'href="/racing/2024-03-05/" rel="prev"' in text
    assert 'href="/racing/2024-03-22/" rel="next"' in text


def test_empty_day_says_so_and_still_links(member):
    RaceFactory(meeting_date=DAY - datetime.timedelta(1))

    response = member.get(reverse("races:day", kwargs={"day": DAY}))

    text = _text(response)
    assert response.status_code == 200
    assert "No races on Sunday 10 March 2024." in text
    assert 'href="/racing/2024-03-09/" rel="prev"' in text
    assert "No later race days" in text
    assert '<label for="id_date">Go to date</label>' in text


def test_date_picker_redirects_to_the_day(member):
    response = member.get(reverse("races:today"), {"date": "2024-03-10"})

    assert response.status_code == 302
    assert response["Location"] == "/racing/2024-03-10/"


def test_a_bad_date_shows_today_or_is_not_found(member):
    assert member.get(reverse("races:today"), {"date": "10/03/2024"}).status_code == 200
    assert member.get("/racing/2024-02-30/").status_code == 404


def _day_queries(member, races: int) -> int:
    day = DAY + datetime.timedelta(races)
    for number in range(1, races + 1):
        race = RaceFactory(meeting_date=day, race_number=number % 10 + 1)
        RunnerFactory.create_batch(2, race=race)
    with CaptureQueriesContext(connection) as queries:
        assert member.get(reverse("races:day", kwargs={"day": day})).status_code == 200
    return len(queries)


def test_day_view_queries_do_not_grow_with_races(member, django_assert_max_num_queries):
    two = _day_queries(member, 2)
    twelve = _day_queries(member, 12)

    assert two == twelve
    assert twelve <= 8


# --- race card -----------------------------------------------------------------------------------


@pytest.fixture
def card():
    """A declared race on DAY with three runners and a fourth scratched."""
    course = RacecourseFactory(name="Sha Tin")
    race = RaceFactory(
        racecourse=course, meeting_date=DAY, race_number=3, post_time=_at(DAY, 14), prize=1000000
    )
    runners = [
        RunnerFactory(race=race, saddle_number=1, draw=4, win_odds=Decimal("5.00"), rating=70),
        RunnerFactory(race=race, saddle_number=2, draw=1, win_odds=Decimal("2.50"), rating=80),
        RunnerFactory(race=race, saddle_number=3, draw=2, win_odds=None, rating=None),
        RunnerFactory(race=race, saddle_number=4, draw=3, win_odds=Decimal("9.0"), non_runner=True),
    ]
    return race, runners


def _predict(version, runners, rows):
    for runner, (win, rank, edge) in zip(runners, rows, strict=True):
        PredictionFactory(
            runner=runner,
            model_version=version,
            win_probability=win,
            place_probability=min(1.0, win * 2.5),
            rank=rank,
            fair_odds=1 / win,
            edge=edge,
            explanation=[["rating_rel", 0.8412], ["h_pos_mean3", -0.31]],
        )


def test_race_card_shows_the_walk_forward_versions_predictions(member, card):
    # given: one version trained before the day, a newer one trained on it
    race, runners = card
    usable = ModelVersionFactory(algorithm="logit", train_until=DAY - datetime.timedelta(1))
    too_new = ModelVersionFactory(algorithm="logit", train_until=DAY, is_active=True)
    _predict(usable, runners[:3], [(0.25, 2, 0.25), (0.5, 1, 0.25), (0.125, 3, None)])
    _predict(too_new, runners[:3], [(0.9, 1, 3.5), (0.05, 2, -0.9), (0.05, 3, None)])

    # when
    response = member.get(reverse("races:race", kwargs={"pk": race.pk}))

    # then
    text = _text(response)
    assert response.status_code == 200
    assert response.context["version"] == usable
    assert "<title>Sha Tin R3, 10 Mar 2024 · HRP</title>" in text
    assert "trained on races up to 9 March 2024" in text
    assert '<td class="num">25.0%</td> <td class="num">62.5%</td> <td class="num">4.00</td>' in text
    assert "50.0%" in text
    assert "90.0%" not in text
    assert "Rating against the field +0.84" in text
    assert "Average position, last 3 runs -0.31" in text
    assert 'Why?<span class="visually-hidden"> Explanation of' in text


def test_value_marker_only_when_edge_is_positive(member, card):
    race, runners = card
    version = ModelVersionFactory(algorithm="logit", train_until=DAY - datetime.timedelta(1))
    _predict(version, runners[:3], [(0.3, 1, 0.5), (0.3, 2, -0.25), (0.3, 3, 0.0)])

    text = _text(member.get(reverse("races:race", kwargs={"pk": race.pk})))

    assert text.count('<span class="badge value">Value</span>') == 1
    assert (
        '<span class="edge positive">+50.0%</span> <span class="badge value">Value</span>' in text
    )
    assert '<span class="edge negative">−25.0%</span></td>' in text
    assert '<span class="edge negative">+0.0%</span></td>' in text


def test_card_without_a_version_says_there_are_no_predictions(member, card):
    race, _ = card
    ModelVersionFactory(train_until=DAY)  # saw the day: unusable

    text = _text(member.get(reverse("races:race", kwargs={"pk": race.pk})))

    assert "No predictions yet" in text
    assert "Why?" not in text


def test_non_runner_row_is_struck_through_without_a_prediction(member, card):
    race, runners = card
    version = ModelVersionFactory(train_until=DAY - datetime.timedelta(1))
    _predict(version, runners, [(0.3, 1, 0.1), (0.3, 2, 0.1), (0.2, 3, 0.1), (0.2, 4, 0.9)])

    response = member.get(reverse("races:race", kwargs={"pk": race.pk}))

    text = _text(response)
    assert text.count('<tr class="non-runner">') == 1
    row = text.split('<tr class="non-runner">')[1].split("</tr>")[0]
    assert "Non-runner" in row
    assert "%" not in row
    assert "Why?" not in row


@pytest.mark.parametrize(
    ("sort", "order"),
    [
        ("win", [3, 1, 2, 4]),
        ("-win", [2, 1, 3, 4]),
        ("edge", [1, 2, 3, 4]),  # saddle 3 has no edge: last
        ("-edge", [2, 1, 3, 4]),
        ("odds", [2, 1, 4, 3]),  # saddle 3 has no price: last
        ("-odds", [4, 1, 2, 3]),
        ("rating", [4, 1, 2, 3]),  # the non-runner is rated 60
        ("draw", [2, 3, 4, 1]),
        ("nonsense", [1, 2, 3, 4]),
        ("-", [1, 2, 3, 4]),
    ],
)
def test_card_sorts_by_column_with_unknowns_last(member, card, sort, order):
    race, runners = card
    version = ModelVersionFactory(algorithm="logit", train_until=DAY - datetime.timedelta(1))
    _predict(version, runners[:3], [(0.3, 2, -0.1), (0.5, 1, 0.25), (0.2, 3, None)])
    names = {r.saddle_number: str(r.horse) for r in runners}

    response = member.get(reverse("races:race", kwargs={"pk": race.pk}), {"sort": sort})

    assert response.status_code == 200
    assert _horse_names_in_order(response) == [names[n] for n in order]


def test_sort_headers_keep_the_model_and_mark_the_sorted_column(member, card):
    race, runners = card
    ModelVersionFactory(algorithm="logit", train_until=DAY - datetime.timedelta(1))
    ModelVersionFactory(algorithm="market", train_until=DAY - datetime.timedelta(1))

    text = _text(
        member.get(
            reverse("races:race", kwargs={"pk": race.pk}), {"sort": "-edge", "model": "market"}
        )
    )

    assert (
        '<th scope="col" class="num" aria-sort="descending">'
        '<a href="?model=market&amp;sort=edge">Edge</a></th>' in text
    )
    assert '<a href="?model=market&amp;sort=win">Win %</a>' in text
    assert text.count("aria-sort=") == 1


def test_model_switch_chooses_among_the_days_versions(member, card):
    # given
    race, runners = card
    logit = ModelVersionFactory(algorithm="logit", train_until=DAY - datetime.timedelta(1))
    benter = ModelVersionFactory(algorithm="benter", train_until=DAY - datetime.timedelta(3))
    _predict(logit, runners[:1], [(0.125, 1, 0.1)])
    _predict(benter, runners[:1], [(0.375, 1, 0.1)])
    url = reverse("races:race", kwargs={"pk": race.pk})

    # when
    default = member.get(url)
    chosen = member.get(url, {"model": "logit"})
    unknown = member.get(url, {"model": "nonsense"})

    # then: benter comes first by default; an unknown model falls back to it
    assert default.context["version"] == benter
    assert "37.5%" in _text(default)
    assert chosen.context["version"] == logit
    assert "12.5%" in _text(chosen)
    assert '<a href="?model=logit" aria-current="true">Conditional logit</a>' in _text(chosen)
    assert unknown.status_code == 200
    assert unknown.context["version"] == benter


def _settle(race, runners):
    race.status = Race.Status.RESULT
    race.save()
    for runner, (position, lengths, dead_heat) in zip(
        runners, [(2, "1.25", True), (1, None, False), (2, "1.25", True)], strict=False
    ):
        runner.finish_position = position
        runner.lengths_behind = lengths and Decimal(lengths)
        runner.dead_heat = dead_heat
        runner.save()


def test_settled_card_shows_positions_and_the_summary(member, card):
    # given
    race, runners = card
    version = ModelVersionFactory(algorithm="logit", train_until=DAY - datetime.timedelta(1))
    _predict(version, runners[:3], [(0.4, 1, 0.1), (0.35, 2, -0.1), (0.25, 3, None)])
    _settle(race, runners)

    # when
    response = member.get(reverse("races:race", kwargs={"pk": race.pk}))

    # then
    text = _text(response)
    assert (
        '<td class="num">2 <abbr title="dead heat">dh</abbr></td> <td class="num">1.25</td>' in text
    )
    assert text.count('<tr class="winner">') == 1
    assert f"Our top pick, {runners[0].horse}, finished 2nd (dead heat)." in text
    assert f"The favourite, {runners[1].horse} at 2.50, finished 1st." in text
    assert (
        f"The winner, {runners[1].horse}, had a predicted win chance of 35.0% (our rank 2)." in text
    )


def test_prev_and_next_race_links(member, card):
    race, _ = card
    earlier = RaceFactory(meeting_date=DAY, post_time=_at(DAY, 13), racecourse__name="Zeta")
    later = RaceFactory(meeting_date=DAY, post_time=_at(DAY, 15), racecourse__name="Alpha")

    text = _text(member.get(reverse("races:race", kwargs={"pk": race.pk})))

    assert f'href="/racing/race/{earlier.pk}/" rel="prev">← Previous race: Zeta R' in text
    assert f'href="/racing/race/{later.pk}/" rel="next">Next race: Alpha R' in text


def test_follow_buttons_show_what_the_member_follows(member, member_user, card):
    race, runners = card
    WatchlistEntry.objects.create(user=member_user, horse=runners[1].horse)

    text = _text(member.get(reverse("races:race", kwargs={"pk": race.pk})))

    assert text.count('aria-pressed="true"') == 1
    assert text.count('aria-pressed="false"') == 3
    assert f'aria-pressed="true" aria-label="Follow {runners[1].horse}"' in text


def _settled_card(user, runners: int) -> str:
    """A settled race with predictions, form history and followed horses; its card's URL."""
    day = DAY + datetime.timedelta(runners)
    race = RaceFactory(meeting_date=day, status=Race.Status.RESULT)
    RaceFactory(meeting_date=day)  # a neighbour
    version = ModelVersionFactory(algorithm="benter", train_until=day - datetime.timedelta(1))
    ModelVersionFactory(algorithm="market", train_until=day - datetime.timedelta(1))
    for number in range(1, runners + 1):
        runner = RunnerFactory(race=race, saddle_number=number, finish_position=number)
        PredictionFactory(runner=runner, model_version=version, rank=number)
        past = RaceFactory(meeting_date=day - datetime.timedelta(10), status=Race.Status.RESULT)
        RunnerFactory(race=past, horse=runner.horse, finish_position=3)
        WatchlistEntry.objects.create(user=user, horse=runner.horse)
    return reverse("races:race", kwargs={"pk": race.pk}) + "?sort=-win"


def test_race_card_queries_do_not_grow_with_the_field(
    member, member_user, django_assert_max_num_queries
):
    # given
    four_runners = _settled_card(member_user, 4)
    fourteen_runners = _settled_card(member_user, 14)

    # when
    with CaptureQueriesContext(connection) as four:
        small = member.get(four_runners)
    with django_assert_max_num_queries(10), CaptureQueriesContext(connection) as fourteen:
        large = member.get(fourteen_runners)

    # then
    assert "How the predictions did" in small.content.decode()
    assert _text(large).count('aria-pressed="true"') == 14
    assert len(four) == len(fourteen)


def test_unknown_race_is_not_found(member):
    assert member.get(reverse("races:race", kwargs={"pk": 999})).status_code == 404


# --- search --------------------------------------------------------------------------------------


def test_search_by_name_and_by_external_id(member):
    # given
    horse = HorseFactory(name="Golden Sixty", external_id="A001")
    jockey = JockeyFactory(name="Vincent Ho")
    trainer = TrainerFactory(name="Francis Lui")
    nameless = HorseFactory(name="", external_id="K099")
    url = reverse("races:search")

    # when
    by_name = _text(member.get(url, {"q": "Golden"}))
    jockey_hit = _text(member.get(url, {"q": " ho "}))
    by_id = _text(member.get(url, {"q": "K099"}))

    # then
    assert f'<a href="/horses/{horse.pk}/">Golden Sixty</a>' in by_name
    assert 'Horses <span class="muted">(1)</span>' in by_name
    assert "No jockeys match" in by_name
    assert f'<a href="/jockeys/{jockey.pk}/">Vincent Ho</a>' in jockey_hit
    assert f'href="/trainers/{trainer.pk}/"' not in jockey_hit
    assert f'<a href="/horses/{nameless.pk}/">Horse #K099</a>' in by_id


def test_search_needs_two_characters(member):
    HorseFactory(name="X")

    response = member.get(reverse("races:search"), {"q": "x"})

    text = _text(response)
    assert "Type at least 2 characters to search." in text
    assert response.context["sections"] == []
    assert '<label for="id_q">Search horses, jockeys and trainers</label>' in text
    assert 'type="search"' in text


# --- horse, jockey, trainer ----------------------------------------------------------------------


def test_horse_page_shows_form_charts_and_next_run(member):
    # given
    horse = HorseFactory(name="Romantic Warrior", country="IRE", sex="Gelding")
    today = timezone.localdate()
    for days_before, position, rating in [(40, 3, 100), (20, 1, 104)]:
        race = RaceFactory(
            meeting_date=today - datetime.timedelta(days_before), status=Race.Status.RESULT
        )
        RunnerFactory(race=race, horse=horse, finish_position=position, rating=rating)
    upcoming = RaceFactory(meeting_date=today + datetime.timedelta(3), racecourse__name="Sha Tin")
    RunnerFactory(race=upcoming, horse=horse)

    # when
    response = member.get(reverse("races:horse", kwargs={"pk": horse.pk}))

    # then
    text = _text(response)
    assert "<title>Romantic Warrior · HRP</title>" in text
    assert f'<a href="/racing/race/{upcoming.pk}/">' in text
    assert [run.finish_position for run in response.context["runs"]] == [1, 3]
    assert "Romantic Warrior: finishing positions" in text
    assert "Romantic Warrior: ratings" in text
    assert text.count("<svg") == 2
    assert '<td class="num">104</td>' in text
    assert 'aria-label="Follow Romantic Warrior"' in text


def test_horse_page_shows_the_latest_fifty_runs_with_a_note(member):
    horse = HorseFactory()
    for day in range(51):
        race = RaceFactory(meeting_date=DAY - datetime.timedelta(day), status=Race.Status.RESULT)
        RunnerFactory(race=race, horse=horse, finish_position=1)

    response = member.get(reverse("races:horse", kwargs={"pk": horse.pk}))

    assert len(response.context["runs"]) == 50
    assert response.context["runs"][0].race.meeting_date == DAY
    assert "Only the latest 50 runs are shown." in _text(response)


def test_demo_horse_is_marked(member):
    horse = HorseFactory(source=ExternalRecord.Source.DEMO)

    text = _text(member.get(reverse("races:horse", kwargs={"pk": horse.pk})))

    assert '<span class="badge demo"' in text
    assert "Demo data: this horse is synthetic." in text


def _horse_queries(member, runs: int) -> int:
    horse = HorseFactory()
    for day in range(runs):
        race = RaceFactory(meeting_date=DAY - datetime.timedelta(day), status=Race.Status.RESULT)
        RunnerFactory(race=race, horse=horse, finish_position=2)
    RunnerFactory(race=RaceFactory(meeting_date=timezone.localdate()), horse=horse)
    with CaptureQueriesContext(connection) as queries:
        assert member.get(reverse("races:horse", kwargs={"pk": horse.pk})).status_code == 200
    return len(queries)


def test_horse_page_queries_are_constant(member):
    assert _horse_queries(member, 2) == _horse_queries(member, 12) <= 6


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


def test_trainer_page_shows_strike_rates(member, trainer_record):
    response = member.get(reverse("races:trainer", kwargs={"pk": trainer_record.pk}))

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


def test_jockey_page_shows_strike_rates_and_follow_state(member, member_user):
    jockey = JockeyFactory(name="Zac Purton")
    race = RaceFactory(meeting_date=timezone.localdate(), status=Race.Status.RESULT)
    RunnerFactory(race=race, jockey=jockey, finish_position=1)
    WatchlistEntry.objects.create(user=member_user, jockey=jockey)

    response = member.get(reverse("races:jockey", kwargs={"pk": jockey.pk}))

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


def _jockey_queries(member, rides: int) -> int:
    jockey = JockeyFactory()
    for day in range(rides):
        race = RaceFactory(meeting_date=DAY - datetime.timedelta(day * 100), status="result")
        RunnerFactory(race=race, jockey=jockey, finish_position=day % 4 + 1)
    RunnerFactory(race=RaceFactory(meeting_date=timezone.localdate()), jockey=jockey)
    with CaptureQueriesContext(connection) as queries:
        assert member.get(reverse("races:jockey", kwargs={"pk": jockey.pk})).status_code == 200
    return len(queries)


def test_participant_page_queries_are_constant(member):
    assert _jockey_queries(member, 2) == _jockey_queries(member, 12) <= 8


def test_model_version_labels_are_known():
    # The card's default order names real algorithms.
    from races.views import MODEL_PREFERENCE

    assert set(MODEL_PREFERENCE) == set(ModelVersion.Algorithm.values)


# --- edge cases ----------------------------------------------------------------------------------


def test_an_abandoned_race_without_runners_renders_its_card(member):
    race = RaceFactory(meeting_date=DAY, status=Race.Status.ABANDONED, name="Washed Out Stakes")

    response = member.get(reverse("races:race", kwargs={"pk": race.pk}))

    assert response.status_code == 200
    text = _text(response)
    assert "Washed Out Stakes" in text
    assert "Abandoned" in text
    assert _horse_names_in_order(response) == []


def test_a_settled_race_without_predictions_shows_the_result_only(member):
    race = RaceFactory(meeting_date=DAY, status=Race.Status.RESULT)
    winner = RunnerFactory(race=race, saddle_number=1, finish_position=1, horse__name="Alone")

    response = member.get(reverse("races:race", kwargs={"pk": race.pk}))

    assert response.status_code == 200
    assert _horse_names_in_order(response) == [winner.horse.name]
    assert "badge value" not in response.content.decode()
    assert "no predictions" in _text(response).lower()


@pytest.mark.parametrize(
    ("name", "factory"),
    [
        ("races:horse", HorseFactory),
        ("races:jockey", JockeyFactory),
        ("races:trainer", TrainerFactory),
    ],
)
def test_a_profile_without_any_runs_renders(member, name, factory):
    participant = factory(name="Newcomer")

    response = member.get(reverse(name, kwargs={"pk": participant.pk}))

    assert response.status_code == 200
    assert "Newcomer" in _text(response)


def test_unknown_pages_are_404(member):
    assert member.get("/racing/race/999999/").status_code == 404
    assert member.get("/horses/999999/").status_code == 404
    assert member.get("/racing/2026-02-30/").status_code == 404
