"""The platform's probes: liveness (the process answers) and readiness (database and schema)."""

import json
import logging
import os
import sys

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from hrp_site import views
from hrp_site.testing import processes
from hrp_site.testing.headers import STRICT_POLICY, csp_directives

PROBE_HOST = "10.244.3.17:8080"


@pytest.fixture(autouse=True)
def _fresh_migration_check(monkeypatch):
    monkeypatch.setattr(views, "_migrations_applied_at", None)


@pytest.fixture
def production_switches(settings):
    settings.ALLOWED_HOSTS = ["hrp.example.com"]
    settings.SECURE_SSL_REDIRECT = True


# No django_db mark: any database query would fail the test.
def test_liveness_answers_the_probe_without_the_database(client, production_switches):
    response = client.get("/health/live/", HTTP_HOST=PROBE_HOST)

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert "no-store" in response["Cache-Control"]


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/health/ready/", "/healthz/"])
def test_readiness_answers_ok_when_the_database_is_migrated(client, production_switches, path):
    response = client.get(path, HTTP_HOST=PROBE_HOST)

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert "no-store" in response["Cache-Control"]


@pytest.mark.django_db
def test_readiness_reuses_a_positive_migration_check(client, django_assert_max_num_queries):
    client.get("/health/ready/")

    # then: only the SELECT 1 runs; the migration table is not read again
    with django_assert_max_num_queries(1):
        response = client.get("/health/ready/")
    assert response.status_code == 200


@pytest.fixture
def one_migration_unapplied():
    """Really unapply axes' last migration (a third-party app whose history nobody here edits)."""
    executor = MigrationExecutor(connection)
    (leaf,) = [node for node in executor.loader.graph.leaf_nodes() if node[0] == "axes"]
    (parent,) = [p for p in executor.loader.graph.node_map[leaf].parents if p.key[0] == "axes"]
    executor.migrate([parent.key])
    yield leaf
    MigrationExecutor(connection).migrate([leaf])


@pytest.mark.django_db(transaction=True)
def test_readiness_is_503_while_a_migration_is_pending(client, one_migration_unapplied, caplog):
    # given
    app_label, name = one_migration_unapplied

    # when
    with caplog.at_level(logging.WARNING, logger="hrp.health"):
        response = client.get("/health/ready/", HTTP_HOST=PROBE_HOST)
    live = client.get("/health/live/", HTTP_HOST=PROBE_HOST)

    # then: the answer is the status alone; the reason is in the log
    assert response.status_code == 503
    assert response.json() == {"status": "unavailable"}
    logged = [(r.levelname, r.getMessage()) for r in caplog.records if r.name == "hrp.health"]
    assert logged == [("WARNING", f"not ready: 1 migrations pending: {app_label}.{name}")]
    assert live.status_code == 200


SECURITY_HEADERS = {
    "Content-Security-Policy",
    "Permissions-Policy",
    "Referrer-Policy",
    "X-Content-Type-Options",
    "X-Frame-Options",
}


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/health/live/", "/health/ready/", "/healthz/"])
def test_a_probe_on_a_foreign_host_gets_the_security_headers_and_the_status_alone(
    client, production_switches, path
):
    # when: a stranger addresses the probe to a host the site does not serve
    response = client.get(path, HTTP_HOST="attacker.example")

    # then
    assert response.status_code == 200
    assert response.content == b'{"status": "ok"}'
    assert set(response.headers) >= SECURITY_HEADERS
    assert csp_directives(response) == STRICT_POLICY
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["X-Frame-Options"] == "DENY"
    assert response["Referrer-Policy"] == "same-origin"


@pytest.mark.django_db
def test_a_probe_over_https_gets_hsts_when_it_is_on(client, production_switches, settings):
    settings.SECURE_HSTS_SECONDS = 31536000

    response = client.get("/health/ready/", HTTP_HOST=PROBE_HOST, HTTP_X_FORWARDED_PROTO="https")

    assert response.status_code == 200
    assert response["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"
    assert set(response.headers) >= SECURITY_HEADERS


PROBE_SCRIPT = """
import json, django
django.setup()
from django.test import Client
client = Client()
print(json.dumps({
    path: [r.status_code, r.json()]
    for path in ("/health/live/", "/health/ready/")
    for r in [client.get(path, HTTP_HOST="10.244.3.17:8080")]
}))
"""


def test_readiness_is_503_and_liveness_200_with_the_database_unreachable(settings):
    # given: a database URL whose port refuses connections
    environment = {
        **os.environ,
        "DATABASE_URL": "postgres://nobody@127.0.0.1:1/none",
        "DJANGO_SETTINGS_MODULE": "hrp_site.settings",
        "DJANGO_ALLOWED_HOSTS": "hrp.example.com",
        "DJANGO_SECRET_KEY": "a-test-only-secret-key-for-the-subprocess",
        "DJANGO_SECURE_SSL_REDIRECT": "true",
    }

    # when
    result = processes.run([sys.executable, "-c", PROBE_SCRIPT], env=environment, check=True)

    # then: the reason is in the log (JSON lines on stdout), not in the answer
    *log_lines, last = result.stdout.strip().splitlines()
    assert json.loads(last) == {
        "/health/live/": [200, {"status": "ok"}],
        "/health/ready/": [503, {"status": "unavailable"}],
    }
    logged = [json.loads(line) for line in log_lines]
    assert [
        (e["logger"], e["level"], e["message"]) for e in logged if e["logger"] == "hrp.health"
    ] == [("hrp.health", "WARNING", "not ready: database unreachable: OperationalError")]
