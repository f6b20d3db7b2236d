"""The generic upsert: rows keyed by (source, external id), matched on a natural key otherwise."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from django.db import models
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
