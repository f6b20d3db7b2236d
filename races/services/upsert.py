"""The generic upsert: rows keyed by (source, external id), matched on a natural key otherwise."""

from __future__ import annotations

import hashlib
import io
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import pandas as pd
from django.db import connection, models
from django.utils import timezone

from races.models import EXTERNAL_ID_LENGTH

from .cache import races_cache_invalidate

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


def external_id_fit(text: str) -> str:
    """The provider's key, shortened with a digest where it would not fit the column."""
    if len(text) <= EXTERNAL_ID_LENGTH:
        return text
    digest = hashlib.sha1(text.encode(), usedforsecurity=False).hexdigest()[:12]
    return f"{text[: EXTERNAL_ID_LENGTH - 13]}:{digest}"


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
    if to_create or to_update:
        races_cache_invalidate()  # bulk writes send no signals
    counts.created = len(to_create)
    counts.updated = len(to_update)
    return counts, pks


def records_copy_upsert(
    model: type[models.Model],
    frames: Iterable[pd.DataFrame],
    *,
    source: str,
    natural_key: tuple[str, ...] = (),
    with_pks: bool = False,
) -> tuple[UpsertCounts, dict[str, int]]:
    """`records_upsert` for PostgreSQL at the database's own speed, on frames of rows.

    Each frame holds `external_id` and model columns by attname (JSON as its text), the same
    columns in every frame. They are copied into a temporary table and written set-based: rows
    stored under `source` exactly as staged are taken off it (unchanged, so neither locked nor
    rewritten); rows unknown under `source` whose natural key is taken are updated in place (they
    keep their own source and external id); the rest go through INSERT ... ON CONFLICT (source,
    external_id) DO UPDATE ... WHERE changed, so `updated_at` changes only on rows that did. The
    counts come from the database. Returns each external id's primary key when `with_pks` (the
    keys of a model that other rows point to), else an empty dict.
    """
    counts = UpsertCounts()
    table = model._meta.db_table
    stage = f"pg_temp.{connection.ops.quote_name(table + '_stage')}"  # never a real table
    fields_by_column = {f.attname: f for f in model._meta.concrete_fields}
    staged: list[str] | None = None
    with connection.cursor() as cursor:
        for frame in frames:
            if staged is None:
                staged = [column for column in frame.columns if column != "external_id"]
                _stage_create(cursor, table, stage, ["external_id", *staged])
            texts = [
                column
                for column in ["external_id", *staged]
                if fields_by_column[column].get_internal_type() in ("CharField", "TextField")
            ]
            buffer = io.StringIO()
            frame.to_csv(buffer, columns=["external_id", *staged], header=False, index=False)
            buffer.seek(0)
            with connection.wrap_database_errors:
                cursor.copy_expert(
                    f"COPY {stage} ({_names(['external_id', *staged])}) FROM STDIN "
                    f"WITH (FORMAT csv, FORCE_NOT_NULL ({_names(texts)}))",
                    buffer,
                )
        if staged is None:
            return counts, {}
        # Statistics of the columns the joins below match on, or the planner guesses blindly.
        cursor.execute(f"ANALYZE {stage} ({_names(['external_id', *natural_key])})")
        cursor.execute(f"SELECT count(*) FROM {stage}")
        total = cursor.fetchone()[0]
        stamped = "updated_at" in fields_by_column
        now = timezone.now()
        pks = _unchanged_unstage(cursor, table, stage, staged, source=source, with_pks=with_pks)
        if natural_key:
            counts.updated += _natural_key_update(
                cursor,
                table,
                stage,
                staged,
                natural_key,
                source=source,
                now=now if stamped else None,
            )
        created, updated = _stage_upsert(
            cursor, model, stage, staged, source=source, now=now if stamped else None
        )
        counts.created, counts.updated = created, counts.updated + updated
        counts.unchanged = total - counts.created - counts.updated
        if with_pks:
            cursor.execute(
                f"SELECT s.external_id, COALESCE(s.stage_pk, t.id) FROM {stage} AS s "
                f"LEFT JOIN {table} AS t ON t.source = %s AND t.external_id = s.external_id",
                [source],
            )
            pks.update(cursor.fetchall())
    return counts, pks


def _names(columns: Iterable[str]) -> str:
    return ", ".join(connection.ops.quote_name(column) for column in columns)


def _stage_create(cursor: Any, table: str, stage: str, columns: list[str]) -> None:
    # The stage has the table's column types (no constraints); stage_pk is the stored row a
    # natural key matched. Dropped at the commit, and first if this transaction made one already.
    cursor.execute(f"DROP TABLE IF EXISTS {stage}")
    cursor.execute(
        f"CREATE TEMPORARY TABLE {stage} ON COMMIT DROP AS "
        f"SELECT id AS stage_pk, {_names(columns)} FROM {table} WITH NO DATA"
    )


def _qualified(alias: str, columns: Iterable[str]) -> str:
    return ", ".join(f"{alias}.{connection.ops.quote_name(column)}" for column in columns)


def _changed(left: str, right: str, columns: list[str]) -> str:
    """SQL that is true where row `left` differs from row `right` in `columns` (NULLs alike)."""
    return f"ROW({_qualified(left, columns)}) IS DISTINCT FROM ROW({_qualified(right, columns)})"


def _unchanged_unstage(
    cursor: Any, table: str, stage: str, staged: list[str], *, source: str, with_pks: bool
) -> dict[str, int]:
    """Take the rows stored under `source` exactly as staged off the stage (they count as
    unchanged), so that the upsert neither locks nor rewrites them; returns their keys if asked."""
    cursor.execute(
        f"DELETE FROM {stage} AS s USING {table} AS t WHERE t.source = %s "
        f"AND t.external_id = s.external_id AND NOT {_changed('t', 's', staged)}"
        + (" RETURNING s.external_id, t.id" if with_pks else ""),
        [source],
    )
    return dict(cursor.fetchall()) if with_pks else {}


def _natural_key_update(
    cursor: Any,
    table: str,
    stage: str,
    staged: list[str],
    natural_key: tuple[str, ...],
    *,
    source: str,
    now: Any,
) -> int:
    """Point staged rows unknown under `source` at the stored row holding their natural key,
    update those that differ, and return how many did."""
    matches = " AND ".join(
        f"t.{name} = s.{name}" for name in map(connection.ops.quote_name, natural_key)
    )
    cursor.execute(
        f"UPDATE {stage} AS s SET stage_pk = t.id FROM {table} AS t WHERE {matches} "
        f"AND NOT EXISTS (SELECT 1 FROM {table} AS o "
        f"WHERE o.source = %s AND o.external_id = s.external_id)",
        [source],
    )
    if not cursor.rowcount:
        return 0
    assignments = [f"{name} = s.{name}" for name in map(connection.ops.quote_name, staged)]
    params = []
    if now is not None:
        assignments.append("updated_at = %s")
        params.append(now)
    cursor.execute(
        f"UPDATE {table} AS t SET {', '.join(assignments)} FROM {stage} AS s "
        f"WHERE t.id = s.stage_pk AND {_changed('t', 's', staged)}",
        params,
    )
    return cursor.rowcount


def _stage_upsert(
    cursor: Any, model: type[models.Model], stage: str, staged: list[str], *, source: str, now: Any
) -> tuple[int, int]:
    """Insert the staged rows no natural key matched, or update the stored row under (source,
    external id) where it differs; return how many were created and updated."""
    table = model._meta.db_table
    # Columns the frames do not carry get their model defaults on insert and are left alone on
    # update, as bulk_create and bulk_update do.
    defaults = {
        f.column: f.get_db_prep_save(f.get_default(), connection)
        for f in model._meta.concrete_fields
        if f.attname not in {"id", "source", "external_id", "updated_at", *staged}
    }
    stamp = {"updated_at": now} if now is not None else {}
    columns = ["source", "external_id", *staged, *defaults, *stamp]
    values = ["%s", "external_id", *map(connection.ops.quote_name, staged)]
    values += ["%s"] * (len(defaults) + len(stamp))
    updates = [
        f"{name} = EXCLUDED.{name}" for name in map(connection.ops.quote_name, [*staged, *stamp])
    ]
    # A row of nothing but its key (a jockey known by id alone) has nothing to update.
    on_conflict = (
        f"DO UPDATE SET {', '.join(updates)} WHERE {_changed('t', 'EXCLUDED', staged)}"
        if staged
        else "DO NOTHING"
    )
    cursor.execute(
        f"WITH written AS (INSERT INTO {table} AS t ({_names(columns)}) "
        f"SELECT {', '.join(values)} FROM {stage} WHERE stage_pk IS NULL "
        "ON CONFLICT (source, external_id) WHERE NOT (external_id = '') "
        f"{on_conflict} RETURNING (xmax = 0) AS inserted) "
        "SELECT count(*) FILTER (WHERE inserted), count(*) FILTER (WHERE NOT inserted) "
        "FROM written",
        [source, *defaults.values(), *stamp.values()],
    )
    return cursor.fetchone()
