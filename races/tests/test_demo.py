import datetime
import itertools
import statistics

import pytest
from django.db.models import Q

from races.demo import DEMO, demo_data_seed
from races.demo_data import APPRENTICE_CLAIMS, demo_data_generate
from races.models import Horse, Jockey, Race, Racecourse, Runner, Trainer

TODAY = datetime.date(2026, 11, 27)
DEMO_MODELS = (Racecourse, Horse, Jockey, Trainer, Race, Runner)


def snapshot() -> dict[str, list[tuple]]:
    """Every stored value of every demo table, with relations named by external id, not pk,
    and without the time each row was written."""
    tables = {}
    for model in DEMO_MODELS:
        fields = [
            f"{field.name}__external_id" if field.is_relation else field.name
            for field in model._meta.concrete_fields
            if not field.primary_key and field.name != "updated_at"
        ]
        tables[model.__name__] = list(model.objects.order_by("external_id").values_list(*fields))
    return tables


def demo_rows_delete() -> None:
    for model in reversed(DEMO_MODELS):
        model.objects.all().delete()


def book(runners) -> float:
    return sum(1 / float(runner.win_odds) for runner in runners)


def test_generation_is_deterministic_for_a_seed_and_a_day():
    first = demo_data_generate(seed=7, today=TODAY, days_ahead=3, history_days=20)
    second = demo_data_generate(seed=7, today=TODAY, days_ahead=3, history_days=20)
    other_seed = demo_data_generate(seed=8, today=TODAY, days_ahead=3, history_days=20)

    assert first == second
    assert first.races != other_seed.races


def test_a_day_card_does_not_depend_on_the_window_around_it():
    # given the same day inside a short and a long window
    short = demo_data_generate(seed=7, today=TODAY, days_ahead=0, history_days=5)
    long = demo_data_generate(seed=7, today=TODAY, days_ahead=10, history_days=40)
    day = TODAY - datetime.timedelta(days=3)

    # then its races are identical
    assert [r for r in short.races if r.meeting_date == day] == [
        r for r in long.races if r.meeting_date == day
    ]


def test_favourite_wins_about_a_third_of_the_time_and_ratings_track_ability():
    data = demo_data_generate(seed=7, today=TODAY, days_ahead=0, history_days=120)
    results = [race for race in data.races if race.status == Race.Status.RESULT]

    favourite_wins = [
        min(race.runners, key=lambda runner: runner.win_odds).finish_position == 1
        for race in results
    ]
    ratings = {}
    for race in results:
        for runner in race.runners:
            ratings.setdefault(runner.horse, []).append(runner.rating)
    abilities = [horse.ability for horse in data.population.horses if horse.external_id in ratings]
    mean_ratings = [
        statistics.mean(ratings[horse.external_id])
        for horse in data.population.horses
        if horse.external_id in ratings
    ]

    assert 0.2 <= sum(favourite_wins) / len(results) <= 0.45
    assert statistics.correlation(abilities, mean_ratings) > 0.95


@pytest.mark.django_db
def test_seed_writes_the_generated_data_set():
    report = demo_data_seed(seed=7, today=TODAY, days_ahead=3, history_days=10)

    assert (report.racecourses, report.horses, report.jockeys, report.trainers) == (4, 300, 25, 20)
    assert Racecourse.objects.count() == 4
    assert Horse.objects.count() == 300
    assert Jockey.objects.count() == 25
    assert Trainer.objects.count() == 20
    assert Race.objects.results().count() == report.result_races
    assert Race.objects.filter(status=Race.Status.DECLARED).count() == report.declared_races
    assert Runner.objects.count() == report.runners
    assert report.created == sum(model.objects.count() for model in DEMO_MODELS)
    assert (report.updated, report.deleted) == (0, 0)
    assert set(Race.objects.values_list("name", flat=True)) == {"Demo Handicap"}


@pytest.mark.django_db
def test_every_row_is_demo_with_an_external_id():
    demo_data_seed(seed=7, today=TODAY, days_ahead=1, history_days=5)

    for model in DEMO_MODELS:
        assert model.objects.exists()
        assert not model.objects.filter(~Q(source=DEMO) | Q(external_id="")).exists()


@pytest.mark.django_db
def test_second_seed_creates_and_changes_nothing():
    demo_data_seed(seed=7, today=TODAY, days_ahead=3, history_days=10)
    before = snapshot()

    report = demo_data_seed(seed=7, today=TODAY, days_ahead=3, history_days=10)

    assert (report.created, report.updated, report.deleted) == (0, 0, 0)
    assert snapshot() == before


@pytest.mark.django_db
def test_seeding_fresh_databases_gives_identical_rows():
    demo_data_seed(seed=7, today=TODAY, days_ahead=3, history_days=10)
    first = snapshot()
    demo_rows_delete()

    demo_data_seed(seed=7, today=TODAY, days_ahead=3, history_days=10)

    assert snapshot() == first


@pytest.mark.django_db
def test_another_seed_over_old_data_gives_the_same_rows_as_on_a_fresh_database():
    # given seed 7's data, rewritten with seed 8
    demo_data_seed(seed=7, today=TODAY, days_ahead=1, history_days=5)
    report = demo_data_seed(seed=8, today=TODAY, days_ahead=1, history_days=5)
    rewritten = snapshot()

    # when seed 8 writes into an empty database
    demo_rows_delete()
    demo_data_seed(seed=8, today=TODAY, days_ahead=1, history_days=5)

    # then both hold the same rows
    assert report.updated > 0
    assert snapshot() == rewritten


@pytest.mark.django_db
def test_odds_are_above_one_and_the_book_is_about_one_point_two():
    demo_data_seed(seed=7, today=TODAY, days_ahead=3, history_days=30)
    races = Race.objects.prefetch_related("runners")

    books = [book(race.runners.all()) for race in races]

    assert not Runner.objects.filter(Q(win_odds__isnull=True) | Q(win_odds__lte=1)).exists()
    assert not Runner.objects.filter(race__status=Race.Status.RESULT, place_odds__lt=1).exists()
    assert 1.15 <= statistics.mean(books) <= 1.25


@pytest.mark.django_db
def test_results_have_a_full_finishing_order():
    demo_data_seed(seed=7, today=TODAY, days_ahead=0, history_days=10)

    for race in Race.objects.results().prefetch_related("runners"):
        runners = sorted(race.runners.all(), key=lambda runner: runner.finish_position)
        assert race.meeting_date < TODAY
        assert [runner.finish_position for runner in runners] == list(range(1, len(runners) + 1))
        assert 8 <= len(runners) <= 14
        assert runners[0].lengths_behind == 0
        for earlier, later in itertools.pairwise(runners):
            assert earlier.lengths_behind < later.lengths_behind
            assert earlier.finish_time <= later.finish_time
        assert all(runner.place_odds is not None for runner in runners)


@pytest.mark.django_db
def test_declared_races_cover_today_to_days_ahead_without_results():
    demo_data_seed(seed=7, today=TODAY, days_ahead=3, history_days=5)
    declared = Race.objects.filter(status=Race.Status.DECLARED)

    days = set(declared.values_list("meeting_date", flat=True))

    assert days == {TODAY + datetime.timedelta(days=n) for n in range(4)}
    assert (
        not Race.objects.filter(meeting_date__gte=TODAY)
        .exclude(status=Race.Status.DECLARED)
        .exists()
    )
    runners = Runner.objects.filter(race__in=declared)
    assert runners.exists()
    assert not runners.filter(
        Q(finish_position__isnull=False)
        | Q(lengths_behind__isnull=False)
        | Q(finish_time__isnull=False)
        | Q(place_odds__isnull=False)
        | Q(win_odds__isnull=True)
    ).exists()


@pytest.mark.django_db
def test_next_day_settles_yesterdays_card_without_changing_it():
    # given a declared card for today
    demo_data_seed(seed=7, today=TODAY, days_ahead=1, history_days=2)
    card_fields = ("external_id", "horse__external_id", "saddle_number", "draw", "win_odds")
    card = list(
        Runner.objects.filter(race__meeting_date=TODAY)
        .order_by("external_id")
        .values_list(*card_fields)
    )

    # when the seed runs again tomorrow
    report = demo_data_seed(
        seed=7, today=TODAY + datetime.timedelta(days=1), days_ahead=1, history_days=2
    )

    # then the same card has a result and nothing was deleted
    assert report.deleted == 0
    settled = Runner.objects.filter(race__meeting_date=TODAY).order_by("external_id")
    assert list(settled.values_list(*card_fields)) == card
    assert set(settled.values_list("race__status", flat=True)) == {Race.Status.RESULT}
    assert not settled.filter(finish_position__isnull=True).exists()


def test_apprentices_claim_their_allowance_and_only_they_do():
    data = demo_data_generate(seed=7, today=TODAY, days_ahead=1, history_days=10)

    claims = {
        (runner.jockey, runner.jockey_allowance_lb)
        for race in data.races
        for runner in race.runners
        if runner.jockey_allowance_lb is not None
    }

    assert claims
    assert claims <= set(APPRENTICE_CLAIMS.items())
