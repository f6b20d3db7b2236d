"""The API as a consumer uses it: a typed Python client generated from the live schema by
openapi-python-client (pinned in requirements-dev.txt; it needs no network) takes a token with a
password, runs an operation as staff and polls it until a real Celery worker has done it, then
reads the day's racecards with the predictions that operation made. The generated code lives in
the test's temporary folder only."""

from __future__ import annotations

import base64
import datetime
import importlib
import json
import subprocess
import sys
import time
import urllib.request

import pytest
from django.utils import timezone

from accounts.tests.factories import UserFactory
from predictions.services.versions import model_version_train_new
from races.demo import demo_data_seed
from races.models import Race

pytestmark = pytest.mark.django_db(transaction=True)

GENERATOR_CONFIG = "project_name_override: hrp-client\npackage_name_override: hrp_client\n"
# The generator's own formatting hooks (ruff) are left out: the code is run, not read.
GENERATOR_CONFIG += "post_hooks: []\n"
PASSWORD = "a-long-client-password"


@pytest.fixture
def short_lived_connections(monkeypatch):
    """The live server's request threads close their database connections after each request
    (the site keeps them a minute), so none outlives the test and holds the test database."""
    from django.db import connections

    monkeypatch.setitem(connections.settings["default"], "CONN_MAX_AGE", 0)


@pytest.fixture
def hrp_client(short_lived_connections, live_server, tmp_path):
    """The `hrp_client` package generated from the live server's schema, importable."""
    with urllib.request.urlopen(f"{live_server.url}/api/schema/?format=json", timeout=30) as got:
        schema = json.load(got)
    (tmp_path / "schema.json").write_text(json.dumps(schema))
    (tmp_path / "config.yaml").write_text(GENERATOR_CONFIG)
    generated = subprocess.run(
        [
            sys.executable,
            "-m",
            "openapi_python_client",
            "generate",
            "--path",
            str(tmp_path / "schema.json"),
            "--config",
            str(tmp_path / "config.yaml"),
            "--meta",
            "none",
            "--output-path",
            str(tmp_path / "hrp_client"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    output = generated.stdout + generated.stderr
    assert generated.returncode == 0, output
    # A schema the generator cannot follow gives warnings (duplicate fields of a form body, say).
    assert "warning" not in output.lower(), output
    sys.path.insert(0, str(tmp_path))
    try:
        yield importlib.import_module("hrp_client")
    finally:
        sys.path.remove(str(tmp_path))
        for name in [name for name in sys.modules if name.split(".")[0] == "hrp_client"]:
            del sys.modules[name]


@pytest.fixture
def worker(publish_to_private_redis, celery_workers):
    """A real Celery worker on a broker of the test's own, seeing the test database."""
    return celery_workers(time_limit=300)


def test_a_generated_client_takes_a_token_runs_an_operation_and_reads_the_racecards(
    hrp_client, worker, live_server
):
    from hrp_client import Client
    from hrp_client.api.operations import operations_retrieve
    from hrp_client.api.predictions import predictions_refresh_create
    from hrp_client.api.racecards import racecards_retrieve
    from hrp_client.api.tokens import tokens_create
    from hrp_client.models import Operation, Racecards, Token

    # given: today's demo cards, a logit trained up to yesterday, and a staff member
    today = timezone.localdate()
    demo_data_seed(seed=3, today=today, days_ahead=1, history_days=40)
    logit = model_version_train_new(algorithm="logit", train_until=today - datetime.timedelta(1))
    UserFactory(username="operator", password=PASSWORD, is_staff=True)
    declared = Race.objects.filter(meeting_date=today, status=Race.Status.DECLARED).count()

    # when: the client takes a token with the password (HTTP Basic)
    basic = base64.b64encode(f"operator:{PASSWORD}".encode()).decode()
    anonymous = Client(base_url=live_server.url, headers={"Authorization": f"Basic {basic}"})
    created = tokens_create.sync_detailed(client=anonymous)
    assert created.status_code == 201
    assert isinstance(created.parsed, Token)
    client = Client(
        base_url=live_server.url,
        headers={"Authorization": f"Token {created.parsed.token}"},
        raise_on_unexpected_status=True,
        timeout=30,
    )

    # and asks for today's predictions to be refreshed, then polls the operation until it ends
    queued = predictions_refresh_create.sync_detailed(
        client=client, body={"date": today.isoformat()}
    )
    assert queued.status_code == 202
    assert isinstance(queued.parsed, Operation)
    assert queued.parsed.poll == f"{live_server.url}/api/v1/operations/{queued.parsed.id}/"
    seen = [queued.parsed.status.value]
    deadline = time.monotonic() + 120
    operation = queued.parsed
    while operation.status.value not in ("done", "failed") and time.monotonic() < deadline:
        time.sleep(0.2)
        operation = operations_retrieve.sync(client=client, id=queued.parsed.id)
        if operation.status.value != seen[-1]:
            seen.append(operation.status.value)

    # then: it moved from queued to done, saying what it did
    assert seen[0] == "queued"
    assert seen[-1] == "done", (operation.error, worker.output()[-2000:])
    assert set(seen) <= {"queued", "running", "done"}
    outcome = dict(operation.outcome)
    assert (outcome["races"], outcome["versions"]) == (declared, [logit.pk])
    assert operation.finished_at >= operation.started_at >= operation.created_at

    # and today's racecards show every declared race with the logit's predictions
    cards = racecards_retrieve.sync(client=client, date=today)
    assert isinstance(cards, Racecards)
    assert cards.date == today
    declared_cards = [card for card in cards.racecards if card.status.value == "declared"]
    assert len(declared_cards) == declared > 0
    for card in declared_cards:
        starters = [runner for runner in card.runners if not runner.non_runner]
        shown = [p for runner in starters for p in runner.predictions if p.algorithm == "logit"]
        assert [p.model_version for p in shown] == [logit.pk] * len(starters)
        assert sum(p.win_probability for p in shown) == pytest.approx(1.0)
