import datetime

import pytest

from races import selectors
from races.models import Horse, Jockey, Race, Runner
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


def test_race_day_lists_the_days_races_by_course_with_starters_counted():
    # given
    sha_tin = RacecourseFactory(name="Sha Tin")
    happy_valley = RacecourseFactory(name="Happy Valley")
    st2 = RaceFactory(racecourse=sha_tin, meeting_date=DAY, race_number=2)
    st1 = RaceFactory(racecourse=sha_tin, meeting_date=DAY, race_number=1)
    hv1 = RaceFactory(racecourse=happy_valley, meeting_date=DAY, race_number=1)
    RaceFactory(racecourse=sha_tin, meeting_date=DAY + datetime.timedelta(1), race_number=1)
    RunnerFactory.create_batch(3, race=st1)
    RunnerFactory(race=st1, non_runner=True)

    # when
    races = list(selectors.race_day(day=DAY))

    # then
    assert races == [hv1, st1, st2]
    assert [race.field_size for race in races] == [0, 3, 0]


def test_race_day_neighbours_are_the_closest_days_with_races():
    RaceFactory(meeting_date=DAY - datetime.timedelta(9))
    RaceFactory(meeting_date=DAY - datetime.timedelta(4))
    RaceFactory(meeting_date=DAY)
    RaceFactory(meeting_date=DAY + datetime.timedelta(6))

    assert selectors.race_day_neighbours(day=DAY) == (
        DAY - datetime.timedelta(4),
        DAY + datetime.timedelta(6),
    )
    assert selectors.race_day_neighbours(day=DAY + datetime.timedelta(1)) == (
        DAY,
        DAY + datetime.timedelta(6),
    )
    assert selectors.race_day_neighbours(day=DAY + datetime.timedelta(6)) == (DAY, None)


def test_race_neighbours_run_in_post_time_then_course_then_number_order():
    # given
    alpha, beta = RacecourseFactory(name="Alpha"), RacecourseFactory(name="Beta")
    b1 = RaceFactory(racecourse=beta, meeting_date=DAY, race_number=1, post_time=_at(DAY, 12))
    a1 = RaceFactory(racecourse=alpha, meeting_date=DAY, race_number=1, post_time=_at(DAY, 12))
    a2 = RaceFactory(racecourse=alpha, meeting_date=DAY, race_number=2, post_time=_at(DAY, 13))
    untimed = RaceFactory(racecourse=alpha, meeting_date=DAY, race_number=3, post_time=None)
    RaceFactory(racecourse=alpha, meeting_date=DAY + datetime.timedelta(1), race_number=1)

    # then: a1 and b1 share a post time, Alpha first; a race without a time runs last
    assert selectors.race_neighbours(race=a1) == (None, b1)
    assert selectors.race_neighbours(race=b1) == (a1, a2)
    assert selectors.race_neighbours(race=a2) == (b1, untimed)
    assert selectors.race_neighbours(race=untimed) == (a2, None)


def _run(
    horse,
    day,
    position,
    *,
    status=Race.Status.RESULT,
    race_number=1,
    racecourse=None,
    distance_m=1400,
    **fields,
):
    race = RaceFactory(
        meeting_date=day,
        race_number=race_number,
        status=status,
        distance_m=distance_m,
        **({"racecourse": racecourse} if racecourse else {}),
    )
    return RunnerFactory(race=race, horse=horse, finish_position=position, **fields)


def _histories(*horses, course=None, distance_m=1200):
    return selectors.card_histories(
        horse_ids=[horse.pk for horse in horses],
        before=DAY,
        racecourse_id=(course or RacecourseFactory()).pk,
        distance_m=distance_m,
    )


def test_form_figures_are_the_last_six_before_the_day_oldest_first():
    # given
    horse, debutant = HorseFactory(), HorseFactory()
    for days_before, position in [
        (80, 9),
        (70, 3),
        (60, 1),
        (50, 12),
        (40, 2),
        (30, None),
        (20, 4),
    ]:
        _run(horse, DAY - datetime.timedelta(days_before), position)
    _run(horse, DAY - datetime.timedelta(25), None, non_runner=True)
    _run(horse, DAY - datetime.timedelta(10), None, status=Race.Status.DECLARED)
    _run(horse, DAY, 1)  # the race day itself, even an earlier race on it, does not count
    _run(horse, DAY + datetime.timedelta(5), 7)

    # when
    histories = _histories(horse, debutant)

    # then: 0 for twelfth; X for a finish without a reason; "-" where 2023 turned into 2024
    assert histories[horse.pk].figures == "3-102X4"
    assert histories[horse.pk].days_since_last_run == 20
    assert histories[debutant.pk].figures == "-"
    assert histories[debutant.pk].runs == []
    assert histories[debutant.pk].days_since_last_run is None


def test_form_figures_order_two_races_on_one_day_by_race_number():
    horse = HorseFactory()
    _run(horse, DAY - datetime.timedelta(3), 2, race_number=5)
    _run(horse, DAY - datetime.timedelta(3), 6, race_number=1)

    assert _histories(horse)[horse.pk].figures == "62"


def test_form_figures_mark_seasons_and_the_reasons_a_runner_did_not_finish():
    # given: two runs last year, then a fall and a pull-up this year
    horse = HorseFactory()
    _run(horse, datetime.date(2023, 9, 1), 10)
    _run(horse, datetime.date(2023, 10, 1), 1)
    _run(horse, datetime.date(2024, 1, 20), None, non_finish=Runner.NonFinish.FELL)
    _run(horse, datetime.date(2024, 2, 20), None, non_finish=Runner.NonFinish.PULLED_UP)

    # when
    history = _histories(horse)[horse.pk]

    # then: did not finish stays distinct from tenth or worse
    assert history.figures == "01-FP"
    assert [run.figure for run in history.runs] == ["0", "1", "F", "P"]


def test_form_runs_show_the_position_out_of_the_field():
    # given: a race of four starters and a non-runner
    horse = HorseFactory()
    race = RaceFactory(meeting_date=DAY - datetime.timedelta(7), status=Race.Status.RESULT)
    RunnerFactory(race=race, horse=horse, finish_position=3)
    RunnerFactory.create_batch(3, race=race, finish_position=None)
    RunnerFactory(race=race, non_runner=True)
    pulled_up = RaceFactory(meeting_date=DAY - datetime.timedelta(3), status=Race.Status.RESULT)
    RunnerFactory(race=pulled_up, horse=horse, finish_position=None, non_finish="P")
    RunnerFactory(race=pulled_up, finish_position=1)

    runs = _histories(horse)[horse.pk].runs

    assert [run.description for run in runs] == ["3/4", "P/2"]


def test_course_distance_and_course_and_distance_winner_marks():
    # given
    sha_tin, happy_valley = RacecourseFactory(name="Sha Tin"), RacecourseFactory(name="HV")
    course_and_distance, course, distance, both_apart, loser = HorseFactory.create_batch(5)
    old = DAY - datetime.timedelta(400)  # wins count however long ago, beyond the last six runs
    _run(course_and_distance, old, 1, racecourse=sha_tin, distance_m=1210)
    _run(course, old, 1, racecourse=sha_tin, distance_m=1600, race_number=4)
    _run(distance, old, 1, racecourse=happy_valley, distance_m=1200)
    _run(both_apart, old, 1, racecourse=sha_tin, distance_m=1800, race_number=2)
    _run(both_apart, old - datetime.timedelta(30), 1, racecourse=happy_valley, distance_m=1200)
    _run(loser, old, 2, racecourse=sha_tin, distance_m=1200, race_number=3)
    for horse in (course_and_distance, course, distance, both_apart, loser):
        for days in range(10, 80, 10):
            _run(horse, DAY - datetime.timedelta(days), 5)

    # when
    histories = _histories(
        course_and_distance, course, distance, both_apart, loser, course=sha_tin, distance_m=1200
    )

    # then
    assert [histories[h.pk].winner_marks for h in (course_and_distance, course, distance)] == [
        "CD",
        "C",
        "D",
    ]
    assert histories[both_apart.pk].winner_marks == "C D"
    assert histories[loser.pk].winner_marks == ""
    assert histories[loser.pk].figures == "555555"


def test_first_time_headgear_compares_with_the_previous_run():
    # given
    horse, debutant, regular = HorseFactory.create_batch(3)
    _run(horse, DAY - datetime.timedelta(40), 2, gear="p")
    _run(horse, DAY - datetime.timedelta(20), 4, gear="")
    _run(regular, DAY - datetime.timedelta(20), 4, gear="b")

    histories = _histories(horse, debutant, regular)

    assert histories[horse.pk].first_time_gear("t") is True
    assert histories[horse.pk].first_time_gear("") is False
    assert histories[regular.pk].first_time_gear("b") is False
    assert histories[regular.pk].first_time_gear("bt") is True
    assert histories[debutant.pk].first_time_gear("b") is False  # nothing to compare with


def test_card_histories_take_one_query_however_many_horses(django_assert_num_queries):
    horses = HorseFactory.create_batch(6)
    for horse in horses:
        for days in (10, 20, 30):
            _run(horse, DAY - datetime.timedelta(days), 1)

    course = RacecourseFactory()

    with django_assert_num_queries(1):
        histories = _histories(*horses, course=course)

    assert {history.figures for history in histories.values()} == {"111"}


def test_race_day_histories_mark_each_race_by_its_own_course_in_one_query(
    django_assert_num_queries,
):
    # given: a horse that won at one course, declared (twice, to prove the key) on DAY
    home, away = RacecourseFactory(), RacecourseFactory()
    horse = HorseFactory()
    _run(horse, DAY - datetime.timedelta(30), 1, racecourse=home, distance_m=1200)
    races = []
    for course in (home, away):
        race = RaceFactory(meeting_date=DAY, racecourse=course, distance_m=1200)
        RunnerFactory(race=race, horse=horse)
        RunnerFactory(race=race)
        races.append(race)
    races = list(Race.objects.filter(pk__in=[r.pk for r in races]).with_card())

    # when
    with django_assert_num_queries(1):
        histories = selectors.race_day_histories(races=races)

    # then
    at_home, away_race = races if races[0].racecourse_id == home.pk else races[::-1]
    assert histories[at_home.pk, horse.pk].winner_marks == "CD"
    assert histories[away_race.pk, horse.pk].winner_marks == "D"
    assert histories[away_race.pk, horse.pk].figures == "1"
    assert len(histories) == 4


def test_race_day_histories_refuse_races_of_several_days():
    races = [RaceFactory(meeting_date=DAY), RaceFactory(meeting_date=DAY + datetime.timedelta(1))]

    with pytest.raises(ValueError, match="2 days"):
        selectors.race_day_histories(races=races)


def test_participant_search_matches_name_or_exact_external_id():
    # given
    storm = HorseFactory(name="Storm Chaser", external_id="H100")
    calm = HorseFactory(name="Calm Before The Storm", external_id="H200")
    nameless = HorseFactory(name="", external_id="K123")
    HorseFactory(name="Other", external_id="K1234")

    # then
    by_name = selectors.participant_search(model=Horse, query="storm")
    assert by_name == [calm, storm]
    assert [h.total for h in by_name] == [2, 2]
    assert selectors.participant_search(model=Horse, query="K123") == [nameless]
    assert selectors.participant_search(model=Jockey, query="storm") == []


def test_participant_search_returns_at_most_the_limit_with_the_full_count():
    HorseFactory.create_batch(4, name=factory_name("Lucky"))

    results = selectors.participant_search(model=Horse, query="lucky", limit=3)

    assert len(results) == 3
    assert results[0].total == 4


def factory_name(prefix: str):
    import factory

    return factory.Sequence(lambda n: f"{prefix} {n}")


@pytest.fixture
def jockey_record():
    """A jockey with known results relative to DAY (as "today")."""
    jockey = JockeyFactory()
    rows = [
        # (days before today, finishing position)
        (0, 1),  # today: in all windows
        (10, 2),
        (29, None),  # ran, did not finish
        (30, 1),  # 30 days ago: outside the 30-day window (today - 30 excluded)
        (200, 4),
        (364, 3),
        (365, 1),  # outside 365
        (800, 1),
    ]
    for days_before, position in rows:
        _run(HorseFactory(), DAY - datetime.timedelta(days_before), position, jockey=jockey)
    _run(HorseFactory(), DAY - datetime.timedelta(5), None, jockey=jockey, non_runner=True)
    _run(HorseFactory(), DAY + datetime.timedelta(2), None, jockey=jockey, status="declared")
    _run(HorseFactory(), DAY - datetime.timedelta(3), 1)  # another jockey
    return jockey


def test_participant_strike_rates_count_settled_starts_per_window(jockey_record):
    rates = selectors.participant_strike_rates(
        kind="jockey", participant_id=jockey_record.pk, today=DAY
    )

    assert rates == {
        "all": {"rides": 8, "wins": 4, "places": 6, "win_rate": 50.0, "place_rate": 75.0},
        "365": {
            "rides": 6,
            "wins": 2,
            "places": 4,
            "win_rate": 100 * 2 / 6,
            "place_rate": 100 * 4 / 6,
        },
        "30": {"rides": 3, "wins": 1, "places": 2, "win_rate": 100 / 3, "place_rate": 200 / 3},
    }


def test_participant_strike_rates_by_year(jockey_record):
    # DAY is 2024-03-10: 2024 has 0, -10, -29, -30 days; 2023 -200, -364, -365; 2021 -800
    years = selectors.participant_strike_rates_by_year(
        kind="jockey", participant_id=jockey_record.pk
    )

    assert years == [
        {"year": 2024, "rides": 4, "wins": 2, "places": 3, "win_rate": 50.0, "place_rate": 75.0},
        {
            "year": 2023,
            "rides": 3,
            "wins": 1,
            "places": 2,
            "win_rate": 100 / 3,
            "place_rate": 200 / 3,
        },
        {"year": 2021, "rides": 1, "wins": 1, "places": 1, "win_rate": 100.0, "place_rate": 100.0},
    ]


def test_participant_strike_rates_with_no_rides():
    trainer = TrainerFactory()

    rates = selectors.participant_strike_rates(kind="trainer", participant_id=trainer.pk, today=DAY)

    assert rates["all"] == {
        "rides": 0,
        "wins": 0,
        "places": 0,
        "win_rate": None,
        "place_rate": None,
    }


def test_horse_form_is_newest_first_without_declared_runs():
    horse = HorseFactory()
    old = _run(horse, DAY - datetime.timedelta(20), 3)
    new = _run(horse, DAY - datetime.timedelta(5), 1)
    _run(horse, DAY + datetime.timedelta(5), None, status=Race.Status.DECLARED)

    assert list(selectors.horse_form(horse_id=horse.pk)) == [new, old]


def test_participant_next_runs_are_declared_from_today_soonest_first():
    horse = HorseFactory()
    later = _run(horse, DAY + datetime.timedelta(9), None, status=Race.Status.DECLARED)
    sooner = _run(horse, DAY, None, status=Race.Status.DECLARED)
    _run(horse, DAY - datetime.timedelta(1), None, status=Race.Status.DECLARED)  # stale
    _run(horse, DAY + datetime.timedelta(3), None, status=Race.Status.DECLARED, non_runner=True)

    runs = selectors.participant_next_runs(kind="horse", participant_id=horse.pk, today=DAY)

    assert list(runs) == [sooner, later]
