"""Writes to the race data: imports and their upserts."""

from __future__ import annotations

import datetime
import hashlib
import io
import logging
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from itertools import islice
from typing import Any, TextIO

from django.db import (
    IntegrityError,
    InterfaceError,
    OperationalError,
    connection,
    models,
    transaction,
)
from django.utils import timezone
from tqdm import tqdm

from hrp_site.queueing import task_send_on_commit

from . import hkracing
from .hkracing import ErrorLog, ParsedRow, RowError
from .models import (
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
from .providers.base import ProviderTransientError, RaceCard, RaceResult
from .providers.hkcsv import HkracingFileProvider
from .providers.registry import ProviderNotConfigured, provider_get, provider_missing_settings

logger = logging.getLogger(__name__)

SOURCE = ExternalRecord.Source.HKRACING
CHUNK_SIZE = 5_000
BATCH_SIZE = 1_000


@dataclass
class UpsertCounts:
    created: int = 0
    updated: int = 0
    unchanged: int = 0

    def add(self, other: UpsertCounts) -> None:
        self.created += other.created
        self.updated += other.updated
        self.unchanged += other.unchanged

    @property
    def changed(self) -> int:
        return self.created + self.updated


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
    Imports take turns (`hkracing_import_lock`): two at once would each miss the rows the other
    is creating. `progress` draws bars on a terminal; `on_progress` is told each stage in words.
    """
    on_progress = on_progress or (lambda text: None)
    checked = _hkracing_check(
        races_file=races_file,
        runs_file=runs_file,
        races_name=races_name,
        runs_name=runs_name,
        progress=progress,
        on_progress=on_progress,
    )
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
            report = _hkracing_write(
                checked=checked,
                races_file=races_file,
                runs_file=runs_file,
                races_name=races_name,
                runs_name=runs_name,
                progress=progress,
            )
            transaction.on_commit(race_tables_analyze)
    except IntegrityError as exc:
        # Validation covers the files themselves; this is a clash with rows already stored
        # under other sources (e.g. a race slot entered by hand).
        error = RowError(runs_name, None, None, f"the database refused the import: {exc}")
        raise HkracingImportRejected([error], 1) from exc
    return report


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


# --- staff uploads of the Hong Kong pair, imported by a worker -----------------------------------

# pg_try_advisory_lock's key space for "a worker is running upload n": the session holding it
# is alive, since PostgreSQL drops a session's locks when its connection goes.
HKRACING_UPLOAD_LOCK = 4_807_302
# A job whose worker was lost this many times (killed mid-import, say by the OOM killer) is
# failed rather than handed to yet another worker.
HKRACING_UPLOAD_MAX_ATTEMPTS = 3
UPLOAD_TRANSIENT = (OperationalError, InterfaceError)
# A job still queued or running this long after it was uploaded has no worker left to end it:
# its message was lost, or a hard time limit killed its last attempt (Celery acks that one).
# Three attempts take 10 minutes each at most (the task's time limit) and 30 s between them.
UPLOAD_STALE_AFTER = datetime.timedelta(hours=2)


def hkracing_upload_create(
    *,
    races_name: str,
    races_data: bytes,
    runs_name: str,
    runs_data: bytes,
    uploaded_by: Any = None,
) -> HkracingUpload:
    """Store a staff upload of the pair and import it in the background, after the commit.

    If the broker cannot take the task the job is failed at once with the reason and
    `QueueingError` is raised (see `task_send_on_commit`: from here outside a transaction).
    """
    from .tasks import import_hkracing_upload_task  # the task calls these services

    upload = HkracingUpload.objects.create(
        races_name=races_name,
        races_data=races_data,
        runs_name=runs_name,
        runs_data=runs_data,
        uploaded_by=uploaded_by,
    )
    task_send_on_commit(
        import_hkracing_upload_task,
        upload_id=upload.pk,
        on_error=lambda exc: _hkracing_upload_end(
            upload, status=HkracingUpload.Status.FAILED, error=str(exc)
        ),
    )
    return upload


def hkracing_upload_import(*, upload_id: int, will_retry: bool = False) -> HkracingUpload:
    """Import a stored upload: the job's one run, whoever delivers its task.

    A job that already ended, or that a live worker is importing, is returned as it is. A job
    left running by a lost worker is taken over (the import is all or nothing, so its first
    attempt wrote nothing), up to HKRACING_UPLOAD_MAX_ATTEMPTS. Rejected files end the job failed
    with their errors; any other error too, unless it is transient and `will_retry`.
    """
    with _hkracing_upload_claim(upload_id=upload_id) as upload:
        if upload is None:
            return HkracingUpload.objects.defer("races_data", "runs_data").get(pk=upload_id)
        data = HkracingUpload.objects.values("races_data", "runs_data").get(pk=upload_id)
        try:
            report = hkracing_import(
                races_file=_text(data["races_data"]),
                runs_file=_text(data["runs_data"]),
                races_name=upload.races_name,
                runs_name=upload.runs_name,
                on_progress=lambda text: _hkracing_upload_progress(upload, text),
            )
        except HkracingImportRejected as exc:
            _hkracing_upload_end(
                upload,
                status=HkracingUpload.Status.FAILED,
                error=f"Nothing was imported: {exc}",
                errors=[str(error) for error in exc.errors],
            )
            return upload
        except Exception as exc:
            if will_retry and isinstance(exc, UPLOAD_TRANSIENT):
                _hkracing_upload_progress(upload, f"this attempt failed and will be retried: {exc}")
            else:
                error = f"Nothing was imported: {str(exc) or type(exc).__name__}"
                _hkracing_upload_end(upload, status=HkracingUpload.Status.FAILED, error=error)
            raise
        _hkracing_upload_end(
            upload, status=HkracingUpload.Status.SUCCEEDED, summary=report.summary_lines()
        )
        return upload


@contextmanager
def _hkracing_upload_claim(*, upload_id: int) -> Iterator[HkracingUpload | None]:
    """Claim an upload for this worker: yields the job, marked running, or None when there is
    nothing to do; on PostgreSQL holds the job's session lock until the block ends."""
    locked = False
    try:
        upload = HkracingUpload.objects.defer("races_data", "runs_data").get(pk=upload_id)
        if upload.is_finished:
            yield None  # a redelivery of a job that ended
            return
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT pg_try_advisory_lock(%s, %s)", [HKRACING_UPLOAD_LOCK, upload_id]
                )
                locked = cursor.fetchone()[0]
            if not locked:
                yield None  # a live worker is importing it (a duplicate delivery)
                return
            upload.refresh_from_db(fields=["status", "attempts"])
            if upload.is_finished:
                yield None
                return
        yield _hkracing_upload_start(upload)
    finally:
        if locked:
            try:
                with connection.cursor() as cursor:
                    cursor.execute(
                        "SELECT pg_advisory_unlock(%s, %s)", [HKRACING_UPLOAD_LOCK, upload_id]
                    )
            except UPLOAD_TRANSIENT:
                pass  # the connection is gone, and the session's locks with it


def _hkracing_upload_start(upload: HkracingUpload) -> HkracingUpload | None:
    unfinished = upload.status == HkracingUpload.Status.RUNNING  # a lost worker, or a retry
    if unfinished and upload.attempts >= HKRACING_UPLOAD_MAX_ATTEMPTS:
        error = (
            f"Nothing was imported: none of its {upload.attempts} attempts finished (was the "
            "worker killed? the files may need more memory or time than a worker has)"
        )
        _hkracing_upload_end(upload, status=HkracingUpload.Status.FAILED, error=error)
        return None
    upload.status = HkracingUpload.Status.RUNNING
    upload.attempts += 1
    upload.started_at = timezone.now()
    upload.progress = f"attempt {upload.attempts}: reading the files"
    upload.save(update_fields=["status", "attempts", "started_at", "progress"])
    return upload


def hkracing_uploads_expire(*, now: datetime.datetime | None = None) -> int:
    """Fail the uploads that no worker will end (see UPLOAD_STALE_AFTER)."""
    now = now or timezone.now()
    return HkracingUpload.objects.filter(
        status__in=[HkracingUpload.Status.QUEUED, HkracingUpload.Status.RUNNING],
        uploaded_at__lt=now - UPLOAD_STALE_AFTER,
    ).update(
        status=HkracingUpload.Status.FAILED,
        error=f"Nothing was imported: no worker ended the import within {UPLOAD_STALE_AFTER}",
        progress="",
        finished_at=now,
    )


def _text(data: bytes | memoryview) -> TextIO:
    # The form checked the bytes decode; utf-8-sig also drops the mark spreadsheets save first.
    return io.TextIOWrapper(io.BytesIO(bytes(data)), encoding="utf-8-sig", newline="")


def _hkracing_upload_progress(upload: HkracingUpload, text: str) -> None:
    upload.progress = text[:200]
    HkracingUpload.objects.filter(pk=upload.pk).update(progress=upload.progress)


def _hkracing_upload_end(
    upload: HkracingUpload, *, status: str, error: str = "", **outcome: Any
) -> None:
    upload.status = status
    upload.error = error
    upload.progress = ""
    upload.finished_at = timezone.now()
    for name, value in outcome.items():
        setattr(upload, name, value)
    upload.save(update_fields=["status", "error", "progress", "finished_at", *outcome])


def race_tables_analyze() -> None:
    """Refresh PostgreSQL's planner statistics of the race tables.

    After a bulk import they are stale until autovacuum gets to them (never, where it is off):
    the planner then takes the 5,324 settled races for 5 and a jockey page's strike rates go from
    ~20 ms to ~800 ms a query. Other databases need nothing.
    """
    if connection.vendor != "postgresql":
        return
    tables = ", ".join(model._meta.db_table for model in (Race, Runner, Horse, Jockey, Trainer))
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {tables}")


PROGRESS_EVERY = 20_000  # rows between two progress reports


def _hkracing_check(
    *,
    races_file: TextIO,
    runs_file: TextIO,
    races_name: str,
    runs_name: str,
    progress: bool,
    on_progress: Callable[[str], None],
) -> _Checked:
    errors = ErrorLog()
    checked = _Checked()
    race_lines: dict[int, int] = {}
    slot_lines: dict[tuple[str, Any, int], int] = {}
    for row in hkracing.read_rows(
        races_file, file=races_name, columns=hkracing.RACE_COLUMNS, errors=errors
    ):
        values = row.values
        race_id = values["race_id"]
        if race_id in race_lines:
            message = f"race {race_id} is already on line {race_lines[race_id]}"
            errors.append(RowError(races_name, row.line, "race_id", message))
            continue
        race_lines[race_id] = row.line
        slot = (values["venue"], values["date"], values["race_no"])
        if slot in slot_lines:
            message = (
                f"race {values['race_no']} at {values['venue']} on {values['date']} "
                f"is already on line {slot_lines[slot]}"
            )
            errors.append(RowError(races_name, row.line, "race_no", message))
        slot_lines[slot] = row.line
    # With no readable race at all (a broken header), every run would be "unknown": say it once.
    races_readable = bool(race_lines) or not errors
    checked.races = len(race_lines)
    on_progress(f"checking {runs_name}: {checked.races:,} races read")

    horse_lines: dict[tuple[int, int], int] = {}
    saddle_lines: dict[tuple[int, int], int] = {}
    positions: Counter[tuple[int, int]] = Counter()
    rows = hkracing.read_rows(
        runs_file, file=runs_name, columns=hkracing.RUN_COLUMNS, errors=errors
    )
    for read, row in enumerate(
        tqdm(rows, desc="checking runs", unit=" rows", disable=not progress), start=1
    ):
        if read % PROGRESS_EVERY == 0:
            on_progress(f"checking {runs_name}: {read:,} rows read")
        values = row.values
        race_id = values["race_id"]
        if races_readable and race_id not in race_lines:
            message = f"race {race_id} is not in {races_name}"
            errors.append(RowError(runs_name, row.line, "race_id", message))
            continue
        key = (race_id, values["horse_id"])
        if key in horse_lines:
            message = f"horse {key[1]} already runs in race {race_id} on line {horse_lines[key]}"
            errors.append(RowError(runs_name, row.line, "horse_id", message))
            continue
        horse_lines[key] = row.line
        key = (race_id, values["horse_no"])
        if key in saddle_lines:
            message = (
                f"number {key[1]} is already taken in race {race_id} on line {saddle_lines[key]}"
            )
            errors.append(RowError(runs_name, row.line, "horse_no", message))
            continue
        saddle_lines[key] = row.line
        if (values["won"] == "1") != (values["result"] == 1):
            message = f"won is {values['won']} but result is {values['result']}"
            errors.append(RowError(runs_name, row.line, "won", message))
            continue
        positions[(race_id, values["result"])] += 1
        checked.races_with_runners.add(race_id)
        checked.horses[values["horse_id"]] = {
            "country": values["horse_country"],
            "sex": values["horse_type"],
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
    races_file: TextIO,
    runs_file: TextIO,
    races_name: str,
    runs_name: str,
    progress: bool,
) -> HkracingImportReport:
    report = HkracingImportReport()
    errors = ErrorLog()  # stays empty: the files were checked; the readers need somewhere to write

    courses = {
        code: {"code": code, "name": name, "country": "HK"}
        for code, name in hkracing.VENUES.items()
    }
    report.counts["racecourses"], course_pks = records_upsert(
        Racecourse, courses, source=SOURCE, natural_key=("code", "country")
    )

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
        races_file, file=races_name, columns=hkracing.RACE_COLUMNS, errors=errors
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
                "going": values["going"],
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
        runs_file, file=runs_name, columns=hkracing.RUN_COLUMNS, errors=errors
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


def _chunks(rows: Iterable[ParsedRow], size: int = CHUNK_SIZE) -> Iterator[list[ParsedRow]]:
    iterator = iter(rows)
    while chunk := list(islice(iterator, size)):
        yield chunk


def _has_field(model: type[models.Model], name: str) -> bool:
    return any(field.name == name for field in model._meta.concrete_fields)


def records_upsert(
    model: type[models.Model],
    rows: dict[str, dict[str, Any]],
    *,
    source: str,
    natural_key: tuple[str, ...] = (),
) -> tuple[UpsertCounts, dict[str, int]]:
    """Create or update rows keyed by external id; leave identical rows untouched.

    A row not yet known under our source is matched on its natural key (a course's code, a race's
    slot), so data that another provider or a member of staff stored first is updated in place
    and keeps its own source and external id. Every row of one call carries the same fields.
    Returns the counts and each external id's primary key.
    """
    counts = UpsertCounts()
    if not rows:
        return counts, {}
    fields = list(next(iter(rows.values())))
    columns = ("pk", "source", "external_id", *fields)
    known = model.objects.filter(source=source, external_id__in=list(rows)).values(*columns)
    existing = {stored["external_id"]: stored for stored in known}
    unknown = [values for key, values in rows.items() if key not in existing]
    by_natural_key = {}
    if natural_key and unknown:
        first = natural_key[0]
        candidates = model.objects.filter(
            **{f"{first}__in": {values[first] for values in unknown}}
        ).values(*columns)
        by_natural_key = {tuple(c[name] for name in natural_key): c for c in candidates}

    to_create, to_update, pks = [], [], {}
    # bulk_update skips auto_now fields; readers of changed rows rely on the stamp.
    stamp = {"updated_at": timezone.now()} if _has_field(model, "updated_at") else {}
    for external_id, values in rows.items():
        stored = existing.get(external_id) or by_natural_key.get(
            tuple(values.get(name) for name in natural_key)
        )
        if stored is None:
            to_create.append(model(source=source, external_id=external_id, **values))
            continue
        pks[external_id] = stored["pk"]
        if any(stored[name] != value for name, value in values.items()):
            to_update.append(model(pk=stored["pk"], **values, **stamp))
        else:
            counts.unchanged += 1
    model.objects.bulk_create(to_create, batch_size=BATCH_SIZE)
    if to_update:
        model.objects.bulk_update(to_update, [*fields, *stamp], batch_size=BATCH_SIZE)
    pks.update((obj.external_id, obj.pk) for obj in to_create)
    counts.created = len(to_create)
    counts.updated = len(to_update)
    return counts, pks


PROVIDER_SOURCES = {
    "theracingapi": ExternalRecord.Source.THERACINGAPI,
    "betfair": ExternalRecord.Source.BETFAIR,
    "hkracing": ExternalRecord.Source.HKRACING,
}
EXTERNAL_ID_LENGTH = 64


# A provider's 5xx or time-out (after the client's own retries) and a lost database connection
# are worth another try later; a 4xx, bad JSON or bad data is not.
SYNC_TRANSIENT = (ProviderTransientError, OperationalError, InterfaceError)
# A sync row still queued or running this long after it was written has no worker left to end
# it (its message was lost, or the worker died and the message with it): longer than the four
# attempts of 10 minutes at most and their back-off (1 + 2 + 4 minutes), plus time in the queue.
SYNC_STALE_AFTER = datetime.timedelta(hours=2)


def provider_sync(
    *, provider: str, day: datetime.date, sync_id: int | None = None, will_retry: bool = False
) -> ProviderSync:
    """Fetch a provider's racecards and results for a day and store them; record the run either
    way.

    The sync row (the queued one `sync_id` names, or a new one) is marked running before any work
    and outside the store's transaction, so every failure is recorded with its error and
    re-raised for the caller or the task's retry. When `will_retry` and the error is transient
    the row stays running, its error saying that another attempt follows; otherwise it ends
    failed. A re-fetch updates rows in place; a runner that left the card is marked a
    non-runner, never deleted. The stored races' predictions are refreshed after the commit.
    """
    # predictions imports races
    from predictions.services.enqueue import predictions_enqueue_refresh

    sync = _provider_sync_start(provider=provider, day=day, sync_id=sync_id)
    if sync.status != ProviderSync.Status.RUNNING:
        return sync  # a redelivery of a sync that already ended
    try:
        # Inside the try: a provider unconfigured since the sync was queued fails the row.
        client = provider_get(provider)
        source = PROVIDER_SOURCES[provider]
        if isinstance(client, HkracingFileProvider):
            report = client.file_import()
            counts = {
                f"{name}_{kind}": getattr(counted, kind)
                for name, counted in report.counts.items()
                if name in ("races", "runners")
                for kind in ("created", "updated", "unchanged")
            }
            counts["non_runners_marked"] = 0
            counts |= dict.fromkeys(RESULT_COUNTS, 0)
        else:
            cards = client.racecards(day)
            results = client.results(day)
            with transaction.atomic():
                counts, race_pks = _cards_store(cards, source=source)
                counts |= race_results_store(results=results, source=source, race_pks=race_pks)
                race_ids = sorted(race_pks.values())
                # The synced cards get every model's predictions once they are stored.
                predictions_enqueue_refresh(race_ids=race_ids)
    except Exception as exc:
        # Any failure is recorded; only the task decides which ones are worth a retry.
        if will_retry and isinstance(exc, SYNC_TRANSIENT):
            sync.error = f"this attempt failed and will be retried: {exc}"
            sync.save(update_fields=["error"])
        else:
            sync.status = ProviderSync.Status.FAILED
            sync.error = str(exc) or type(exc).__name__
            sync.finished_at = timezone.now()
            sync.save(update_fields=["status", "error", "finished_at"])
        raise
    sync.status = ProviderSync.Status.SUCCEEDED
    sync.counts = counts
    sync.error = ""
    sync.finished_at = timezone.now()
    sync.save(update_fields=["status", "counts", "error", "finished_at"])
    return sync


def _provider_sync_start(*, provider: str, day: datetime.date, sync_id: int | None) -> ProviderSync:
    """The sync's row, marked running; an ended row is returned as it is, for an early return."""
    if sync_id is None:
        return ProviderSync.objects.create(provider=provider, day=day)
    with transaction.atomic():
        sync = ProviderSync.objects.select_for_update().get(pk=sync_id)
        if sync.status in (ProviderSync.Status.QUEUED, ProviderSync.Status.RUNNING):
            sync.status = ProviderSync.Status.RUNNING
            sync.started_at = timezone.now()
            sync.save(update_fields=["status", "started_at"])
    return sync


def provider_sync_enqueue(*, provider: str, day: datetime.date) -> ProviderSync:
    """Sync a provider's day in the background, after the commit.

    Refused up front (`ProviderNotConfigured`, nothing written) when the provider is not
    configured. Otherwise the sync is written "queued" for whoever polls; if the broker cannot
    take the task, the row is failed at once with the reason ("could not be queued: ...") and
    `QueueingError` is raised (see `task_send_on_commit`: from here outside a transaction).
    """
    from .tasks import sync_provider_task  # the task calls these services

    missing = provider_missing_settings(provider)
    if missing:
        raise ProviderNotConfigured(provider, missing)
    sync = provider_sync_create(provider=provider, day=day)
    task_send_on_commit(
        sync_provider_task,
        provider=provider,
        day=day.isoformat(),
        sync_id=sync.pk,
        on_error=lambda exc: _provider_sync_not_queued(sync=sync, reason=str(exc)),
    )
    return sync


def provider_sync_create(*, provider: str, day: datetime.date) -> ProviderSync:
    """A queued sync's row, written before its task is sent."""
    return ProviderSync.objects.create(
        provider=provider, day=day, status=ProviderSync.Status.QUEUED
    )


def _provider_sync_not_queued(*, sync: ProviderSync, reason: str) -> None:
    sync.status = ProviderSync.Status.FAILED
    sync.error = reason
    sync.finished_at = timezone.now()
    sync.save(update_fields=["status", "error", "finished_at"])


def provider_syncs_expire(*, now: datetime.datetime | None = None) -> int:
    """Fail the syncs that no worker will end (see SYNC_STALE_AFTER), so their poll ends."""
    now = now or timezone.now()
    return ProviderSync.objects.filter(
        status__in=[ProviderSync.Status.QUEUED, ProviderSync.Status.RUNNING],
        started_at__lt=now - SYNC_STALE_AFTER,
    ).update(
        status=ProviderSync.Status.FAILED,
        error=f"no worker ended this sync within {SYNC_STALE_AFTER}; it was given up",
        finished_at=now,
    )


def _external_id(text: str) -> str:
    """The provider's key, shortened with a digest where it would not fit the column."""
    if len(text) <= EXTERNAL_ID_LENGTH:
        return text
    digest = hashlib.sha1(text.encode(), usedforsecurity=False).hexdigest()[:12]
    return f"{text[: EXTERNAL_ID_LENGTH - 13]}:{digest}"


def _cards_store(cards: list[RaceCard], *, source: str) -> tuple[dict[str, int], dict[str, int]]:
    courses = {
        _external_id(card.course_external_id): {
            "code": card.course_code,
            "name": card.course_name,
            "country": card.course_country,
        }
        for card in cards
    }
    _, course_pks = records_upsert(
        Racecourse, courses, source=source, natural_key=("code", "country")
    )
    runners = [runner for card in cards for runner in card.runners]
    horses = {
        _external_id(r.horse_external_id): {
            "name": r.horse_name,
            "country": r.horse_country,
            "sex": r.horse_sex,
        }
        for r in runners
    }
    _, horse_pks = records_upsert(Horse, horses, source=source)
    jockeys = {
        _external_id(r.jockey_external_id): {"name": r.jockey_name}
        for r in runners
        if r.jockey_external_id
    }
    _, jockey_pks = records_upsert(Jockey, jockeys, source=source)
    trainers = {
        _external_id(r.trainer_external_id): {"name": r.trainer_name}
        for r in runners
        if r.trainer_external_id
    }
    _, trainer_pks = records_upsert(Trainer, trainers, source=source)

    races = {
        _external_id(card.external_id): {
            "racecourse_id": course_pks[_external_id(card.course_external_id)],
            "meeting_date": card.date,
            "race_number": card.race_number,
            "post_time": card.off_time,
            "name": card.name,
            "distance_m": card.distance_m,
            "surface": card.surface,
            "going": card.going,
            "race_class": card.race_class,
            "rating_band": card.rating_band,
            "prize": card.prize,
            "prize_currency": card.prize_currency,
        }
        for card in cards
    }
    race_counts, race_pks = records_upsert(
        Race, races, source=source, natural_key=("meeting_date", "racecourse_id", "race_number")
    )

    stored = list(
        Runner.objects.filter(race_id__in=race_pks.values()).values(
            "pk", "race_id", "horse_id", "saddle_number"
        )
    )
    stored_numbers = {(r["race_id"], r["horse_id"]): r["saddle_number"] for r in stored}
    rows = {}
    for card in cards:
        race_pk = race_pks[_external_id(card.external_id)]
        taken = {r["saddle_number"] for r in stored if r["race_id"] == race_pk}
        taken |= {r.saddle_number for r in card.runners if r.saddle_number}
        for runner in card.runners:
            horse_pk = horse_pks[_external_id(runner.horse_external_id)]
            number = runner.saddle_number or stored_numbers.get((race_pk, horse_pk))
            if number is None:
                # A non-runner the card no longer numbers: a number clear of the field's.
                number = max(taken, default=0) + 1
                taken.add(number)
            key = _external_id(f"{card.external_id}:{runner.horse_external_id}")
            rows[key] = {
                "race_id": race_pk,
                "horse_id": horse_pk,
                "jockey_id": jockey_pks.get(_external_id(runner.jockey_external_id)),
                "trainer_id": trainer_pks.get(_external_id(runner.trainer_external_id)),
                "saddle_number": number,
                "draw": runner.draw,
                "carried_weight_lb": runner.weight_lb,
                "rating": runner.rating,
                "age": runner.age,
                "gear": runner.gear,
                "win_odds": runner.win_odds,
                "non_runner": runner.non_runner,
            }
    runner_counts, runner_pks = records_upsert(
        Runner, rows, source=source, natural_key=("race_id", "horse_id")
    )
    gone = (
        Runner.objects.filter(race_id__in=race_pks.values(), non_runner=False)
        .exclude(pk__in=runner_pks.values())
        .update(
            non_runner=True,
            finish_position=None,
            dead_heat=False,
            lengths_behind=None,
            finish_time=None,
            updated_at=timezone.now(),
        )
    )
    counts = {
        "races_created": race_counts.created,
        "races_updated": race_counts.updated,
        "races_unchanged": race_counts.unchanged,
        "runners_created": runner_counts.created,
        "runners_updated": runner_counts.updated,
        "runners_unchanged": runner_counts.unchanged,
        "non_runners_marked": gone,
    }
    return counts, race_pks


RESULT_COUNTS = (
    "races_settled",
    "races_abandoned",
    "results_unchanged",
    "results_without_placings",
    "results_unmatched",
)


def race_results_store(
    *, results: list[RaceResult], source: str, race_pks: dict[str, int] | None = None
) -> dict[str, int]:
    """Settle or abandon the races a provider's results name, idempotently.

    A result finds its race by the id the provider's racecard carried: under `source`, or in
    `race_pks` (the external id -> primary key map of the same sync's cards, which includes races
    that another source stored first). A settled race takes its placings; a runner left out of
    them did not finish. A settled race without any placing is left as it is and counted: every
    reader of results (training, form, strike rates) takes a starter without a position for a
    non-finisher, so storing it as a result would record a race in which nobody finished.
    """
    counts = dict.fromkeys(RESULT_COUNTS, 0)
    if not results:
        return counts
    by_key = {_external_id(result.external_id): result for result in results}
    pks = {key: pk for key, pk in (race_pks or {}).items() if key in by_key}
    unknown = [key for key in by_key if key not in pks]
    pks |= dict(
        Race.objects.filter(source=source, external_id__in=unknown).values_list("external_id", "pk")
    )
    counts["results_unmatched"] = len(by_key) - len(pks)
    to_settle = {}
    statuses = {}
    for key, pk in pks.items():
        result = by_key[key]
        if result.status == Race.Status.RESULT and not any(
            runner.finish_position for runner in result.runners
        ):
            counts["results_without_placings"] += 1
            continue
        statuses[pk] = result.status
        if result.status == Race.Status.RESULT:
            to_settle[pk] = result

    stamp = timezone.now()
    changed = [
        Race(pk=pk, status=statuses[pk], updated_at=stamp)
        for pk, status in Race.objects.filter(pk__in=list(statuses)).values_list("pk", "status")
        if status != statuses[pk]
    ]
    Race.objects.bulk_update(changed, ["status", "updated_at"], batch_size=BATCH_SIZE)
    placings_changed = _placings_store(to_settle, source=source, stamp=stamp)
    changed_pks = {race.pk for race in changed} | placings_changed
    for pk, status in statuses.items():
        if pk not in changed_pks:
            counts["results_unchanged"] += 1
        elif status == Race.Status.RESULT:
            counts["races_settled"] += 1
        else:
            counts["races_abandoned"] += 1
    return counts


def _placings_store(
    results: dict[int, RaceResult], *, source: str, stamp: datetime.datetime
) -> set[int]:
    """Write each settled race's placings onto its runners; return the races that changed."""
    horse_ids = {runner.horse_external_id for r in results.values() for runner in r.runners}
    horse_pks = dict(
        Horse.objects.filter(
            source=source, external_id__in=[_external_id(h) for h in horse_ids]
        ).values_list("external_id", "pk")
    )
    placings = {
        (race_pk, horse_pks.get(_external_id(runner.horse_external_id))): runner
        for race_pk, result in results.items()
        for runner in result.runners
    }
    fields = ("finish_position", "dead_heat", "non_runner")
    to_update, changed = [], set()
    stored = Runner.objects.filter(race_id__in=list(results)).values(
        "pk", "race_id", "horse_id", *fields
    )
    for row in stored:
        placing = placings.get((row["race_id"], row["horse_id"]))
        if placing is None:
            wanted = {"finish_position": None, "dead_heat": False, "non_runner": row["non_runner"]}
        elif placing.non_runner:
            wanted = {"finish_position": None, "dead_heat": False, "non_runner": True}
        else:
            wanted = {
                "finish_position": placing.finish_position,
                "dead_heat": placing.dead_heat and placing.finish_position is not None,
                "non_runner": False,
            }
        if any(row[name] != value for name, value in wanted.items()):
            to_update.append(Runner(pk=row["pk"], **wanted, updated_at=stamp))
            changed.add(row["race_id"])
    Runner.objects.bulk_update(to_update, [*fields, "updated_at"], batch_size=BATCH_SIZE)
    return changed
