"""Outside debug mode, the web and Celery processes refuse to start without a secret key and
host names; management commands keep working without them."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from hrp_site.testing import processes

REQUIRED = ("DJANGO_SECRET_KEY", "DJANGO_ALLOWED_HOSTS")
PRODUCTION = {
    "DJANGO_SECRET_KEY": "a-test-secret-key-of-some-length",
    "DJANGO_ALLOWED_HOSTS": "hrp.test",
}
BIN = Path(sys.executable).parent
# The bound on every process start: a refusal comes within a few seconds.
TIMEOUT = 60


def environment(tmp_path, **variables) -> dict[str, str]:
    """The test process's environment without any DJANGO_ variable, the database or the broker,
    plus `variables`: SQLite in tmp_path, eager Celery, nothing else reached."""
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("DJANGO_", "CELERY_")) and name not in ("DATABASE_URL", "REDIS_URL")
    }
    return {**env, "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}", **variables}


def run(command: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    return processes.run(command, env=env, timeout=TIMEOUT)


SERVERS = {
    "wsgi": [sys.executable, "-c", "import hrp_site.wsgi"],
    "asgi": [sys.executable, "-c", "import hrp_site.asgi"],
    "gunicorn": [
        str(BIN / "gunicorn"),
        "hrp_site.wsgi:application",
        "--bind",
        "127.0.0.1:28311",
        "--workers",
        "1",
    ],
    "celery worker": [
        str(BIN / "celery"),
        "-A",
        "hrp_site",
        "worker",
        "--pool",
        "solo",
        "--without-heartbeat",
        "--without-gossip",
        "--without-mingle",
    ],
    "celery beat": [str(BIN / "celery"), "-A", "hrp_site", "beat", "--schedule", "beat-schedule"],
}


@pytest.mark.parametrize(
    ("process", "missing"),
    [(process, [name]) for process in SERVERS for name in REQUIRED] + [("wsgi", list(REQUIRED))],
    ids=lambda value: "+".join(value) if isinstance(value, list) else value,
)
def test_a_production_process_refuses_to_start_without_its_settings(process, missing, tmp_path):
    # given: DJANGO_DEBUG off and some required variables not set
    given = {name: value for name, value in PRODUCTION.items() if name not in missing}
    command = [part.replace("beat-schedule", str(tmp_path / "beat")) for part in SERVERS[process]]

    # when
    result = run(command, environment(tmp_path, DJANGO_DEBUG="false", **given))

    # then: it stopped, naming exactly the missing variables
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    refusal = next(line for line in result.stderr.splitlines() if "refusing to start" in line)
    assert [name for name in REQUIRED if name in refusal] == missing


def test_the_wsgi_application_loads_with_both_settings(tmp_path):
    result = run(
        [sys.executable, "-c", "import hrp_site.wsgi; print(callable(hrp_site.wsgi.application))"],
        environment(tmp_path, DJANGO_DEBUG="false", **PRODUCTION),
    )

    assert (result.returncode, result.stdout) == (0, "True\n")
    assert "ImproperlyConfigured" not in result.stderr


@pytest.mark.parametrize("module", ["hrp_site.wsgi", "hrp_site.asgi"])
def test_debug_mode_needs_neither(module, tmp_path):
    result = run(
        [sys.executable, "-c", f"import {module}"], environment(tmp_path, DJANGO_DEBUG="true")
    )

    assert result.returncode == 0, result.stderr
    assert "ImproperlyConfigured" not in result.stderr


@pytest.mark.parametrize(
    "command",
    [
        ["check"],
        ["makemigrations", "--check", "--dry-run"],
        ["migrate", "--no-input"],
        ["collectstatic", "--no-input", "--dry-run"],
    ],
    ids=" ".join,
)
def test_management_commands_run_without_them(command, tmp_path):
    # The CI runs check and makemigrations with nothing set; the image build runs collectstatic
    # with a build-only key and no hosts; the pre-deploy job migrates.
    result = run(
        [sys.executable, "manage.py", *command], environment(tmp_path, DJANGO_DEBUG="false")
    )

    assert result.returncode == 0, result.stderr
    assert "ImproperlyConfigured" not in result.stderr


def test_the_deploy_check_reports_each_missing_setting(tmp_path):
    missing = run(
        [sys.executable, "manage.py", "check", "--deploy"],
        environment(tmp_path, DJANGO_DEBUG="false"),
    )
    complete = run(
        [sys.executable, "manage.py", "check", "--deploy"],
        environment(tmp_path, DJANGO_DEBUG="false", **PRODUCTION),
    )

    assert missing.returncode == 1
    assert "(hrp.E001) DJANGO_SECRET_KEY is not set" in missing.stderr
    assert "(hrp.E002) DJANGO_ALLOWED_HOSTS is not set" in missing.stderr
    assert "hrp.E00" not in complete.stdout + complete.stderr


def test_the_public_development_key_counts_as_none(tmp_path):
    development_key = "django-insecure-local-development-key-do-not-use-in-production"
    result = run(
        [sys.executable, "-c", "import hrp_site.wsgi"],
        environment(
            tmp_path,
            DJANGO_DEBUG="false",
            DJANGO_SECRET_KEY=development_key,
            DJANGO_ALLOWED_HOSTS="hrp.test",
        ),
    )

    assert result.returncode == 1
    assert (
        "ImproperlyConfigured: DJANGO_SECRET_KEY must be set when DJANGO_DEBUG is false"
        in result.stderr
    )
