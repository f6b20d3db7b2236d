"""Skipping a test whose outside part is missing, except where that part is required.

Each part has a flag: HRP_REQUIRE_BROWSER (the system Chromium), HRP_REQUIRE_FAULTS (the
binaries of the outage tests), HRP_REQUIRE_SHARED_DATA (../shared/data and ../shared/tools) and
HRP_REQUIRE_POSTGRESQL (a PostgreSQL DATABASE_URL). `.ci/run` sets them all, so that a missing
part fails CI instead of passing there quietly as a skip.
"""

from __future__ import annotations

import os
from typing import NoReturn

import pytest
from django.db import connection


def skip_unless_required(flag: str, reason: str) -> NoReturn:
    """Skip the test for `reason`, or fail it when the environment variable `flag` is set."""
    __tracebackhide__ = True  # the report names the test's line, not this one
    if os.environ.get(flag):
        pytest.fail(f"{flag} is set, and {reason}")
    pytest.skip(reason)


def require_postgresql(reason: str) -> None:
    """Skip (or fail, under HRP_REQUIRE_POSTGRESQL) a test that needs PostgreSQL."""
    __tracebackhide__ = True
    if connection.vendor != "postgresql":
        skip_unless_required("HRP_REQUIRE_POSTGRESQL", f"{reason} (DATABASE_URL is not one)")
