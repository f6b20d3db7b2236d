"""Structured logs: a JSON line per request, its id in a header and in the tasks it enqueues."""

import contextlib
import io
import json
import logging
import os
import re
import sys
import time
import urllib.error
import urllib.request

import pytest
from celery import shared_task
from django.conf import settings

from hrp_site.logs import JsonFormatter, RequestIdFilter, request_id_var
from hrp_site.testing import processes
from hrp_site.testing.processes import free_port

HEX_UUID = re.compile(r"[0-9a-f]{32}")


@pytest.fixture
def log_lines():
    """What the root logger writes, through the same formatter and filter as production's."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RequestIdFilter())
    root = logging.getLogger()
    root.addHandler(handler)
    yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    root.removeHandler(handler)


def request_lines(lines):
    return [line for line in lines if line["logger"] == "hrp.request"]


@pytest.mark.django_db
def test_a_request_logs_one_json_line_and_returns_its_id(client, log_lines):
    # when
    response = client.get("/accounts/login/")

    # then
    (line,) = request_lines(log_lines())
    request_id = response["X-Request-ID"]
    assert HEX_UUID.fullmatch(request_id)
    assert line["request_id"] == request_id
    assert {key: line[key] for key in ("level", "method", "path", "status", "user_id")} == {
        "level": "INFO",
        "method": "GET",
        "path": "/accounts/login/",
        "status": 200,
        "user_id": None,
    }
    assert isinstance(line["duration_ms"], float)
    assert line["duration_ms"] >= 0


@pytest.mark.django_db
def test_a_signed_in_request_logs_the_user_id(client, member_user, log_lines):
    client.force_login(member_user)

    response = client.get("/", HTTP_X_REQUEST_ID="lb-7f3a.2_x")

    (line,) = request_lines(log_lines())
    assert response["X-Request-ID"] == "lb-7f3a.2_x"
    assert (line["request_id"], line["user_id"], line["status"]) == (
        "lb-7f3a.2_x",
        member_user.pk,
        200,
    )


@pytest.mark.django_db
@pytest.mark.parametrize(
    "incoming", ["x" * 65, "two words", 'quote"d', "line\nbreak", "<script>", ""]
)
def test_an_unsafe_incoming_request_id_is_replaced(client, log_lines, incoming):
    response = client.get("/accounts/login/", HTTP_X_REQUEST_ID=incoming)

    (line,) = request_lines(log_lines())
    assert HEX_UUID.fullmatch(response["X-Request-ID"])
    assert line["request_id"] == response["X-Request-ID"]


@pytest.mark.django_db
def test_successful_health_probes_are_not_logged_but_carry_an_id(client, log_lines):
    live = client.get("/health/live/")
    ready = client.get("/health/ready/")

    assert (live.status_code, ready.status_code) == (200, 200)
    assert HEX_UUID.fullmatch(live["X-Request-ID"])
    assert request_lines(log_lines()) == []


def refresh_requested(client, *, request_id: str):
    """Staff ask for a day's predictions to be refreshed, in a request with this id."""
    return client.post(
        "/api/v1/predictions/refresh/",
        {"date": "2024-03-02"},
        format="json",
        HTTP_X_REQUEST_ID=request_id,
    )


@pytest.mark.django_db(transaction=True)
def test_a_task_enqueued_by_a_request_logs_with_its_request_id(staff_api, celery_eager, log_lines):
    # when: the refresh is queued after the commit and, eagerly, runs inside the request
    response = refresh_requested(staff_api, request_id="req-eager-1")

    # then
    assert response.status_code == 202
    lines = log_lines()
    task_lines = [line for line in lines if line["logger"] == "hrp.task"]
    assert [(line["event"], line["task"]) for line in task_lines] == [
        ("started", "predictions.tasks.refresh_predictions_task"),
        ("finished", "predictions.tasks.refresh_predictions_task"),
    ]
    assert task_lines[1]["outcome"] == "success"
    assert {line["request_id"] for line in lines} == {"req-eager-1"}


def test_json_format_writes_one_object_per_line_on_stdout():
    # given: the settings as production has them, in a process of their own
    environment = {
        **os.environ,
        "DJANGO_LOG_FORMAT": "json",
        "DJANGO_DEBUG": "false",
        "DJANGO_SECRET_KEY": "a-test-only-secret-key-for-the-subprocess",
        "DJANGO_ALLOWED_HOSTS": "localhost",
    }
    script = (
        "import django, logging; django.setup(); "
        "logging.getLogger('hrp.check').warning('disk %s%% full', 91, extra={'disk': 'data'})"
    )

    # when
    result = processes.run([sys.executable, "-c", script], env=environment, check=True)

    # then
    (line,) = [json.loads(text) for text in result.stdout.splitlines()]
    assert {key: value for key, value in line.items() if key != "time"} == {
        "level": "WARNING",
        "logger": "hrp.check",
        "message": "disk 91% full",
        "request_id": None,
        "disk": "data",
    }
    assert result.stderr == ""


@pytest.fixture
def json_worker(celery_workers, publish_to_private_redis):
    """A real Celery worker on Redis, logging JSON to a file, with its liveness endpoint on."""
    port = free_port()
    worker = celery_workers(
        time_limit=settings.CELERY_TASK_TIME_LIMIT,
        pool="solo",
        env={
            "DJANGO_LOG_FORMAT": "json",
            "DJANGO_SECRET_KEY": "a-test-only-secret-key-for-the-worker",
            "HRP_WORKER_HEALTH_PORT": str(port),
        },
    )
    return worker, worker.log, port


def read_json_lines(path):
    lines = []
    for text in path.read_text().splitlines():
        # Celery's start-up banner is printed, not logged
        with contextlib.suppress(json.JSONDecodeError):
            lines.append(json.loads(text))
    return lines


@pytest.mark.django_db(transaction=True)
def test_a_real_worker_logs_the_task_with_the_request_id(staff_api, json_worker):
    # given
    worker, log_path, _port = json_worker

    # when
    response = refresh_requested(staff_api, request_id="req-worker-1")

    # then: the worker logs the task's start and finish with the request's id
    assert response.status_code == 202
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        task_lines = [line for line in read_json_lines(log_path) if line["logger"] == "hrp.task"]
        if len(task_lines) == 2:
            break
        time.sleep(0.2)
    assert [(line["event"], line["request_id"]) for line in task_lines] == [
        ("started", "req-worker-1"),
        ("finished", "req-worker-1"),
    ]
    assert task_lines[1]["outcome"] == "success"
    assert task_lines[0]["task_id"] == task_lines[1]["task_id"]
    assert task_lines[1]["task"] == "predictions.tasks.refresh_predictions_task"


@pytest.mark.django_db(transaction=True)
def test_a_real_worker_answers_its_liveness_probe(json_worker):
    _worker, _log_path, port = json_worker

    with urllib.request.urlopen(f"http://127.0.0.1:{port}/health/live/", timeout=5) as answer:
        assert (answer.status, json.load(answer)) == (200, {"status": "ok"})
    with pytest.raises(urllib.error.HTTPError) as missing:
        urllib.request.urlopen(f"http://127.0.0.1:{port}/other", timeout=5)
    assert missing.value.code == 404


@shared_task(name="hrp_site.tests.test_logs.failing_task")
def failing_task() -> None:
    raise ValueError("no such race card")


def test_a_failing_task_logs_its_outcome_and_error(log_lines):
    # given: a request id around the call, as inside a request
    token = request_id_var.set("req-failing-1")
    try:
        # when
        with pytest.raises(ValueError, match="no such race card"):
            failing_task.apply()
    finally:
        request_id_var.reset(token)

    # then
    task_lines = [line for line in log_lines() if line["logger"] == "hrp.task"]
    assert [(line["event"], line["request_id"]) for line in task_lines] == [
        ("started", "req-failing-1"),
        ("finished", "req-failing-1"),
    ]
    finished = task_lines[1]
    assert (finished["level"], finished["outcome"], finished["error"]) == (
        "ERROR",
        "failure",
        "ValueError: no such race card",
    )
    assert request_id_var.get() is None
