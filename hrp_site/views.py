import logging
import time

from django.db import DatabaseError, connection
from django.db.migrations.executor import MigrationExecutor
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.cache import add_never_cache_headers

from accounts.selectors import watchlist_home
from predictions.selectors import public_track_record

logger = logging.getLogger("hrp.health")

# Loading the migration graph costs ~10 ms; once every migration is applied it stays so until the
# next deploy (a new container), so a positive answer is reused a while. Pending is never reused.
MIGRATIONS_CHECKED_TTL = 60.0
_migrations_applied_at: float | None = None


def _health_response(payload: dict, *, status: int = 200) -> JsonResponse:
    response = JsonResponse(payload, status=status)
    add_never_cache_headers(response)
    return response


def _pending_migrations() -> list[str]:
    global _migrations_applied_at
    if (
        _migrations_applied_at is not None
        and time.monotonic() - _migrations_applied_at < MIGRATIONS_CHECKED_TTL
    ):
        return []
    executor = MigrationExecutor(connection)
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    pending = [f"{migration.app_label}.{migration.name}" for migration, _backwards in plan]
    _migrations_applied_at = None if pending else time.monotonic()
    return pending


def health_live(request: HttpRequest) -> JsonResponse:
    """Liveness: the process answers. Touches neither the database nor Redis, so an outage of
    either never gets a healthy container restarted."""
    return _health_response({"status": "ok"})


def health_ready(request: HttpRequest) -> JsonResponse:
    """Readiness: the database answers and every migration is applied, so requests can be served.

    The answer is the status alone (anyone can ask, addressed to any host); why an instance is not
    ready goes to the log."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except DatabaseError as error:
        logger.warning("not ready: database unreachable: %s", type(error).__name__)
        return _health_response({"status": "unavailable"}, status=503)
    try:
        pending = _pending_migrations()
    except DatabaseError as error:
        logger.warning("not ready: migrations unreadable: %s", type(error).__name__)
        return _health_response({"status": "unavailable"}, status=503)
    if pending:
        logger.warning("not ready: %d migrations pending: %s", len(pending), ", ".join(pending))
        return _health_response({"status": "unavailable"}, status=503)
    return _health_response({"status": "ok"})


def home(request: HttpRequest) -> HttpResponse:
    """Visitors get what HRP is and its public track record; members their watchlist."""
    if not request.user.is_authenticated:
        return render(request, "landing.html", {"track_record": public_track_record()})
    return render(request, "accounts/home.html", {"watchlist": watchlist_home(user=request.user)})
