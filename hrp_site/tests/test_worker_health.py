"""The worker's liveness endpoint answers from its heartbeat (a real worker: test_logs.py)."""

import json
import logging
import time
import urllib.error
import urllib.request
from types import SimpleNamespace

import pytest

from hrp_site.testing.headers import STRICT_POLICY, csp_directives
from hrp_site.testing.processes import free_port
from hrp_site.worker_health import WorkerLiveness


class ManualTimer:
    """The worker's timer, minus the event loop: the test fires the heartbeat itself."""

    def call_repeatedly(self, seconds, function, priority=0):
        return SimpleNamespace(cancel=lambda: None)


@pytest.fixture
def liveness(settings):
    settings.HRP_WORKER_HEALTH_PORT = free_port()
    settings.HRP_WORKER_HEALTH_STALE_SECONDS = 30.0
    worker = SimpleNamespace(timer=ManualTimer())
    step = WorkerLiveness(worker)
    step.start(worker)
    yield step
    step.stop(worker)


def probe(port, *, headers=None):
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/health/live/", timeout=5) as answer:
            if headers is not None:
                headers.update(answer.headers)
            return answer.status, json.load(answer)
    except urllib.error.HTTPError as error:
        return error.code, json.load(error)


def test_a_fresh_heartbeat_is_alive(liveness):
    assert probe(liveness.port) == (200, {"status": "ok"})


def test_the_answer_carries_the_security_headers(liveness):
    headers = {}

    probe(liveness.port, headers=headers)

    assert csp_directives(headers) == STRICT_POLICY
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["Referrer-Policy"] == "same-origin"
    assert headers["Permissions-Policy"].startswith("accelerometer=(), ")


def test_a_stale_heartbeat_is_503_until_the_loop_beats_again(liveness, caplog):
    # given: the worker's loop has not run for 45 s
    liveness.last_beat = time.monotonic() - 45

    with caplog.at_level(logging.WARNING, logger="hrp_site.worker_health"):
        stale = probe(liveness.port)
    liveness.beat()

    # then: the answer is the status alone; the reason is in the log
    assert stale == (503, {"status": "unavailable"})
    logged = [
        (r.levelname, r.getMessage()) for r in caplog.records if r.name == "hrp_site.worker_health"
    ]
    assert logged == [("WARNING", "not alive: no heartbeat for 45 s")]
    assert probe(liveness.port) == (200, {"status": "ok"})


def test_the_endpoint_is_off_without_a_port(settings):
    settings.HRP_WORKER_HEALTH_PORT = 0

    step = WorkerLiveness(SimpleNamespace(timer=ManualTimer()))

    assert step.include_if(None) is False
