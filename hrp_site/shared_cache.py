"""What every member sees alike (a race card's shared part, the race detail API's body, a race
day), built once and kept in the shared cache, under keys carrying generation stamps.

A reader names the generations its value depends on ("races": any race, runner, horse, jockey,
trainer or course; "versions": the model registry; "race:<pk>": that race's predictions). Each
generation has a stamp in the cache; a value is stored with the stamps it was built under, and a
writer replaces the stamps of what it changed (`generations_bump`), so the next reader finds the
stamps differ, builds afresh and stores the new value in place of the old.

Why stamps rather than deleting cached values or keying on max(updated_at):
- A writer need not know which keys (which sort orders, which model choices of which cards) hold
  what it changed; it names a generation.
- max(updated_at) does not see deletes nor queryset updates that leave the stamp alone, and
  costs a query over runners and predictions on every request; a stamp costs one cache read.
- bulk_create, bulk_update, update() and raw SQL send no signals: the services that write that
  way bump explicitly; signals bump for single saves and deletes (admin, API, shell).
- A stamp is a random token, not a counter: a stamp the cache evicted or lost comes back as a
  new token, never as one an old value was stored under.
- A bump happens at once and again when the transaction commits: a reader between the write and
  its commit reads the old rows and may store them under the new stamp; the second bump
  retires that value.

The cache failing (Redis down or hung) never fails a page: values are built uncached, and the
cache is left alone for `RETRY_AFTER_SECONDS` (as hrp_site.throttling does), so a hung Redis
costs one socket time-out per process, not one per request. A bump lost to a failure is made up
for when the cache answers again: the process bumps the "epoch" stamp, which every value is
checked against. Values also expire after `TIMEOUT`, which bounds what a bump lost for good (its
process gone) could leave stale.
"""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import Callable
from typing import TypeVar

from django.core.cache import cache
from django.db import transaction
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)

T = TypeVar("T")

TIMEOUT = 600  # seconds a built value is kept
RETRY_AFTER_SECONDS = 10.0
EPOCH = "epoch"

_skip_until = 0.0
_bump_lost = False


def _stamp_key(name: str) -> str:
    return f"gen:{name}"


def _token() -> str:
    return secrets.token_hex(6)


def _failed(error: Exception) -> None:
    global _skip_until
    _skip_until = time.monotonic() + RETRY_AFTER_SECONDS
    logger.warning(
        "Shared cache off for %.0f s: the cache is unreachable (%s: %s)",
        RETRY_AFTER_SECONDS,
        type(error).__name__,
        error,
    )


def _lookup(key: str, names: list[str]) -> tuple[tuple[str, ...], object]:
    """The current stamps of `names` and what `key` holds, in one round trip when the stamps
    exist (a missing one is made: no value can have been stored under it)."""
    global _bump_lost
    if _bump_lost:
        cache.set(_stamp_key(EPOCH), _token(), timeout=None)
        _bump_lost = False
    stamp_keys = [_stamp_key(name) for name in names]
    found = cache.get_many([*stamp_keys, key])
    missing = [stamp for stamp in stamp_keys if stamp not in found]
    if missing:
        for stamp in missing:
            # add, not set: another reader may have just made it.
            cache.add(stamp, _token(), timeout=None)
        found = cache.get_many(stamp_keys)
    return tuple(found[stamp] for stamp in stamp_keys), found.get(key)


def cached(key: str, *, generations: list[str], build: Callable[[], T]) -> T:
    """What `build()` returns, stored under `key` with the current stamps of `generations` and
    read back while they stay the same. `build` may raise (Http404, say): nothing is stored then.

    The value and the stamps it was built under are kept together, so a hit costs one round
    trip (the stamps and the value in one MGET) and a rebuild replaces the stale value.
    """
    if time.monotonic() < _skip_until:
        return build()
    key = f"shared:{key}"
    try:
        stamps, stored = _lookup(key, [EPOCH, *generations])
    except RedisError as error:
        _failed(error)
        return build()
    if stored is not None and stored[0] == stamps:
        return stored[1]
    value = build()
    try:
        cache.set(key, (stamps, value), TIMEOUT)
    except RedisError as error:
        _failed(error)
    return value


def generations_bump(*names: str) -> None:
    """New stamps for the generations `names`: now, and again once the transaction commits."""
    if not names:
        return

    def bump() -> None:
        global _bump_lost
        try:
            cache.set_many({_stamp_key(name): _token() for name in names}, timeout=None)
        except RedisError as error:
            _bump_lost = True
            _failed(error)

    bump()
    transaction.on_commit(bump)
