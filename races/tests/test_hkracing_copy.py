"""The Hong Kong import's fast path: column-wise reading (any database) and COPY (PostgreSQL)."""

import datetime
import io
from decimal import Decimal

import pandas as pd
import psycopg2
import pytest
from django.db import IntegrityError, connection
from django.test.utils import CaptureQueriesContext

from hrp_site.testing.required import require_postgresql
from races import hkracing, hkracing_frames
from races.models import ExternalRecord, Horse, Jockey, Race, Racecourse, Runner, Trainer
from races.services import hkracing_import as service
from races.tests.factories import HorseFactory, RacecourseFactory, RaceFactory, RunnerFactory
from races.tests.hkracing_csv import RUN_HEADER, run_row, small_pair, to_csv
from races.tests.test_services import content, run_import, snapshot

pytestmark = pytest.mark.django_db


def varied_pair() -> tuple[str, str]:
    """The small pair with cells the source really has: more places than a column keeps,
    whole numbers written as decimals, inner and trailing blanks and placeholders in sections."""
    races_csv, _ = small_pair()
    runs = [
        run_row(0, 1, 1, declared_weight="1112.461538", position_sec4="10.0"),
        run_row(0, 2, 2, lengths_behind="999", time3="999", time5="23.1", behind_sec2=""),
        run_row(0, 3, 3, horse_gear="B/TT", win_odds="99", horse_age="", draw=""),
        run_row(0, 4, 3, finish_time="999", place_odds="1.254", horse_rating="-3"),
        run_row(1, 1, 2, horse_id=1002, place_odds="", horse_type="Brown"),
        run_row(1, 2, 1, horse_id=1001, win_odds="1.0", place_odds="1.0", horse_country=""),
    ]
    return races_csv, to_csv(RUN_HEADER, runs)


def _same(frame_value, row_value) -> bool:
    if row_value is None:
        return pd.isna(frame_value)
    if isinstance(row_value, Decimal):
        return float(row_value) == frame_value
    if isinstance(row_value, datetime.date):
        return row_value.isoformat() == frame_value
    return row_value == frame_value


@pytest.mark.parametrize(
    ("index", "frame_columns", "row_columns"),
    [
        (0, hkracing_frames.RACE_COLUMNS, hkracing.RACE_COLUMNS),
        (1, hkracing_frames.RUN_COLUMNS, hkracing.RUN_COLUMNS),
    ],
)
def test_plain_cells_read_column_wise_as_the_row_readers_read_them(
    index, frame_columns, row_columns
):
    # given
    text = varied_pair()[index]

    # when
    frame = pd.concat(hkracing_frames.frames_read(io.StringIO(text), frame_columns))
    rows = list(
        hkracing.read_rows(
            io.StringIO(text), file="f", columns=row_columns, errors=hkracing.ErrorLog()
        )
    )

    # then: the same columns, and every cell the same value
    assert list(frame_columns) == list(row_columns)
    assert len(frame) == len(rows)
    for (_, values), row in zip(frame.iterrows(), rows, strict=True):
        different = {c: (values[c], row.values[c]) for c in row_columns}
        different = {c: v for c, v in different.items() if not _same(*v)}
        assert different == {}


@pytest.mark.parametrize(
    ("column", "cell"),
    [
        ("win_odds", "abc"),  # an error: the row readers name it
        ("win_odds", "1_000"),  # valid for Decimal, not for pandas
        ("win_odds", "inf"),
        ("place_odds", "1.005"),  # a rounding tie: the text decides, not the double
        ("draw", "3.5"),
        ("draw", "0"),
        ("jockey_id", ""),
        ("won", "yes"),
    ],
)
def test_cells_that_are_not_plain_give_the_pair_to_the_row_readers(column, cell):
    runs_csv = to_csv(RUN_HEADER, [run_row(0, 1, 1), run_row(0, 2, 2, **{column: cell})])

    with pytest.raises(hkracing_frames.FramesUnplain):
        list(hkracing_frames.frames_read(io.StringIO(runs_csv), hkracing_frames.RUN_COLUMNS))


@pytest.mark.parametrize(
    "edit",
    [
        lambda text: text + "0,9\n",  # a short row
        lambda text: text[:-1] + ",extra\n",  # a long row
        lambda text: text + "\n",  # a blank line
        lambda text: text.replace("race_id", "race", 1),  # a missing column
    ],
)
def test_rows_that_are_not_plain_give_the_pair_to_the_row_readers(edit):
    runs_csv = edit(to_csv(RUN_HEADER, [run_row(0, 1, 1)]))

    with pytest.raises(hkracing_frames.FramesUnplain):
        list(hkracing_frames.frames_read(io.StringIO(runs_csv), hkracing_frames.RUN_COLUMNS))


def test_quoted_cells_with_commas_are_plain():
    runs_csv = to_csv(RUN_HEADER, [run_row(0, 1, 1, horse_gear="B,TT")])

    frames = list(hkracing_frames.frames_read(io.StringIO(runs_csv), hkracing_frames.RUN_COLUMNS))

    assert frames[0]["horse_gear"].tolist() == ["B,TT"]


# PostgreSQL: the COPY path against the row path (the ORM's, as SQLite imports).


@pytest.fixture
def copy_path(monkeypatch):
    """Fail the test unless the import takes the COPY path; returns the calls to it."""
    require_postgresql("the COPY path is PostgreSQL's")
    calls = []
    write = service._hkracing_copy_write

    def spy(**kwargs):
        calls.append(kwargs)
        return write(**kwargs)

    monkeypatch.setattr(service, "_hkracing_copy_write", spy)
    yield calls
    assert calls, "the import did not take the COPY path"


def _row_path(monkeypatch) -> None:
    def unplain(**kwargs):
        raise hkracing_frames.FramesUnplain

    monkeypatch.setattr(service, "_hkracing_frames_check", unplain)


def _counts(report) -> dict:
    return {
        "counts": {name: vars(c) for name, c in report.counts.items()},
        "dead heats": report.dead_heat_runners,
        "without runners": report.races_without_runners,
        "unusable odds": report.unusable_win_odds,
    }


def test_the_copy_path_stores_and_counts_what_the_row_path_does(copy_path, monkeypatch):
    # given: the pair imported by COPY, and its rows
    pair = varied_pair()
    by_copy = _counts(run_import(*pair))
    stored = content()
    for model in (Runner, Race, Horse, Jockey, Trainer, Racecourse):
        model.objects.all().delete()

    # when
    with monkeypatch.context() as patch:
        _row_path(patch)
        by_rows = _counts(run_import(*pair))

    # then
    assert content() == stored
    assert by_copy == by_rows
    assert by_copy["counts"]["runners"] == {"created": 6, "updated": 0, "unchanged": 0}
    assert (by_copy["dead heats"], by_copy["without runners"], by_copy["unusable odds"]) == (
        2,
        1,
        1,
    )
    assert Runner.objects.get(external_id="0:1001").declared_weight_lb == Decimal("1112.5")
    assert Runner.objects.get(external_id="0:1001").section_positions == [1, 1, 1, 10]
    assert Runner.objects.get(external_id="0:1002").section_times == [24.1, 22.7, None, None, 23.1]


def test_a_copy_reimport_changes_nothing(copy_path):
    # given
    pair = varied_pair()
    run_import(*pair)
    before = snapshot()

    # when
    report = run_import(*pair)

    # then: every row counted unchanged, none rewritten (their updated_at included)
    assert {name: (c.created, c.updated) for name, c in report.counts.items()} == {
        name: (0, 0) for name in report.counts
    }
    assert report.counts["runners"].unchanged == 6
    assert snapshot() == before


def test_a_copy_import_updates_only_the_rows_that_changed(copy_path):
    # given
    races_csv, runs_csv = varied_pair()
    run_import(races_csv, runs_csv)
    before = {r.external_id: r.updated_at for r in Runner.objects.all()}
    race_before = {r.external_id: r.updated_at for r in Race.objects.all()}

    # when: one runner's odds and one race's going change
    races_csv = races_csv.replace(",GOOD,", ",YIELDING,", 1)
    runs_csv = runs_csv.replace(",99,1.5,", ",12.5,1.5,", 1)
    report = run_import(races_csv, runs_csv)

    # then
    assert (report.counts["runners"].updated, report.counts["runners"].unchanged) == (1, 5)
    assert (report.counts["races"].updated, report.counts["races"].unchanged) == (1, 2)
    after = {r.external_id: r.updated_at for r in Runner.objects.all()}
    assert {key for key in after if after[key] != before[key]} == {"0:1003"}
    assert Runner.objects.get(external_id="0:1003").win_odds == Decimal("12.50")
    race_after = {r.external_id: r.updated_at for r in Race.objects.all()}
    assert {key for key in race_after if race_after[key] != race_before[key]} == {"0"}


def test_a_copy_import_updates_a_runner_another_source_stored_first(copy_path):
    # given: the slot of race 0 and its number 1, entered by hand for the file's horse 1001
    course = RacecourseFactory(code="ST", name="Sha Tin", country="HK")
    race = RaceFactory(
        source=ExternalRecord.Source.MANUAL,
        external_id="",
        racecourse=course,
        meeting_date=datetime.date(1997, 6, 2),
        race_number=1,
        distance_m=1000,
    )
    horse = HorseFactory(external_id="1001")
    manual = RunnerFactory(
        race=race,
        horse=horse,
        saddle_number=1,
        jockey=None,
        trainer=None,
        source=ExternalRecord.Source.MANUAL,
        external_id="",
        win_odds=Decimal("50"),
    )

    # when
    report = run_import(*varied_pair())

    # then: updated in place, keeping its own source and key
    assert (report.counts["runners"].created, report.counts["runners"].updated) == (5, 1)
    manual.refresh_from_db()
    assert (manual.source, manual.external_id, manual.win_odds) == ("manual", "", Decimal("3.50"))
    assert Runner.objects.filter(race=race).count() == 4
    assert run_import(*varied_pair()).counts["runners"].unchanged == 6


def test_a_refused_copy_import_writes_nothing(copy_path):
    # given: the file's horse 1002 already runs in the hand-entered slot of race 0, as number 9
    course = RacecourseFactory(code="ST", name="Sha Tin", country="HK")
    race = RaceFactory(
        source=ExternalRecord.Source.MANUAL,
        external_id="",
        racecourse=course,
        meeting_date=datetime.date(1997, 6, 2),
        race_number=1,
    )
    RunnerFactory(race=race, horse=HorseFactory(external_id="1002"), saddle_number=9)
    before = snapshot()

    # when: the horses, jockeys, trainers and races are written before the runners clash
    with pytest.raises(service.HkracingImportRejected) as caught:
        run_import(*varied_pair())

    # then
    assert "the database refused the import" in str(caught.value.errors[0])
    assert snapshot() == before


def test_a_rejected_pair_writes_nothing_and_names_its_lines(monkeypatch):
    # given: a plain pair but for one bad cell, on PostgreSQL or not
    races_csv, _ = small_pair()
    runs_csv = to_csv(RUN_HEADER, [run_row(0, 1, 1), run_row(0, 2, 2, draw="x")])

    # when
    with pytest.raises(service.HkracingImportRejected) as caught:
        run_import(races_csv, runs_csv)

    # then
    assert [str(e) for e in caught.value.errors] == [
        "runs.csv, line 3, column draw: 'x' is not a number"
    ]
    assert Race.objects.count() == Runner.objects.count() == Horse.objects.count() == 0


def test_a_pair_with_windows_line_ends_is_plain():
    runs_csv = to_csv(RUN_HEADER, [run_row(0, 1, 1), run_row(0, 2, 2)]).replace("\n", "\r\n")

    frames = list(hkracing_frames.frames_read(io.StringIO(runs_csv), hkracing_frames.RUN_COLUMNS))

    assert frames[0]["horse_no"].tolist() == [1, 2]


# PostgreSQL: a first load sets the runner table's foreign keys aside.


def _runner_keys() -> dict[str, str]:
    with connection.cursor() as cursor:
        return service.runner_foreign_keys(cursor)


def _set_aside_refused(queries) -> bool:
    """Whether the keys were to be dropped and that was undone (its savepoint rolled back)."""
    statements = [query["sql"] for query in queries]
    drops = [i for i, sql in enumerate(statements) if "DROP CONSTRAINT" in sql]
    return bool(drops) and statements[drops[0] + 1].startswith("ROLLBACK TO SAVEPOINT")


def test_a_first_load_sets_the_keys_aside_and_adds_them_again_as_they_were(copy_path):
    # given: no runner stored
    keys = _runner_keys()
    assert len(keys) == 4  # to the race, horse, jockey and trainer

    # when
    with CaptureQueriesContext(connection) as queries:
        run_import(*varied_pair())

    # then: dropped for the load, made again exactly, and the rows stored whole
    statements = [query["sql"] for query in queries]
    assert any("DROP CONSTRAINT" in sql for sql in statements)
    assert _runner_keys() == keys
    assert Runner.objects.count() == 6


def test_a_load_beside_stored_runners_keeps_the_keys(copy_path):
    # given: one runner stored, in a race of another source
    manual = {"source": ExternalRecord.Source.MANUAL, "external_id": ""}
    RunnerFactory(**manual, race__source=manual["source"], race__external_id="")
    before = _runner_keys()

    # when
    with CaptureQueriesContext(connection) as queries:
        run_import(*varied_pair())

    # then
    assert not any("DROP CONSTRAINT" in query["sql"] for query in queries)
    assert _runner_keys() == before
    assert Runner.objects.count() == 7


def test_a_failed_first_load_leaves_the_keys_as_they_were(copy_path, monkeypatch):
    # given: the runners' write fails after the keys were set aside
    before = _runner_keys()
    upsert = service.records_copy_upsert

    def failing(model, frames, **kwargs):
        if model is Runner:
            raise IntegrityError("refused")
        return upsert(model, frames, **kwargs)

    monkeypatch.setattr(service, "records_copy_upsert", failing)

    # when
    with pytest.raises(service.HkracingImportRejected):
        run_import(*varied_pair())

    # then
    assert _runner_keys() == before
    assert Race.objects.count() == Horse.objects.count() == 0


def test_a_first_load_whose_tables_have_changes_to_check_keeps_the_keys(copy_path):
    # given: a race entered in this transaction, its key to the course still to be checked at
    # the commit (PostgreSQL will not alter a table with such pending checks)
    RaceFactory()
    before = _runner_keys()

    # when
    with CaptureQueriesContext(connection) as queries:
        report = run_import(*varied_pair())

    # then: the keys stayed and were checked row by row
    assert _set_aside_refused(queries)
    assert report.counts["runners"].created == 6
    assert _runner_keys() == before


@pytest.mark.django_db(transaction=True)
def test_a_first_load_that_cannot_lock_in_time_keeps_the_keys(copy_path, monkeypatch):
    # given: another session reading the runner table, holding its lock
    monkeypatch.setattr(service, "KEYS_LOCK_TIMEOUT", "100ms")
    before = _runner_keys()
    settings = connection.settings_dict
    reader = psycopg2.connect(
        dbname=settings["NAME"],
        user=settings["USER"],
        host=settings["HOST"],
        port=settings["PORT"],
        password=settings["PASSWORD"],
    )
    try:
        with reader.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM races_runner")

        # when
        with CaptureQueriesContext(connection) as queries:
            report = run_import(*varied_pair())
    finally:
        reader.close()

    # then: the import waited no longer than the time-out and kept the keys
    assert _set_aside_refused(queries)
    assert report.counts["runners"].created == 6
    assert _runner_keys() == before


def test_a_small_pair_is_read_once_and_a_large_one_again(copy_path, monkeypatch):
    # given
    reads = []
    frames_read = hkracing_frames.frames_read

    def counted(handle, columns, **kwargs):
        reads.append(columns is hkracing_frames.RUN_COLUMNS)
        return frames_read(handle, columns, **kwargs)

    monkeypatch.setattr(hkracing_frames, "frames_read", counted)
    pair = varied_pair()

    # when: read once (frames kept), then with a cap below the pair's six runs
    run_import(*pair)
    once = list(reads)
    stored = content()
    for model in (Runner, Race, Horse, Jockey, Trainer, Racecourse):
        model.objects.all().delete()
    reads.clear()
    monkeypatch.setattr(service, "FRAMES_KEPT_RUNS", 5)
    run_import(*pair)

    # then
    assert once == [False, True]
    assert reads == [False, True, False, True]
    assert content() == stored
