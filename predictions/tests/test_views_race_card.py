"""The race card: runners, the chosen model's predictions, sorting, and the result."""

import datetime
import re
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from predictions.models import ModelVersion
from predictions.tests.factories import ModelVersionFactory, PredictionFactory
from races.models import Race
from races.tests.factories import RacecourseFactory, RaceFactory, RunnerFactory

pytestmark = pytest.mark.django_db

DAY = datetime.date(2024, 3, 10)


def _post_time(hour: int) -> datetime.datetime:
    """`hour` o'clock on DAY, in UTC."""
    return datetime.datetime.combine(DAY, datetime.time(hour), tzinfo=datetime.UTC)


def _text(response) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


def _horse_names_in_order(response) -> list[str]:
    return re.findall(r'href="/horses/\d+/">([^<]+)</a>', response.content.decode())


@pytest.fixture
def card():
    """A declared race on DAY with three runners and a fourth scratched."""
    course = RacecourseFactory(name="Sha Tin")
    race = RaceFactory(
        racecourse=course, meeting_date=DAY, race_number=3, post_time=_post_time(14), prize=1000000
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


def test_race_card_shows_the_walk_forward_versions_predictions(member_client, card):
    # given: one version trained before the day, a newer one trained on it
    race, runners = card
    usable = ModelVersionFactory(algorithm="logit", train_until=DAY - datetime.timedelta(1))
    too_new = ModelVersionFactory(algorithm="logit", train_until=DAY, is_active=True)
    _predict(usable, runners[:3], [(0.25, 2, 0.25), (0.5, 1, 0.25), (0.125, 3, None)])
    _predict(too_new, runners[:3], [(0.9, 1, 3.5), (0.05, 2, -0.9), (0.05, 3, None)])

    # when
    response = member_client.get(race.get_absolute_url())

    # then
    text = _text(response)
    assert response.status_code == 200
    assert response.context["version"] == usable
    assert "<title>Sha Tin R3, 10 Mar 2024 · HRP</title>" in text
    assert "trained on races up to 9 March 2024" in text
    assert (
        '<td class="num c-win" data-label="Win">25.0%</td> '
        '<td class="num c-fair" data-label="Fair">4.00</td>' in text
    )
    assert '<td class="num c-extra" data-label="Place">62.5%</td>' not in text  # 3 runners: none
    assert "No place terms with 3 runners" in text
    assert "50.0%" in text
    assert "90.0%" not in text
    assert "Rating against the field: raises its chance (×2.32)" in text
    assert "Average position, last 3 runs: lowers its chance (×0.73)" in text
    assert 'Why?<span class="visually-hidden"> Explanation of' in text


def test_value_marker_only_where_the_edge_clears_the_versions_margin(member_client, card):
    race, runners = card
    version = ModelVersionFactory(
        algorithm="logit", train_until=DAY - datetime.timedelta(1), value_margin=0.1
    )
    _predict(version, runners[:3], [(0.3, 1, 0.5), (0.3, 2, -0.25), (0.3, 3, 0.05)])

    text = _text(member_client.get(race.get_absolute_url()))

    assert text.count(">Value</span>") == 1
    assert (
        '<span class="edge positive">+50.0%</span> <span class="badge value" title="The edge '
        'clears the 10% margin this model chose on its training window, at the final price">'
        "Value</span>" in text
    )
    assert '<span class="edge negative">−25.0%</span></td>' in text
    # positive, but inside the margin
    assert '<span class="edge negative">+5.0%</span></td>' in text


def test_no_value_marker_where_the_version_chose_no_margin(member_client, card):
    race, runners = card
    version = ModelVersionFactory(
        algorithm="logit", train_until=DAY - datetime.timedelta(1), value_margin=None
    )
    _predict(version, runners[:3], [(0.3, 1, 0.5), (0.3, 2, 2.0), (0.3, 3, None)])

    text = _text(member_client.get(race.get_absolute_url()))

    assert "badge value" not in text
    assert '<span class="edge negative">+200.0%</span></td>' in text


def test_card_without_a_version_says_there_are_no_predictions(member_client, card):
    race, _ = card
    ModelVersionFactory(train_until=DAY)  # saw the day: unusable

    text = _text(member_client.get(race.get_absolute_url()))

    assert "No predictions yet" in text
    assert "Why?" not in text


def test_non_runner_row_is_struck_through_without_a_prediction(member_client, card):
    race, runners = card
    version = ModelVersionFactory(train_until=DAY - datetime.timedelta(1))
    _predict(version, runners, [(0.3, 1, 0.1), (0.3, 2, 0.1), (0.2, 3, 0.1), (0.2, 4, 0.9)])

    response = member_client.get(race.get_absolute_url())

    text = _text(response)
    assert text.count('<tr class="runner non-runner">') == 1
    row = text.split('<tr class="runner non-runner">')[1].split("</tr>")[0]
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
def test_card_sorts_by_column_with_unknowns_last(member_client, card, sort, order):
    race, runners = card
    version = ModelVersionFactory(algorithm="logit", train_until=DAY - datetime.timedelta(1))
    _predict(version, runners[:3], [(0.3, 2, -0.1), (0.5, 1, 0.25), (0.2, 3, None)])
    names = {r.saddle_number: str(r.horse) for r in runners}

    response = member_client.get(race.get_absolute_url(), {"sort": sort})

    assert response.status_code == 200
    assert _horse_names_in_order(response) == [names[n] for n in order]


def test_sort_headers_keep_the_model_and_mark_the_sorted_column(member_client, card):
    race, runners = card
    ModelVersionFactory(algorithm="logit", train_until=DAY - datetime.timedelta(1))
    ModelVersionFactory(algorithm="market", train_until=DAY - datetime.timedelta(1))

    text = _text(member_client.get(race.get_absolute_url(), {"sort": "-edge", "model": "market"}))

    assert (
        '<th scope="col" class="num c-edge" aria-sort="descending">'
        '<a href="?model=market&amp;sort=edge">Edge</a></th>' in text
    )
    # Win % sorts high to low on the first click, odds short to long.
    assert '<a href="?model=market&amp;sort=-win">Win %</a>' in text
    assert '<a href="?model=market&amp;sort=odds">Odds</a>' in text
    assert text.count("aria-sort=") == 1


def test_model_switch_chooses_among_the_days_versions(member_client, card):
    # given
    race, runners = card
    logit = ModelVersionFactory(algorithm="logit", train_until=DAY - datetime.timedelta(1))
    benter = ModelVersionFactory(algorithm="benter", train_until=DAY - datetime.timedelta(3))
    _predict(logit, runners[:1], [(0.125, 1, 0.1)])
    _predict(benter, runners[:1], [(0.375, 1, 0.1)])
    url = race.get_absolute_url()

    # when
    default = member_client.get(url)
    chosen = member_client.get(url, {"model": "logit"})
    unknown = member_client.get(url, {"model": "nonsense"})

    # then: benter comes first by default; an unknown model falls back to it
    assert default.context["version"] == benter
    assert "37.5%" in _text(default)
    assert chosen.context["version"] == logit
    assert "12.5%" in _text(chosen)
    assert '<a href="?model=logit" aria-current="true">Conditional logit</a>' in _text(chosen)
    assert unknown.status_code == 200
    assert "37.5%" in _text(unknown)
    assert "12.5%" not in _text(unknown)


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


def test_settled_card_shows_positions_and_the_summary(member_client, card):
    # given
    race, runners = card
    version = ModelVersionFactory(algorithm="logit", train_until=DAY - datetime.timedelta(1))
    _predict(version, runners[:3], [(0.4, 1, 0.1), (0.35, 2, -0.1), (0.25, 3, None)])
    _settle(race, runners)

    # when
    response = member_client.get(race.get_absolute_url())

    # then
    text = _text(response)
    assert (
        '<td class="num c-pos" data-label="Pos">2 <abbr title="dead heat">dh</abbr></td> '
        '<td class="num c-extra" data-label="Lengths">1.25</td>' in text
    )
    assert text.count('<tr class="runner winner">') == 1
    assert f"Our top pick, {runners[0].horse}, finished 2nd (dead heat)." in text
    assert f"The favourite, {runners[1].horse} at 2.50, finished 1st." in text
    assert (
        f"The winner, {runners[1].horse}, had a predicted win chance of 35.0% (our rank 2)." in text
    )


def test_prev_and_next_race_links(member_client, card):
    race, _ = card
    earlier = RaceFactory(meeting_date=DAY, post_time=_post_time(13), racecourse__name="Zeta")
    later = RaceFactory(meeting_date=DAY, post_time=_post_time(15), racecourse__name="Alpha")

    text = _text(member_client.get(race.get_absolute_url()))

    assert f'href="/racing/race/{earlier.pk}/" rel="prev">← Previous race: Zeta R' in text
    assert f'href="/racing/race/{later.pk}/" rel="next">Next race: Alpha R' in text


def _follow(client, horse) -> None:
    """Follow a horse as a member does, through the watchlist's own button."""
    response = client.post(
        reverse("accounts:follow", args=["horse", horse.pk]), {"action": "follow"}
    )
    assert response.status_code == 302


def test_follow_buttons_show_what_the_member_follows(member_client, card):
    race, runners = card
    _follow(member_client, runners[1].horse)

    text = _text(member_client.get(race.get_absolute_url()))

    assert text.count('aria-pressed="true"') == 1
    assert text.count('aria-pressed="false"') == 3
    assert f'aria-pressed="true" aria-label="Follow {runners[1].horse}"' in text


def _settled_card(client, runners: int) -> str:
    """A settled race with predictions, form history and followed horses; its card's URL."""
    day = DAY + datetime.timedelta(runners)
    race = RaceFactory(meeting_date=day, status=Race.Status.RESULT)
    RaceFactory(meeting_date=day)  # a neighbour
    version = ModelVersionFactory(algorithm="benter", train_until=day - datetime.timedelta(1))
    ModelVersionFactory(algorithm="market", train_until=day - datetime.timedelta(1))
    for number in range(1, runners + 1):
        runner = RunnerFactory(race=race, saddle_number=number, finish_position=number)
        PredictionFactory(runner=runner, model_version=version, rank=number)
        past = RaceFactory(
            meeting_date=day - datetime.timedelta(10),
            status=Race.Status.RESULT,
            racecourse=race.racecourse,
            race_number=number,
            distance_m=race.distance_m,
        )
        RunnerFactory(race=past, horse=runner.horse, finish_position=1, gear="")
        older = RaceFactory(meeting_date=day - datetime.timedelta(40), status=Race.Status.RESULT)
        RunnerFactory(race=older, horse=runner.horse, finish_position=None, non_finish="F")
        runner.gear = "b"  # first time
        runner.jockey_allowance_lb = 3
        runner.save()
        _follow(client, runner.horse)
    return race.get_absolute_url() + "?sort=-win"


def test_race_card_queries_do_not_grow_with_the_field(member_client, django_assert_max_num_queries):
    # given
    four_runners = _settled_card(member_client, 4)
    fourteen_runners = _settled_card(member_client, 14)

    # when
    with CaptureQueriesContext(connection) as four:
        small = member_client.get(four_runners)
    with django_assert_max_num_queries(10), CaptureQueriesContext(connection) as fourteen:
        large = member_client.get(fourteen_runners)

    # then
    assert "How the predictions did" in small.content.decode()
    assert _text(large).count('aria-pressed="true"') == 14
    assert _text(large).count('title="Has won at this course over this distance">CD</abbr>') == 14
    assert _text(large).count("b<sup>1</sup>") == 14
    assert _text(large).count('<span class="form-figures" title="F/1, 1/1">F1</span>') == 14
    assert len(four) == len(fourteen)


def test_unknown_race_is_not_found(member_client):
    assert member_client.get(reverse("predictions:race", kwargs={"pk": 999})).status_code == 404


def test_the_race_card_needs_a_log_in(client):
    url = reverse("predictions:race", kwargs={"pk": 1})

    response = client.get(url)

    assert url == "/racing/race/1/"
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('accounts:login')}?next={url}"


def test_the_cards_model_preference_names_every_algorithm_once():
    # The card's default order names real algorithms.
    preference = ModelVersion.CARD_PREFERENCE

    assert sorted(preference) == sorted(ModelVersion.Algorithm.values)


def test_an_abandoned_race_without_runners_renders_its_card(member_client):
    race = RaceFactory(meeting_date=DAY, status=Race.Status.ABANDONED, name="Washed Out Stakes")

    response = member_client.get(race.get_absolute_url())

    assert response.status_code == 200
    text = _text(response)
    assert "Washed Out Stakes" in text
    assert "Abandoned" in text
    assert _horse_names_in_order(response) == []


def test_a_settled_race_without_predictions_shows_the_result_only(member_client):
    race = RaceFactory(meeting_date=DAY, status=Race.Status.RESULT)
    winner = RunnerFactory(race=race, saddle_number=1, finish_position=1, horse__name="Alone")

    response = member_client.get(race.get_absolute_url())

    assert response.status_code == 200
    assert _horse_names_in_order(response) == [winner.horse.name]
    assert "badge value" not in response.content.decode()
    assert "no predictions" in _text(response).lower()


def _runner_row(text: str, horse) -> str:
    """The card's row of `horse`, from its link to the end of the row."""
    return text.split(f">{horse}</a>")[1].split("</tr>")[0]


def test_card_shows_age_sex_marks_headgear_claim_form_and_last_run(member_client, card):
    # given: the first runner's past: a fall in 2023, a win here over the trip, a third of four
    race, runners = card
    first = runners[0]
    first.horse.sex = "gelding"
    first.horse.save()
    first.gear, first.jockey_allowance_lb, first.age = "tp", 5, 6
    first.save()
    past = []
    for days, position, non_finish, gear, racecourse, distance in [
        (120, None, "F", "", None, 2000),
        (30, 1, "", "t", race.racecourse, race.distance_m),
        (12, 3, "", "t", None, 1600),
    ]:
        past_race = RaceFactory(
            meeting_date=DAY - datetime.timedelta(days),
            status=Race.Status.RESULT,
            distance_m=distance,
            **({"racecourse": racecourse} if racecourse else {}),
        )
        RunnerFactory(
            race=past_race,
            horse=first.horse,
            finish_position=position,
            non_finish=non_finish,
            gear=gear,
        )
        RunnerFactory.create_batch(3, race=past_race, finish_position=None)
        past.append(past_race)
    ModelVersionFactory(algorithm="logit", train_until=DAY - datetime.timedelta(1))

    # when
    row = _runner_row(_text(member_client.get(race.get_absolute_url())), first.horse)

    # then
    assert '6yo <abbr title="Gelding">g</abbr>' in row
    assert 'title="Has won at this course over this distance">CD</abbr>' in row
    assert 'title="Headgear: tongue strap, cheekpieces, first time">tp<sup>1</sup>' in row
    assert '<abbr class="allowance" title="claims 5 lb">(5)</abbr>' in row
    assert '<span class="form-figures" title="F/4, 1/4, 3/4">F-13</span>' in row
    assert '<span class="last-run">3/4</span>, 12 days' in row
    assert "None on record" in _runner_row(
        _text(member_client.get(race.get_absolute_url())), runners[1].horse
    )


def test_card_shows_the_place_terms_and_place_chances_by_them(member_client):
    # given: eight British starters, so three places pay
    race = RaceFactory(meeting_date=DAY, source="theracingapi", name="Maiden Stakes")
    runners = [RunnerFactory(race=race, saddle_number=n) for n in range(1, 9)]
    version = ModelVersionFactory(algorithm="logit", train_until=DAY - datetime.timedelta(1))
    _predict(version, runners, [(0.125, n, 0.0) for n in range(1, 9)])

    text = _text(member_client.get(race.get_absolute_url()))

    assert (
        "Place pays the first 3 (8 runners); Place % is the chance of finishing in the first 3"
        in text
    )
    assert text.count('<td class="num c-extra" data-label="Place">31.2%</td>') == 8


def test_card_explains_value_and_links_to_the_track_record(member_client, card):
    race, runners = card
    version = ModelVersionFactory(
        algorithm="logit", train_until=DAY - datetime.timedelta(1), value_margin=0.1
    )
    _predict(version, runners[:3], [(0.3, 1, 0.5), (0.3, 2, -0.25), (0.3, 3, 0.05)])

    text = _text(member_client.get(race.get_absolute_url()))

    assert "<strong>Value</strong> marks a runner whose edge" in text
    assert "clears the margin this model chose on its training window (10%)" in text
    assert '<a href="/models/">the models\' track record</a>' in text


def test_why_opens_in_a_row_below_the_runner(member_client, card):
    race, runners = card
    version = ModelVersionFactory(algorithm="logit", train_until=DAY - datetime.timedelta(1))
    _predict(version, runners[:3], [(0.25, 2, 0.25), (0.5, 1, 0.25), (0.125, 3, None)])

    text = _text(member_client.get(race.get_absolute_url()))

    # The runner's row, then the explanation's own row spanning the table
    rows = text.split("<tr")
    first = next(i for i, row in enumerate(rows) if f">{runners[0].horse}</a>" in row)
    assert rows[first + 1].startswith(' class="why-row" aria-hidden="true"><td colspan="99">')
    assert f"Why {runners[0].horse} has a 25.0% chance" in rows[first + 1]
    assert "Rating against the field: raises its chance (×2.32)" in rows[first + 1]


def test_settled_card_says_why_a_runner_did_not_finish(member_client, card):
    # given: our top pick pulled up; another runner did not finish, no reason given
    race, runners = card
    version = ModelVersionFactory(algorithm="logit", train_until=DAY - datetime.timedelta(1))
    _predict(version, runners[:3], [(0.4, 1, 0.1), (0.35, 2, -0.1), (0.25, 3, None)])
    race.status = Race.Status.RESULT
    race.save()
    runners[1].finish_position = 1
    runners[1].save()
    runners[0].non_finish = "P"
    runners[0].save()

    # when
    text = _text(member_client.get(race.get_absolute_url()))

    # then
    assert f"Our top pick, {runners[0].horse}, pulled up." in text
    assert '<td class="num c-pos" data-label="Pos"><abbr title="Pulled up">P</abbr></td>' in text
    assert '<td class="num c-pos" data-label="Pos">–</td>' in text  # the third: no reason


def test_a_horse_without_runs_in_hrp_shows_the_racecards_form_and_days(member_client, card):
    # given: the provider's racecard gave the first runner's form and days since its last run
    race, runners = card
    runners[0].declared_form, runners[0].declared_days_since_run = "1P3-F2", 36
    runners[0].save()

    # when
    text = _text(member_client.get(race.get_absolute_url()))

    # then
    row = _runner_row(text, runners[0].horse)
    assert '<span class="form-figures" title="As the racecard prints it">1P3-F2</span>' in row
    assert ">36 days</td>" in row
    assert "None on record" in _runner_row(text, runners[1].horse)
