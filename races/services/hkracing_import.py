"""The Hong Kong import: a pair of CSVs (`races.csv`, `runs.csv`), checked whole, then upserted.

The command, the staff upload and the file provider all import through here; `races.hkracing`
opens and decodes the files for all three.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from itertools import islice
from pathlib import Path
from typing import Any, TextIO

import numpy as np
import pandas as pd
from django.db import IntegrityError, OperationalError, connection, models, transaction
from tqdm import tqdm

from races import hkracing, hkracing_frames
from races.hkracing import ErrorLog, ParsedRow, RowError
from races.models import ExternalRecord, Horse, Jockey, Race, Racecourse, Runner, Trainer
from races.signals import race_data_stored
from races.vocabulary import going_choice, sex_choice

from .cache import races_cache_invalidate
from .upsert import UpsertCounts, records_copy_upsert, records_upsert

SOURCE = ExternalRecord.Source.HKRACING
CHUNK_SIZE = 5_000


@dataclass
class HkracingImportReport:
    counts: dict[str, UpsertCounts] = field(default_factory=dict)
    dead_heat_runners: int = 0
    races_without_runners: int = 0
    unusable_win_odds: int = 0

    def summary_lines(self) -> list[str]:
        lines = [
            f"{name}: {c.created} created, {c.updated} updated, {c.unchanged} unchanged"
            for name, c in self.counts.items()
        ]
        lines.append(f"runners in dead heats: {self.dead_heat_runners}")
        lines.append(f"races without runners (stored as abandoned): {self.races_without_runners}")
        lines.append(f"win odds at or below 1.0 (stored as unknown): {self.unusable_win_odds}")
        return lines


class HkracingImportRejected(Exception):
    """The files had errors; nothing was written."""

    def __init__(self, errors: list[RowError], total: int) -> None:
        self.errors = errors
        self.total = total
        noun = "error" if total == 1 else "errors"
        super().__init__(f"{total} {noun} in the upload; the first: {errors[0]}")


@dataclass(frozen=True)
class _Pair:
    """The two files of an import, and the names its errors call them by."""

    races_file: TextIO
    runs_file: TextIO
    races_name: str
    runs_name: str


@dataclass
class _Checked:
    """What the validating pass learnt that the writing pass needs."""

    horses: dict[int, dict[str, str]] = field(default_factory=dict)
    jockeys: set[int] = field(default_factory=set)
    trainers: set[int] = field(default_factory=set)
    races_with_runners: set[int] = field(default_factory=set)
    dead_heats: set[tuple[int, int]] = field(default_factory=set)
    races: int = 0
    runs: int = 0
    # The converted frames of a small pair, kept for the write (`FRAMES_KEPT_RUNS`).
    race_frames: list[pd.DataFrame] | None = None
    run_frames: list[pd.DataFrame] | None = None


def hkracing_import(
    *,
    races_file: TextIO,
    runs_file: TextIO,
    races_name: str = "races.csv",
    runs_name: str = "runs.csv",
    progress: bool = False,
    on_progress: Callable[[str], None] | None = None,
) -> HkracingImportReport:
    """Import a Hong Kong results pair, all or nothing, idempotently.

    The first pass reads every row and checks it; any error rejects the whole pair before a single
    write. The second pass re-reads the files (so memory stays bounded by a chunk, not the file)
    and upserts on (source, external id) inside one transaction, counting what really changed.
    On PostgreSQL a plain pair (`races.hkracing_frames`) is checked a column at a time and
    written through COPY and set-based upserts; any other pair, and every pair elsewhere, row by
    row through the ORM.
    Imports take turns (`hkracing_import_lock`): two at once would each miss the rows the other
    is creating. `progress` draws bars on a terminal; `on_progress` is told each stage in words.
    """
    on_progress = on_progress or (lambda text: None)
    pair = _Pair(races_file, runs_file, races_name, runs_name)
    write = _hkracing_write
    checked = None
    if connection.vendor == "postgresql":
        try:
            checked = _hkracing_frames_check(pair=pair, on_progress=on_progress)
            write = _hkracing_copy_write
        except hkracing_frames.FramesUnplain:
            races_file.seek(0)
            runs_file.seek(0)
    if checked is None:
        checked = _hkracing_check(pair=pair, progress=progress, on_progress=on_progress)
    races_file.seek(0)
    runs_file.seek(0)
    # Said before the transaction: what is written inside it shows to no one until the commit.
    on_progress(
        f"checked {checked.races:,} races and {checked.runs:,} runners without an error; "
        "writing them in one transaction (after any other import ends)"
    )
    try:
        with transaction.atomic():
            hkracing_import_lock()
            report = write(checked=checked, pair=pair, progress=progress)
            # Here, not only in the writers below: however the rows get in, cached cards go.
            races_cache_invalidate()
            if any(counts.created or counts.updated for counts in report.counts.values()):
                # A re-import that changed nothing leaves the statistics as they were.
                transaction.on_commit(race_tables_analyze)
                # Whoever tells of declarations and results (accounts' alerts).
                transaction.on_commit(partial(race_data_stored.send, sender=Race))
    except IntegrityError as exc:
        # Validation covers the files themselves; this is a clash with rows already stored
        # under other sources (e.g. a race slot entered by hand).
        error = RowError(runs_name, None, None, f"the database refused the import: {exc}")
        raise HkracingImportRejected([error], 1) from exc
    return report


def hkracing_folder_import(*, folder: Path, progress: bool = False) -> HkracingImportReport:
    """Import the pair in `folder`, for the command and the file provider alike.

    `hkracing.FileMissing` when a file is missing; `UnicodeDecodeError` when one is not UTF-8.
    """
    with hkracing.folder_open(folder) as (races_file, runs_file):
        return hkracing_import(
            races_file=races_file,
            runs_file=runs_file,
            races_name=races_file.name,
            runs_name=runs_file.name,
            progress=progress,
        )


# pg_advisory_xact_lock's key for "a Hong Kong import is writing"; any number no other lock uses.
HKRACING_IMPORT_LOCK = 4_807_301


def hkracing_import_lock() -> None:
    """Wait until no other Hong Kong import is writing, then hold that turn until this
    transaction ends (commit, rollback, or a lost connection).

    PostgreSQL only: SQLite has one writer at a time anyway (a second import waits, or fails with
    "database is locked" and writes nothing; it never interleaves).
    """
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [HKRACING_IMPORT_LOCK])


# The tables a runner points to, whose keys a first load sets aside.
REFERENCED = (Race, Horse, Jockey, Trainer)
# How long a first load waits for the locks that setting the keys aside takes, before it checks
# them row by row instead.
KEYS_LOCK_TIMEOUT = "2s"


@contextmanager
def runner_keys_set_aside_when_empty() -> Iterator[None]:
    """On a load into an empty runner table, drop its foreign keys (to the race, horse, jockey
    and trainer) for the load and add them back after it, as they were.

    Each key is then checked once for the whole table, by one join, instead of once a row at the
    commit, which was the largest single part of a first import of the Hong Kong set. It is the
    PostgreSQL manual's advice for a bulk load ("Populating a Database"), and it is
    transactional: an import that fails leaves the keys as they were, and a row that breaks a
    key fails the import. Dropping a key locks the runner table and the tables it points to until
    the commit, so this is done only where no runner is stored at all (a new platform's first
    load), and only if the locks come within `KEYS_LOCK_TIMEOUT`; otherwise, or where the tables
    have changes still to be checked in this transaction, the keys stay and are checked row by
    row. Call inside the import's transaction, after `hkracing_import_lock`.
    """
    table = Runner._meta.db_table
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT EXISTS (SELECT 1 FROM {table})")
        keys = {} if cursor.fetchone()[0] else runner_foreign_keys(cursor)
        try:
            if keys:
                with transaction.atomic():
                    cursor.execute(f"SET LOCAL lock_timeout = '{KEYS_LOCK_TIMEOUT}'")
                    drops = [f"DROP CONSTRAINT {quote(name)}" for name in keys]
                    cursor.execute(f"ALTER TABLE {table} {', '.join(drops)}")
                    cursor.execute("SET LOCAL lock_timeout = DEFAULT")
        except OperationalError:  # a lock not granted in time, or changes still to check
            keys = {}
        yield
        if keys:
            adds = [f"ADD CONSTRAINT {quote(name)} {text}" for name, text in keys.items()]
            cursor.execute(f"ALTER TABLE {table} {', '.join(adds)}")


def runner_foreign_keys(cursor: Any) -> dict[str, str]:
    """The runner table's foreign keys to `REFERENCED`'s tables, each name to its definition as
    PostgreSQL would write it again (`DEFERRABLE INITIALLY DEFERRED` included)."""
    cursor.execute(
        "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
        "WHERE contype = 'f' AND conrelid = %s::regclass AND confrelid = ANY(%s::regclass[]) "
        "ORDER BY conname",
        [Runner._meta.db_table, [model._meta.db_table for model in REFERENCED]],
    )
    return dict(cursor.fetchall())


def race_tables_analyze() -> None:
    """Refresh PostgreSQL's planner statistics of the race tables.

    After a bulk import they are stale until autovacuum gets to them (never, where it is off):
    the planner then takes the 5,324 settled races for 5 and a jockey page's strike rates go from
    ~20 ms to ~800 ms a query. Other databases need nothing. JSON columns (sections) are left
    out: no query filters or joins on them, and they were a third of the time.
    """
    if connection.vendor != "postgresql":
        return
    quote = connection.ops.quote_name
    tables = []
    for model in (Race, Runner, Horse, Jockey, Trainer):
        columns = [
            quote(field.column)
            for field in model._meta.concrete_fields
            if not isinstance(field, models.JSONField)
        ]
        tables.append(f"{model._meta.db_table} ({', '.join(columns)})")
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {', '.join(tables)}")


PROGRESS_EVERY = 20_000  # rows between two progress reports


def _hkracing_check(
    *,
    pair: _Pair,
    progress: bool,
    on_progress: Callable[[str], None],
) -> _Checked:
    errors = ErrorLog()
    checked = _Checked()
    race_lines: dict[int, int] = {}
    slot_lines: dict[tuple[str, Any, int], int] = {}
    for row in hkracing.read_rows(
        pair.races_file, file=pair.races_name, columns=hkracing.RACE_COLUMNS, errors=errors
    ):
        values = row.values
        race_id = values["race_id"]
        if race_id in race_lines:
            message = f"race {race_id} is already on line {race_lines[race_id]}"
            errors.append(RowError(pair.races_name, row.line, "race_id", message))
            continue
        race_lines[race_id] = row.line
        slot = (values["venue"], values["date"], values["race_no"])
        if slot in slot_lines:
            message = (
                f"race {values['race_no']} at {values['venue']} on {values['date']} "
                f"is already on line {slot_lines[slot]}"
            )
            errors.append(RowError(pair.races_name, row.line, "race_no", message))
        slot_lines[slot] = row.line
    # With no readable race at all (a broken header), every run would be "unknown": say it once.
    races_readable = bool(race_lines) or not errors
    checked.races = len(race_lines)
    on_progress(f"checking {pair.runs_name}: {checked.races:,} races read")

    horse_lines: dict[tuple[int, int], int] = {}
    saddle_lines: dict[tuple[int, int], int] = {}
    positions: Counter[tuple[int, int]] = Counter()
    rows = hkracing.read_rows(
        pair.runs_file, file=pair.runs_name, columns=hkracing.RUN_COLUMNS, errors=errors
    )
    for read, row in enumerate(
        tqdm(rows, desc="checking runs", unit=" rows", disable=not progress), start=1
    ):
        if read % PROGRESS_EVERY == 0:
            on_progress(f"checking {pair.runs_name}: {read:,} rows read")
        values = row.values
        race_id = values["race_id"]
        if races_readable and race_id not in race_lines:
            message = f"race {race_id} is not in {pair.races_name}"
            errors.append(RowError(pair.runs_name, row.line, "race_id", message))
            continue
        key = (race_id, values["horse_id"])
        if key in horse_lines:
            message = f"horse {key[1]} already runs in race {race_id} on line {horse_lines[key]}"
            errors.append(RowError(pair.runs_name, row.line, "horse_id", message))
            continue
        horse_lines[key] = row.line
        key = (race_id, values["horse_no"])
        if key in saddle_lines:
            message = (
                f"number {key[1]} is already taken in race {race_id} on line {saddle_lines[key]}"
            )
            errors.append(RowError(pair.runs_name, row.line, "horse_no", message))
            continue
        saddle_lines[key] = row.line
        if (values["won"] == "1") != (values["result"] == 1):
            message = f"won is {values['won']} but result is {values['result']}"
            errors.append(RowError(pair.runs_name, row.line, "won", message))
            continue
        positions[(race_id, values["result"])] += 1
        checked.races_with_runners.add(race_id)
        checked.horses[values["horse_id"]] = {
            "country": values["horse_country"],
            "sex": sex_choice(values["horse_type"]),
        }
        checked.jockeys.add(values["jockey_id"])
        checked.trainers.add(values["trainer_id"])
        checked.runs += 1

    if errors:
        raise HkracingImportRejected(errors.first, errors.total)
    checked.dead_heats = {key for key, count in positions.items() if count > 1}
    return checked


def _hkracing_write(
    *,
    checked: _Checked,
    pair: _Pair,
    progress: bool,
) -> HkracingImportReport:
    report = HkracingImportReport()
    errors = ErrorLog()  # stays empty: the files were checked; the readers need somewhere to write

    course_pks = _racecourses_upsert(report)

    people = {
        "horses": (Horse, {str(pk): values for pk, values in checked.horses.items()}),
        "jockeys": (Jockey, {str(pk): {} for pk in checked.jockeys}),
        "trainers": (Trainer, {str(pk): {} for pk in checked.trainers}),
    }
    pks: dict[str, dict[str, int]] = {}
    for name, (model, rows) in people.items():
        report.counts[name], pks[name] = records_upsert(model, rows, source=SOURCE)
    horse_pks, jockey_pks, trainer_pks = pks["horses"], pks["jockeys"], pks["trainers"]

    report.counts["races"] = UpsertCounts()
    race_pks: dict[str, int] = {}
    race_rows = hkracing.read_rows(
        pair.races_file, file=pair.races_name, columns=hkracing.RACE_COLUMNS, errors=errors
    )
    for chunk in _chunks(race_rows):
        rows = {}
        for row in chunk:
            values = row.values
            has_runners = values["race_id"] in checked.races_with_runners
            report.races_without_runners += not has_runners
            rows[str(values["race_id"])] = {
                "racecourse_id": course_pks[values["venue"]],
                "meeting_date": values["date"],
                "race_number": values["race_no"],
                "distance_m": values["distance"],
                "surface": values["surface"],
                "going": going_choice(values["going"]),
                "race_class": values["race_class"],
                "rating_band": values["horse_ratings"],
                "prize": values["prize"],
                "prize_currency": "HKD" if values["prize"] is not None else "",
                "rail": values["config"],
                "status": Race.Status.RESULT if has_runners else Race.Status.ABANDONED,
                "sectional_times": hkracing.sections(values, "sec_time", hkracing.RACE_SECTIONS),
            }
        counts, chunk_pks = records_upsert(
            Race, rows, source=SOURCE, natural_key=("meeting_date", "racecourse_id", "race_number")
        )
        report.counts["races"].add(counts)
        race_pks.update(chunk_pks)

    report.counts["runners"] = UpsertCounts()
    run_rows = hkracing.read_rows(
        pair.runs_file, file=pair.runs_name, columns=hkracing.RUN_COLUMNS, errors=errors
    )
    bar = tqdm(total=checked.runs, desc="writing runners", unit=" runners", disable=not progress)
    for chunk in _chunks(run_rows):
        rows = {}
        for row in chunk:
            values = row.values
            win_odds = values["win_odds"]
            if win_odds <= 1:
                report.unusable_win_odds += 1
                win_odds = None
            dead_heat = (values["race_id"], values["result"]) in checked.dead_heats
            report.dead_heat_runners += dead_heat
            rows[f"{values['race_id']}:{values['horse_id']}"] = {
                "race_id": race_pks[str(values["race_id"])],
                "horse_id": horse_pks[str(values["horse_id"])],
                "jockey_id": jockey_pks[str(values["jockey_id"])],
                "trainer_id": trainer_pks[str(values["trainer_id"])],
                "saddle_number": values["horse_no"],
                "draw": values["draw"],
                "carried_weight_lb": values["actual_weight"],
                "declared_weight_lb": values["declared_weight"],
                "rating": values["horse_rating"],
                "age": values["horse_age"],
                "gear": "" if values["horse_gear"] == "--" else values["horse_gear"],
                "win_odds": win_odds,
                "place_odds": values["place_odds"],
                "finish_position": values["result"],
                "dead_heat": dead_heat,
                "lengths_behind": values["lengths_behind"],
                "finish_time": values["finish_time"],
                "section_positions": hkracing.sections(values, "position_sec", hkracing.SECTIONS),
                "section_lengths_behind": hkracing.sections(
                    values, "behind_sec", hkracing.SECTIONS
                ),
                "section_times": hkracing.sections(values, "time", hkracing.SECTIONS),
                "non_runner": False,
            }
        counts, _ = records_upsert(
            Runner, rows, source=SOURCE, natural_key=("race_id", "saddle_number")
        )
        report.counts["runners"].add(counts)
        bar.update(len(rows))
    bar.close()
    return report


# A pair of up to this many runs keeps its checked frames for the write, which then reads
# nothing again (the Hong Kong set, 66,637 runs, takes about 60 MB so); a larger pair is read
# again a chunk at a time, so that its memory stays bounded by a chunk.
FRAMES_KEPT_RUNS = 100_000

# Keys of a run packed into one int64 (race id high, the other low) for the frames' checks:
# 16 bytes a run instead of two tuples in dicts, so the check's memory stays small.
KEY_SHIFT = 32


def _hkracing_frames_check(*, pair: _Pair, on_progress: Callable[[str], None]) -> _Checked:
    """`_hkracing_check` a column at a time; `FramesUnplain` where it cannot tell, errors
    included (the row check then names them)."""
    checked = _Checked(race_frames=[], run_frames=[])
    for frame in hkracing_frames.frames_read(pair.races_file, hkracing_frames.RACE_COLUMNS):
        checked.race_frames.append(frame)
    races = (
        pd.concat([f[["race_id", "venue", "date", "race_no"]] for f in checked.race_frames])
        if checked.race_frames
        else None
    )
    if races is None or races["race_id"].duplicated().any():
        raise hkracing_frames.FramesUnplain
    if races.duplicated(["venue", "date", "race_no"]).any():
        raise hkracing_frames.FramesUnplain
    race_ids = races["race_id"].to_numpy("int64")
    checked.races = len(race_ids)
    on_progress(f"checking {pair.runs_name}: {checked.races:,} races read")

    horse_keys, saddle_keys, result_keys, runner_races = [], [], [], []
    horses, jockeys, trainers = [], [], []
    for frame in hkracing_frames.frames_read(pair.runs_file, hkracing_frames.RUN_COLUMNS):
        race_id = frame["race_id"].to_numpy("int64")
        horse_id = frame["horse_id"].to_numpy("int64")
        if not np.isin(race_id, race_ids).all():
            raise hkracing_frames.FramesUnplain
        if (race_id >= 2 ** (63 - KEY_SHIFT)).any() or (horse_id >= 2**KEY_SHIFT).any():
            raise hkracing_frames.FramesUnplain
        if ((frame["won"] == "1") != (frame["result"] == 1)).any():
            raise hkracing_frames.FramesUnplain
        high = race_id << KEY_SHIFT
        horse_keys.append(high | horse_id)
        saddle_keys.append(high | frame["horse_no"].to_numpy("int64"))
        result_keys.append(high | frame["result"].to_numpy("int64"))
        runner_races.append(np.unique(race_id))
        horses.append(
            frame[["horse_id", "horse_country", "horse_type"]].drop_duplicates(
                "horse_id", keep="last"
            )
        )
        jockeys.append(frame["jockey_id"].unique())
        trainers.append(frame["trainer_id"].unique())
        checked.runs += len(frame)
        if checked.runs <= FRAMES_KEPT_RUNS:
            checked.run_frames.append(frame)
        else:
            checked.race_frames = checked.run_frames = None
        on_progress(f"checking {pair.runs_name}: {checked.runs:,} rows read")
    if not checked.runs:
        raise hkracing_frames.FramesUnplain
    for keys in (horse_keys, saddle_keys):
        packed = np.concatenate(keys)
        if len(np.unique(packed)) != len(packed):
            raise hkracing_frames.FramesUnplain
    results, counts = np.unique(np.concatenate(result_keys), return_counts=True)
    checked.dead_heats = {
        (int(key >> KEY_SHIFT), int(key & (2**KEY_SHIFT - 1))) for key in results[counts > 1]
    }
    checked.races_with_runners = {int(race) for race in np.unique(np.concatenate(runner_races))}
    people = pd.concat(horses).drop_duplicates("horse_id", keep="last")
    sexes = {kind: sex_choice(kind) for kind in people["horse_type"].unique()}
    checked.horses = {
        int(horse): {"country": country, "sex": sexes[kind]}
        for horse, country, kind in people.itertuples(index=False)
    }
    checked.jockeys = {int(pk) for pk in np.unique(np.concatenate(jockeys))}
    checked.trainers = {int(pk) for pk in np.unique(np.concatenate(trainers))}
    return checked


def _racecourses_upsert(report: HkracingImportReport) -> dict[str, int]:
    """Sha Tin and Happy Valley, matched on their code where stored first; their keys by code."""
    courses = {
        code: {"code": code, "name": name, "country": "HK"}
        for code, name in hkracing.VENUES.items()
    }
    report.counts["racecourses"], course_pks = records_upsert(
        Racecourse, courses, source=SOURCE, natural_key=("code", "country")
    )
    return course_pks


def _hkracing_copy_write(*, checked: _Checked, pair: _Pair, progress: bool) -> HkracingImportReport:
    """`_hkracing_write` through COPY: the same rows and counts, for a pair the frames read; the
    runners' keys are set aside on a first load (`runner_keys_set_aside_when_empty`)."""
    with runner_keys_set_aside_when_empty():
        return _hkracing_copy_rows(checked=checked, pair=pair, progress=progress)


def _hkracing_copy_rows(*, checked: _Checked, pair: _Pair, progress: bool) -> HkracingImportReport:
    report = HkracingImportReport()
    course_pks = _racecourses_upsert(report)

    people = {
        "horses": (
            Horse,
            pd.DataFrame(
                [
                    (str(pk), values["country"], values["sex"])
                    for pk, values in checked.horses.items()
                ],
                columns=["external_id", "country", "sex"],
            ),
        ),
        "jockeys": (Jockey, pd.DataFrame({"external_id": [str(pk) for pk in checked.jockeys]})),
        "trainers": (
            Trainer,
            pd.DataFrame({"external_id": [str(pk) for pk in checked.trainers]}),
        ),
    }
    pks: dict[str, dict[int, int]] = {}
    for name, (model, frame) in people.items():
        report.counts[name], keys = records_copy_upsert(
            model, [frame], source=SOURCE, with_pks=True
        )
        pks[name] = {int(key): pk for key, pk in keys.items()}

    with_runners = np.fromiter(checked.races_with_runners, dtype="int64")
    goings = {}

    def race_frames() -> Iterator[pd.DataFrame]:
        frames = checked.race_frames
        if frames is None:
            frames = hkracing_frames.frames_read(pair.races_file, hkracing_frames.RACE_COLUMNS)
        for frame in frames:
            has_runners = np.isin(frame["race_id"].to_numpy("int64"), with_runners)
            report.races_without_runners += int((~has_runners).sum())
            for going in frame["going"].unique():
                goings.setdefault(going, going_choice(going))
            yield pd.DataFrame(
                {
                    "external_id": frame["race_id"].astype(str),
                    "racecourse_id": frame["venue"].map(course_pks),
                    "meeting_date": frame["date"],
                    "race_number": frame["race_no"],
                    "distance_m": frame["distance"],
                    "surface": frame["surface"],
                    "going": frame["going"].map(goings),
                    "race_class": frame["race_class"],
                    "rating_band": frame["horse_ratings"],
                    "prize": frame["prize"],
                    "prize_currency": np.where(frame["prize"].notna(), "HKD", ""),
                    "rail": frame["config"],
                    "status": np.where(has_runners, Race.Status.RESULT, Race.Status.ABANDONED),
                    "sectional_times": _sections_json(frame, "sec_time", hkracing.RACE_SECTIONS),
                }
            )

    report.counts["races"], race_keys = records_copy_upsert(
        Race,
        race_frames(),
        source=SOURCE,
        natural_key=("meeting_date", "racecourse_id", "race_number"),
        with_pks=True,
    )
    race_pks = {int(key): pk for key, pk in race_keys.items()}
    dead_heats = np.array(
        [(race << KEY_SHIFT) | result for race, result in checked.dead_heats], dtype="int64"
    )

    def runner_frames() -> Iterator[pd.DataFrame]:
        chunks = checked.run_frames
        if chunks is None:
            chunks = hkracing_frames.frames_read(pair.runs_file, hkracing_frames.RUN_COLUMNS)
        for frame in tqdm(chunks, desc="writing runners", unit=" chunks", disable=not progress):
            unusable = frame["win_odds"] <= 1
            report.unusable_win_odds += int(unusable.sum())
            race_id = frame["race_id"].to_numpy("int64")
            dead_heat = np.isin(
                (race_id << KEY_SHIFT) | frame["result"].to_numpy("int64"), dead_heats
            )
            report.dead_heat_runners += int(dead_heat.sum())
            external_ids = [
                f"{race}:{horse}"
                for race, horse in zip(race_id.tolist(), frame["horse_id"].tolist(), strict=True)
            ]
            yield pd.DataFrame(
                {
                    "external_id": pd.Series(external_ids, index=frame.index, dtype=object),
                    "race_id": frame["race_id"].map(race_pks),
                    "horse_id": frame["horse_id"].map(pks["horses"]),
                    "jockey_id": frame["jockey_id"].map(pks["jockeys"]),
                    "trainer_id": frame["trainer_id"].map(pks["trainers"]),
                    "saddle_number": frame["horse_no"],
                    "draw": frame["draw"],
                    "carried_weight_lb": frame["actual_weight"],
                    "declared_weight_lb": frame["declared_weight"],
                    "rating": frame["horse_rating"],
                    "age": frame["horse_age"],
                    "gear": frame["horse_gear"].mask(frame["horse_gear"] == "--", ""),
                    "win_odds": frame["win_odds"].mask(unusable),
                    "place_odds": frame["place_odds"],
                    "finish_position": frame["result"],
                    "dead_heat": dead_heat,
                    "lengths_behind": frame["lengths_behind"],
                    "finish_time": frame["finish_time"],
                    "section_positions": _sections_json(frame, "position_sec", hkracing.SECTIONS),
                    "section_lengths_behind": _sections_json(
                        frame, "behind_sec", hkracing.SECTIONS
                    ),
                    "section_times": _sections_json(frame, "time", hkracing.SECTIONS),
                    "non_runner": False,
                }
            )

    report.counts["runners"], _ = records_copy_upsert(
        Runner, runner_frames(), source=SOURCE, natural_key=("race_id", "saddle_number")
    )
    return report


def _sections_json(frame: pd.DataFrame, prefix: str, numbers: range) -> pd.Series:
    """`hkracing.sections` of every row, as JSON text.

    NumPy writes a number as Python's repr does (json's form); rows are grouped by how many
    sections they keep once trailing blanks are dropped, and each group is joined column-wise.
    """
    columns = [frame[f"{prefix}{i}"] for i in numbers]
    kind = "int64" if isinstance(columns[0].dtype, pd.Int64Dtype) else "float64"
    blank = np.column_stack([column.isna().to_numpy() for column in columns])
    tokens = [
        np.where(blank[:, j], "null", column.to_numpy(kind, na_value=0).astype(str))
        for j, column in enumerate(columns)
    ]
    kept = np.where(blank.all(axis=1), 0, len(columns) - np.argmin(blank[:, ::-1], axis=1))
    texts = np.full(len(frame), "[]", dtype=object)
    for count in range(1, len(columns) + 1):
        rows = kept == count
        if rows.any():
            text = tokens[0][rows]
            for token in tokens[1:count]:
                text = np.char.add(np.char.add(text, ", "), token[rows])
            texts[rows] = np.char.add(np.char.add("[", text), "]")
    return pd.Series(texts, index=frame.index, dtype=object)


def _chunks(rows: Iterable[ParsedRow], size: int = CHUNK_SIZE) -> Iterator[list[ParsedRow]]:
    iterator = iter(rows)
    while chunk := list(islice(iterator, size)):
        yield chunk
