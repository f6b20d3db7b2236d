"""The deployment artefacts agree with each other and with the code they deploy."""

import ast
import os
import re
import sys
from collections import Counter
from pathlib import Path

import pytest
import yaml
from django.urls import resolve

from hrp_site.testing import processes
from hrp_site.testing.required import skip_unless_required

REPO_ROOT = Path(__file__).resolve().parents[2]
SPEC_TOOLS = REPO_ROOT / os.environ.get("HRP_SHARED_DIR", "../shared") / "tools" / "do-app-spec"
# A variable line, or one commented out to show an example value (see the file's header).
ENV_EXAMPLE_LINE = re.compile(r"^(?:#\s*)?([A-Z][A-Z0-9_]*)=", re.MULTILINE)


def load_spec():
    return yaml.safe_load((REPO_ROOT / "app-spec.yaml").read_text())


def spec_env_keys(spec):
    components = [
        component
        for kind in ("services", "workers", "jobs", "static_sites", "functions")
        for component in spec.get(kind, [])
    ]
    return [env["key"] for owner in (spec, *components) for env in owner.get("envs", [])]


def env_example_keys():
    return ENV_EXAMPLE_LINE.findall((REPO_ROOT / ".env.example").read_text())


def settings_env_keys():
    """Names passed to `env(...)`, `env.bool(...)` and friends in settings.py."""
    tree = ast.parse((REPO_ROOT / "hrp_site" / "settings.py").read_text())
    keys = set()
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call) or not node.args:
            continue
        func = node.func
        is_env_call = (isinstance(func, ast.Name) and func.id == "env") or (
            isinstance(func, ast.Attribute)
            and isinstance(func.value, ast.Name)
            and func.value.id == "env"
        )
        if is_env_call and isinstance(node.args[0], ast.Constant):
            keys.add(node.args[0].value)
    return keys


def web_service(spec):
    (service,) = [s for s in spec["services"] if s["name"] == "web"]
    return service


def test_app_spec_and_env_example_name_the_same_variables_once_each():
    # given
    spec_keys = spec_env_keys(load_spec())
    example_keys = env_example_keys()

    # then
    assert [key for key, n in Counter(spec_keys).items() if n > 1] == []
    assert [key for key, n in Counter(example_keys).items() if n > 1] == []
    assert set(spec_keys) == set(example_keys)


def test_env_example_names_every_variable_settings_reads():
    assert settings_env_keys() - set(env_example_keys()) == set()


def test_dockerfile_serves_on_the_web_service_http_port():
    # The web service runs the image's CMD, which the spec validator cannot see.
    dockerfile = (REPO_ROOT / "Dockerfile").read_text()

    assert re.search(r"^\s*PORT=(\d+)", dockerfile, re.MULTILINE).group(1) == str(
        web_service(load_spec())["http_port"]
    )
    assert "--bind 0.0.0.0:${PORT}" in dockerfile


def worker(spec, name):
    (component,) = [w for w in spec["workers"] if w["name"] == name]
    return component


# Liveness must answer while PostgreSQL is down; the readiness check reads the database.
@pytest.mark.parametrize(
    ("check", "url_name"),
    [
        pytest.param("health_check", "health-ready", marks=pytest.mark.django_db),
        ("liveness_health_check", "health-live"),
    ],
)
def test_the_web_service_health_check_paths_answer_the_probe(client, settings, check, url_name):
    # given: production switches, and the probe addressed to the container's IP over HTTP
    settings.ALLOWED_HOSTS = ["hrp.example.com"]
    settings.SECURE_SSL_REDIRECT = True
    path = web_service(load_spec())[check]["http_path"]

    # when
    response = client.get(path, HTTP_HOST="10.244.3.17:8080")

    # then
    assert resolve(path).url_name == url_name
    assert (response.status_code, response.json()) == (200, {"status": "ok"})


def test_worker_liveness_check_probes_the_port_the_worker_serves():
    component = worker(load_spec(), "worker")
    check = component["liveness_health_check"]
    envs = {env["key"]: env["value"] for env in component["envs"]}

    assert check["http_path"] == "/health/live/"
    assert str(check["port"]) == envs["HRP_WORKER_HEALTH_PORT"]


def test_gunicorn_leaves_request_lines_to_the_application():
    # RequestLogMiddleware logs each request with its id and user; gunicorn's line would repeat it.
    assert "--access-logfile" not in (REPO_ROOT / "Dockerfile").read_text()


def test_app_spec_passes_the_validator_without_warnings():
    if not (SPEC_TOOLS / "validate_app_spec.py").is_file():
        skip_unless_required("HRP_REQUIRE_SHARED_DATA", f"no app-spec validator in {SPEC_TOOLS}")
    result = processes.run(
        [
            sys.executable,
            str(SPEC_TOOLS / "validate_app_spec.py"),
            str(SPEC_TOOLS / "app_spec.strict.schema.json"),
            str(REPO_ROOT / "app-spec.yaml"),
            "--werror",
        ],
        env=dict(os.environ),
    )

    assert result.returncode == 0, result.stdout + result.stderr
