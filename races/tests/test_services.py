import codecs
import datetime
import io
from decimal import Decimal

import pytest
from django.core.management import call_command

from hrp_site.testing.sent import commit_callbacks
from races.models import (
    ExternalRecord,
    HkracingUpload,
    Horse,
    Jockey,
    ProviderSync,
    Race,
    Racecourse,
    Runner,
    Trainer,
)
from races.services.hkracing_import import (
    HkracingImportRejected,
    hkracing_import,
    race_tables_analyze,
)
from races.services.hkracing_uploads import hkracing_upload_import
from races.services.provider_sync import provider_sync
from races.signals import race_data_stored
from races.tests.factories import HorseFactory, RacecourseFactory, RaceFactory, RunnerFactory
from races.tests.hkracing_csv import (
    RACE_HEADER,
    RUN_HEADER,
    race_row,
    run_row,
    small_pair,
    to_csv,
)

pytestmark = pytest.mark.django_db


def run_import(races_csv: str, runs_csv: str):
    return hkracing_import(races_file=io.StringIO(races_csv), runs_file=io.StringIO(runs_csv))


def snapshot() -> dict[str, list[tuple]]:
    return {
        model.__name__: sorted(model.objects.values_list(), key=lambda row: row[0])
        for model in (Racecourse, Horse, Jockey, Trainer, Race, Runner)
    }


def content() -> dict[str, list[tuple]]:
    """What `snapshot` holds, without the keys and stamps that differ between two imports."""
    contents = {}
    for model in (Racecourse, Horse, Jockey, Trainer, Race, Runner):
        names = [
            field.attname
            for field in model._meta.concrete_fields
            if not (field.primary_key or field.is_relation or field.name.endswith("_at"))
        ]
        contents[model.__name__] = sorted(model.objects.values_list(*names), key=repr)
    return contents


def test_import_creates_every_row_with_the_source_traps_resolved():
    # when
    report = run_import(*small_pair())

    # then
    assert {name: counts.created for name, counts in report.counts.items()} == {
        "racecourses": 2,
        "horses": 4,
        "jockeys": 4,
        "trainers": 2,
        "races": 3,
        "runners": 6,
    }
    race = Race.objects.get(source="hkracing", external_id="0")
    assert (race.racecourse.code, race.racecourse.name, race.race_number) == ("ST", "Sha Tin", 1)
    assert (race.distance_m, race.surface, race.going, race.status) == (
        1200,
        "turf",
        "good",
        "result",
    )
    assert race.prize == Decimal("485000.00")
    assert race.prize_currency == "HKD"
    assert race.sectional_times == [24.05, 22.64, 23.7]
    happy_valley = Race.objects.get(external_id="1")
    assert (happy_valley.surface, happy_valley.prize, happy_valley.prize_currency) == (
        "all_weather",
        None,
        "",
    )
    assert Race.objects.get(external_id="2").status == Race.Status.ABANDONED
    assert report.races_without_runners == 1

    runners = {r.external_id: r for r in Runner.objects.select_related("horse")}
    assert [r.finish_position for r in race.runners.order_by("saddle_number")] == [1, 2, 3, 3]
    assert [r.dead_heat for r in race.runners.order_by("saddle_number")] == [
        False,
        False,
        True,
        True,
    ]
    second = runners["0:1002"]
    assert second.lengths_behind is None  # 999 is the source's "unknown"
    assert second.section_times == [24.1, 22.7]  # ... in sectional times too
    assert second.section_positions == [2, 2, 2]
    assert runners["0:1001"].gear == ""  # "--" means no gear
    assert runners["0:1003"].gear == "B/TT"
    assert runners["0:1001"].declared_weight_lb == Decimal("1020.0")
    assert runners["1:1002"].place_odds is None
    # A win price of 1.0 implies certainty; it is kept out of the market's probabilities.
    assert runners["1:1001"].win_odds is None
    assert runners["1:1001"].place_odds == Decimal("1.00")
    assert report.unusable_win_odds == 1
    assert report.dead_heat_runners == 2
    assert runners["0:1001"].horse.country == "AUS"


def test_second_import_changes_nothing():
    # given
    races_csv, runs_csv = small_pair()
    run_import(races_csv, runs_csv)
    before = snapshot()

    # when
    report = run_import(races_csv, runs_csv)

    # then
    assert all(c.created == 0 and c.updated == 0 for c in report.counts.values())
    assert report.counts["runners"].unchanged == 6
    assert snapshot() == before


def test_changed_values_update_the_same_rows():
    # given
    run_import(*small_pair())
    runner_pks = set(Runner.objects.values_list("pk", flat=True))
    races = [race_row(0, going="YIELDING"), race_row(1, venue="HV", surface=1), race_row(2)]
    runs = [
        run_row(0, 1, 1, win_odds="2.2"),
        run_row(0, 2, 2, lengths_behind="999", time3="999"),
        run_row(0, 3, 3, horse_gear="B/TT"),
        run_row(0, 4, 3),
        run_row(1, 1, 2, horse_id=1002, place_odds=""),
        run_row(1, 2, 1, horse_id=1001, win_odds="1.0", place_odds="1.0"),
    ]

    # when
    report = run_import(to_csv(RACE_HEADER, races), to_csv(RUN_HEADER, runs))

    # then
    assert (report.counts["races"].updated, report.counts["runners"].updated) == (2, 1)
    assert set(Runner.objects.values_list("pk", flat=True)) == runner_pks
    assert Race.objects.get(external_id="0").going == "yielding"
    assert Runner.objects.get(external_id="0:1001").win_odds == Decimal("2.20")


def test_a_bad_pair_is_rejected_with_every_reason_and_writes_nothing():
    # given: a database holding an earlier import
    run_import(*small_pair())
    before = snapshot()
    races_csv, _ = small_pair()
    runs = [
        run_row(0, 1, 1, win_odds="abc"),  # line 2: a bad number
        run_row(7, 2, 2),  # line 3: an unknown race
        run_row(0, 3, 3),
        run_row(0, 3, 4, horse_id=1099),  # line 5: saddle number 3 twice
        run_row(0, 4, 5, horse_id=1003),  # line 6: horse 1003 twice
    ]

    # when
    with pytest.raises(HkracingImportRejected) as caught:
        run_import(races_csv, to_csv(RUN_HEADER, runs))

    # then
    assert caught.value.total == 4
    assert [str(error) for error in caught.value.errors] == [
        "runs.csv, line 2, column win_odds: 'abc' is not a number",
        "runs.csv, line 3, column race_id: race 7 is not in races.csv",
        "runs.csv, line 5, column horse_no: number 3 is already taken in race 0 on line 4",
        "runs.csv, line 6, column horse_id: horse 1003 already runs in race 0 on line 4",
    ]
    assert str(caught.value).startswith("4 errors in the upload; the first: runs.csv, line 2")
    assert snapshot() == before


@pytest.mark.parametrize(
    ("column", "value", "message"),
    [
        ("date", "02/06/1997", "'02/06/1997' is not a date in YYYY-MM-DD form"),
        ("venue", "XX", "'XX' is not one of HV, ST"),
        ("race_no", "0", "'0' is below the minimum of 1"),
        ("distance", "1200.5", "'1200.5' is not a whole number"),
        ("going", "", "is empty"),
        ("surface", "2", "'2' is not one of 0, 1"),
    ],
)
def test_bad_race_cells_are_named(column, value, message):
    races_csv = to_csv(RACE_HEADER, [race_row(0, **{column: value})])

    with pytest.raises(HkracingImportRejected) as caught:
        run_import(races_csv, to_csv(RUN_HEADER, [run_row(0, 1, 1)]))

    assert [str(e) for e in caught.value.errors] == [
        f"races.csv, line 2, column {column}: {message}"
    ]
    assert Race.objects.count() == 0


def test_duplicate_races_and_inconsistent_winners_are_rejected():
    races = [race_row(0), race_row(0, race_no=5), race_row(1, race_no=1)]
    runs = [run_row(0, 1, 2, won="1.0")]

    with pytest.raises(HkracingImportRejected) as caught:
        run_import(to_csv(RACE_HEADER, races), to_csv(RUN_HEADER, runs))

    assert [str(e) for e in caught.value.errors] == [
        "races.csv, line 3, column race_id: race 0 is already on line 2",
        "races.csv, line 4, column race_no: race 1 at ST on 1997-06-02 is already on line 2",
        "runs.csv, line 2, column won: won is 1 but result is 2",
    ]


def test_a_missing_column_is_one_error_for_the_file():
    header = [column for column in RUN_HEADER if column not in ("win_odds", "draw")]
    runs_csv = to_csv(header, [])
    races_csv, _ = small_pair()

    with pytest.raises(HkracingImportRejected) as caught:
        run_import(races_csv, runs_csv)

    assert [str(e) for e in caught.value.errors] == [
        "runs.csv, line 1: missing columns: draw, win_odds"
    ]


def test_only_the_first_twenty_errors_are_kept_but_all_are_counted():
    races_csv, _ = small_pair()
    runs = [run_row(0, n, n, draw="x", win_odds="y") for n in range(1, 15)]

    with pytest.raises(HkracingImportRejected) as caught:
        run_import(races_csv, to_csv(RUN_HEADER, runs))

    assert caught.value.total == 28
    assert len(caught.value.errors) == 20
    assert Runner.objects.count() == 0


def _manual_race(course):
    """The slot of the file's race 0, entered by hand."""
    return RaceFactory(
        source=ExternalRecord.Source.MANUAL,
        external_id="",
        racecourse=course,
        meeting_date=datetime.date(1997, 6, 2),
        race_number=1,
        distance_m=1000,
    )


def test_rows_another_source_stored_first_are_updated_in_place():
    # given: Sha Tin and the slot of the file's race 0, entered by hand
    course = RacecourseFactory(code="ST", name="Sha Tin", country="HK")
    manual = _manual_race(course)

    # when
    report = run_import(*small_pair())

    # then
    assert (report.counts["racecourses"].created, report.counts["racecourses"].unchanged) == (1, 1)
    assert (report.counts["races"].created, report.counts["races"].updated) == (2, 1)
    manual.refresh_from_db()
    assert (manual.source, manual.external_id, manual.distance_m) == ("manual", "", 1200)
    assert manual.runners.count() == 4
    assert run_import(*small_pair()).counts["races"].unchanged == 3


def test_a_database_refusal_rolls_everything_back():
    # given: a runner stored by another source under saddle number 1, but for another horse,
    # in the slot of the file's race 0, and the same horse entered as number 9
    race = _manual_race(RacecourseFactory(code="ST", name="Sha Tin", country="HK"))
    horse = HorseFactory(external_id="1002")
    RunnerFactory(race=race, horse=horse, saddle_number=9, jockey=None, trainer=None)

    # when
    with pytest.raises(HkracingImportRejected) as caught:
        run_import(*small_pair())

    # then
    assert "the database refused the import" in str(caught.value.errors[0])
    assert race.runners.count() == 1
    assert Race.objects.count() == 1
    assert Horse.objects.count() == 1


def test_import_refreshes_the_planner_statistics_after_the_commit(
    django_capture_on_commit_callbacks,
):
    from django.db import connection

    # when
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        run_import(*small_pair())

    # then: the statistics, then the signal for whoever builds on stored results (accounts'
    # alerts, whose receiver adds its task's send)
    analyze, stored, *_receivers = commit_callbacks(callbacks)
    assert analyze == race_tables_analyze
    assert (stored.func, stored.keywords) == (
        race_data_stored.send,
        {"sender": Race},
    )
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT reltuples FROM pg_class WHERE relname = 'races_runner'")
            assert cursor.fetchone()[0] == 6


def test_a_re_import_that_changes_nothing_analyzes_nothing(django_capture_on_commit_callbacks):
    run_import(*small_pair())

    with django_capture_on_commit_callbacks() as callbacks:
        report = run_import(*small_pair())

    assert report.counts["runners"].unchanged == 6
    assert race_tables_analyze not in commit_callbacks(callbacks)


def test_a_rejected_import_analyzes_nothing(django_capture_on_commit_callbacks):
    races_csv, runs_csv = small_pair()

    with (
        django_capture_on_commit_callbacks() as callbacks,
        pytest.raises(HkracingImportRejected),
    ):
        run_import(races_csv, runs_csv.replace("\n", "\nnot,a,row\n", 1))

    assert callbacks == []
    assert Runner.objects.count() == 0


def _import_by_command(folder, settings):
    call_command("import_hkracing", folder, stdout=io.StringIO())


def _import_by_provider(folder, settings):
    settings.HRP_PROVIDERS = ["hkracing"]
    settings.HKRACING_DIR = str(folder)
    sync = provider_sync(provider="hkracing", day=datetime.date(2025, 12, 17))
    assert sync.status == ProviderSync.Status.SUCCEEDED, sync.error


def _import_by_upload(folder, settings):
    upload = HkracingUpload.objects.create(
        races_name="races.csv",
        races_data=(folder / "races.csv").read_bytes(),
        runs_name="runs.csv",
        runs_data=(folder / "runs.csv").read_bytes(),
    )
    upload = hkracing_upload_import(upload_id=upload.pk)
    assert upload.status == HkracingUpload.Status.SUCCEEDED, upload.error


@pytest.mark.parametrize(
    "import_folder", [_import_by_command, _import_by_provider, _import_by_upload]
)
def test_a_pair_saved_with_a_byte_order_mark_imports_as_one_without(
    tmp_path, settings, import_folder
):
    # given: the plain pair's rows, and the pair as a spreadsheet saves it (a mark first)
    races_csv, runs_csv = small_pair()
    run_import(races_csv, runs_csv)
    plain = content()
    for model in (Runner, Race, Horse, Jockey, Trainer, Racecourse):
        model.objects.all().delete()
    (tmp_path / "races.csv").write_bytes(codecs.BOM_UTF8 + races_csv.encode())
    (tmp_path / "runs.csv").write_bytes(codecs.BOM_UTF8 + runs_csv.encode())

    # when
    import_folder(tmp_path, settings)

    # then: the same rows, but for their keys and time stamps
    assert content() == plain
    assert sorted(Race.objects.values_list("external_id", flat=True)) == ["0", "1", "2"]
