"""Structured logs: one JSON line per record, each carrying the id of the request behind it.

The id is born (or accepted from the proxy) in RequestLogMiddleware, returned as X-Request-ID,
travels to Celery in a message header of every task the request enqueues, and is set again in the
worker while the task runs, so `grep <id>` follows one request from the web process into the worker.
"""

import contextvars
import json
import logging
import re
import sys
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime

import sentry_sdk
from django.db import DatabaseError
from django.http import HttpRequest, HttpResponse

REQUEST_ID_HEADER = "X-Request-ID"
TASK_HEADER = "hrp_request_id"
# What the proxy or a client may hand in; anything else could forge or flood the log lines.
SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")

request_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "request_id", default=None
)

request_logger = logging.getLogger("hrp.request")
task_logger = logging.getLogger("hrp.task")

# Attributes every LogRecord has; anything else was passed through `extra=` and is logged too.
_RECORD_ATTRIBUTES = frozenset(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {
    "message",
    "asctime",
    "request_id",
}


class RequestIdFilter(logging.Filter):
    """Stamp every record with the current request id (None outside requests and tasks)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = request_id_var.get()
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, request_id, then the extras."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, tz=UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", None),
        }
        for key, value in record.__dict__.items():
            if key not in _RECORD_ATTRIBUTES and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["exc_info"] = self.formatException(record.exc_info)
        if record.stack_info:
            entry["stack_info"] = self.formatStack(record.stack_info)
        return json.dumps(entry, default=str)


def request_id_from(header: str | None) -> str:
    if header and SANE_REQUEST_ID.fullmatch(header):
        return header
    return uuid.uuid4().hex


def _user_id(request: HttpRequest) -> int | None:
    user = getattr(request, "user", None)
    if user is None:
        return None
    try:
        return user.pk if user.is_authenticated else None
    except DatabaseError:
        return None  # the session could not be read; the response already says why


class RequestLogMiddleware:
    """Log one line per request and return its id. Outermost, so it times everything below it.

    Successful health probes are left out: the platform sends several a minute per container.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        # Here, not at the top: this module loads with the Celery app, before Django's apps.
        from .middleware import HEALTH_CHECKS

        self.get_response = get_response
        self.health_paths = frozenset(HEALTH_CHECKS)

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request_id = request_id_from(request.headers.get(REQUEST_ID_HEADER))
        token = request_id_var.set(request_id)
        # Ties a Sentry report to the log lines (a no-op while Sentry is off).
        sentry_sdk.set_tag("request_id", request_id)
        started = time.perf_counter()
        try:
            response = self.get_response(request)
            response[REQUEST_ID_HEADER] = request_id
            if not (request.path_info in self.health_paths and response.status_code < 400):
                request_logger.info(
                    "%s %s %s",
                    request.method,
                    request.path,
                    response.status_code,
                    extra={
                        "method": request.method,
                        "path": request.path,
                        "status": response.status_code,
                        "duration_ms": round((time.perf_counter() - started) * 1000, 1),
                        "user_id": _user_id(request),
                    },
                )
            return response
        finally:
            request_id_var.reset(token)


# Celery signal receivers, connected in hrp_site/celery.py.

_task_runs: dict[str, tuple[float, contextvars.Token]] = {}


def add_request_id_header(headers: dict | None = None, **kwargs) -> None:
    request_id = request_id_var.get()
    if headers is not None and request_id:
        headers[TASK_HEADER] = request_id


def task_started(task_id: str, task, **kwargs) -> None:
    # A request's own header, else the request around an eager call, else the task's own id
    # (periodic tasks from beat have no request).
    request_id = getattr(task.request, TASK_HEADER, None) or request_id_var.get() or task_id
    token = request_id_var.set(request_id)
    sentry_sdk.set_tag("request_id", request_id)
    _task_runs[task_id] = (time.perf_counter(), token)
    task_logger.info(
        "task %s started",
        task.name,
        extra={"task": task.name, "task_id": task_id, "event": "started"},
    )


def task_finished(
    task_id: str, task, state: str | None = None, retval: object = None, **kwargs
) -> None:
    started, token = _task_runs.pop(task_id, (None, None))
    duration_ms = None if started is None else round((time.perf_counter() - started) * 1000, 1)
    error = retval if isinstance(retval, BaseException) else None
    if state is None:
        # An eager call that propagates its exception leaves Celery no state; the exception is
        # still on its way out of the task (this runs in Celery's `finally`).
        error = sys.exc_info()[1]
    outcome = "failure" if state is None and error else (state or "unknown").lower()
    extra = {
        "task": task.name,
        "task_id": task_id,
        "event": "finished",
        "outcome": outcome,
        "duration_ms": duration_ms,
    }
    if error is not None:
        extra["error"] = f"{type(error).__name__}: {error}"[:500]
    task_logger.log(
        logging.ERROR if outcome == "failure" else logging.INFO,
        "task %s %s",
        task.name,
        outcome,
        extra=extra,
    )
    if token is not None:
        request_id_var.reset(token)
