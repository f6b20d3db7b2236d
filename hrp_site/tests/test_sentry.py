"""Error reporting: a view's exception reaches Sentry when SENTRY_DSN is set, and nothing leaves
otherwise. A local HTTP server stands in for Sentry's ingest endpoint."""

import gzip
import json
import os
import sys
import threading
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from hrp_site.testing import processes
from hrp_site.testing.processes import free_port

# A view that fails, called through the WSGI application gunicorn serves (whole middleware stack).
FAILING_REQUEST = """
import sys, types, wsgiref.util
from django.core.wsgi import get_wsgi_application
from django.test import override_settings
from django.urls import path

application = get_wsgi_application()
import sentry_sdk

def boom(request):
    raise RuntimeError("the odds table is upside down")

# The site's own URLs and error handlers beside it: the 500 page links back to the cards.
import hrp_site.urls
urls = types.ModuleType("failing_urls")
urls.urlpatterns = [path("boom/", boom), *hrp_site.urls.urlpatterns]
urls.handler500 = hrp_site.urls.handler500
sys.modules["failing_urls"] = urls
environ = {"PATH_INFO": "/boom/", "HTTP_HOST": "localhost", "HTTP_X_REQUEST_ID": "req-sentry-1"}
wsgiref.util.setup_testing_defaults(environ)
statuses = []
with override_settings(ROOT_URLCONF="failing_urls"):
    b"".join(application(environ, lambda status, headers: statuses.append(status[:3])))
sentry_sdk.flush(timeout=10)
print(statuses[0], sentry_sdk.get_client().is_active())
"""

# A task that fails, traced by Celery as a worker traces it (eagerly here, in one process).
FAILING_TASK = """
import django
django.setup()
import sentry_sdk
from celery import shared_task
from hrp_site.logs import request_id_var

@shared_task(name="hrp_site.tests.failing_sentry_task")
def failing_sentry_task():
    raise ValueError("no runners declared")

request_id_var.set("req-task-1")
state = failing_sentry_task.apply(throw=False).state
sentry_sdk.flush(timeout=10)
print(state, sentry_sdk.get_client().is_active())
"""


class IngestHandler(BaseHTTPRequestHandler):
    def do_POST(self) -> None:  # noqa: N802
        body = self.rfile.read(int(self.headers["Content-Length"]))
        encoding = self.headers.get("Content-Encoding", "")
        if encoding == "gzip":
            body = gzip.decompress(body)
        elif encoding == "deflate":
            body = zlib.decompress(body)
        elif encoding == "br":
            import brotli

            body = brotli.decompress(body)
        self.server.received.append((self.path, body.decode()))
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, format, *args):  # noqa: A002
        pass


@pytest.fixture
def sentry_ingest():
    server = ThreadingHTTPServer(("127.0.0.1", free_port()), IngestHandler)
    server.received = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    thread.join(timeout=10)


def run_failing(script, environment_overrides):
    environment = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "hrp_site.settings",
        "DJANGO_SECRET_KEY": "a-test-only-secret-key-for-the-subprocess",
        "DJANGO_ALLOWED_HOSTS": "localhost",
    }
    environment.pop("SENTRY_DSN", None)
    environment.update(environment_overrides)
    result = processes.run([sys.executable, "-c", script], env=environment, check=True)
    return result.stdout.strip().splitlines()[-1]


def envelope_events(received):
    events = []
    for _path, body in received:
        lines = body.splitlines()
        for item_header, payload in zip(lines[1::2], lines[2::2], strict=False):
            if json.loads(item_header).get("type") == "event":
                events.append(json.loads(payload))
    return events


def test_an_error_in_a_view_reaches_sentry_when_a_dsn_is_set(sentry_ingest):
    # given
    port = sentry_ingest.server_address[1]

    # when
    outcome = run_failing(
        FAILING_REQUEST,
        {"SENTRY_DSN": f"http://publickey@127.0.0.1:{port}/1", "SENTRY_ENVIRONMENT": "ci"},
    )

    # then
    assert outcome == "500 True"
    assert {path for path, _body in sentry_ingest.received} == {"/api/1/envelope/"}
    (event,) = envelope_events(sentry_ingest.received)
    (exception,) = event["exception"]["values"]
    assert (exception["type"], exception["value"]) == (
        "RuntimeError",
        "the odds table is upside down",
    )
    assert event["environment"] == "ci"
    assert event["request"]["url"] == "http://localhost/boom/"
    assert event["tags"]["request_id"] == "req-sentry-1"
    assert {integration for integration in event["sdk"]["integrations"]} >= {"django", "celery"}


def test_an_error_in_a_task_reaches_sentry_with_the_request_id(sentry_ingest):
    port = sentry_ingest.server_address[1]

    outcome = run_failing(FAILING_TASK, {"SENTRY_DSN": f"http://publickey@127.0.0.1:{port}/1"})

    assert outcome == "FAILURE True"
    (event,) = envelope_events(sentry_ingest.received)
    (exception,) = event["exception"]["values"]
    assert (exception["type"], exception["value"]) == ("ValueError", "no runners declared")
    assert event["tags"]["request_id"] == "req-task-1"
    assert event["tags"]["celery_task_id"]


@pytest.mark.parametrize(
    ("script", "expected"), [(FAILING_REQUEST, "500 False"), (FAILING_TASK, "FAILURE False")]
)
def test_nothing_is_sent_without_a_dsn(sentry_ingest, script, expected):
    outcome = run_failing(script, {"SENTRY_ENVIRONMENT": "ci"})

    assert outcome == expected
    assert sentry_ingest.received == []
