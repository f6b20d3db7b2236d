"""The platform's probes: liveness (the process answers) and readiness (database and schema)."""

import json
import os
import sys

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from hrp_site import views
from hrp_site.testing import processes

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
def test_readiness_is_503_while_a_migration_is_pending(client, one_migration_unapplied):
    # given
    app_label, name = one_migration_unapplied

    # when
    response = client.get("/health/ready/", HTTP_HOST=PROBE_HOST)
    live = client.get("/health/live/", HTTP_HOST=PROBE_HOST)

    # then
    assert response.status_code == 503
    assert response.json() == {
        "status": "unavailable",
        "reason": f"1 migrations pending: {app_label}.{name}",
    }
    assert live.status_code == 200


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

    # then
    answers = json.loads(result.stdout.strip().splitlines()[-1])
    assert answers == {
        "/health/live/": [200, {"status": "ok"}],
        "/health/ready/": [
            503,
            {"status": "unavailable", "reason": "database unreachable: OperationalError"},
        ],
    }
