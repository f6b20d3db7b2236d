import os
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest
from rest_framework.test import APIClient

from accounts.tests.factories import UserFactory
from hrp_site import settings as project_settings
from hrp_site import shared_cache, throttling
from hrp_site.testing.required import skip_unless_required

# Workers and servers the tests start run outside debug mode, where these must be set (see
# hrp_site/checks.py); the values are the embedded defaults but for the key. Tests of the
# refusal take them out of the child's environment.
os.environ.setdefault("DJANGO_SECRET_KEY", "test-only-secret-key-for-processes-the-tests-start")
os.environ.setdefault("DJANGO_ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]")

# Private Redis servers and Celery workers for the crash and outage tests; the providers' recorded
# responses on a local HTTP server.
pytest_plugins = ["hrp_site.testing.fixtures", "races.tests.providers.fixtures"]


@pytest.fixture(autouse=True)
def _plain_static_storage(settings):
    # The manifest storage needs collectstatic; tests render pages without it.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture(autouse=True)
def _fail_open_back_offs_reset(monkeypatch):
    # A test whose cache is unreachable starts the throttles' and the shared cache's back-off
    # (per process, 10 s): without this the tests after it ran with throttles off.
    monkeypatch.setattr(throttling, "_skip_until", 0.0)
    monkeypatch.setattr(shared_cache, "_skip_until", 0.0)


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path):
    # Model artifacts and uploads land in a folder of the test's own.
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture(autouse=True)
def password_hashers(settings) -> Callable[[list[str]], None]:
    """Hash passwords with MD5, as Argon2 is slow on purpose; returns the setter a test calls to
    hash with others (`project_hashers` below is the project's own list)."""

    def use(hashers: list[str]) -> None:
        settings.PASSWORD_HASHERS = hashers

    use(["django.contrib.auth.hashers.MD5PasswordHasher"])
    return use


@pytest.fixture
def project_hashers(password_hashers) -> list[str]:
    """Hash as the project does (Argon2 first), for tests of hashing itself."""
    password_hashers(project_settings.PASSWORD_HASHERS)
    return project_settings.PASSWORD_HASHERS


@pytest.fixture
def staff_user():
    return UserFactory(
        username="staff",
        email="",
        password="a-long-staff-password",
        is_staff=True,
        is_superuser=True,
    )


@pytest.fixture
def member_user():
    return UserFactory(username="member", email="", password="a-long-member-password")


def signed_in(client, user):
    """`client` (Django's or DRF's test client) signed in as `user`."""
    client.force_login(user)
    return client


@pytest.fixture
def staff_client(client, staff_user):
    return signed_in(client, staff_user)


@pytest.fixture
def member_client(client, member_user):
    client.force_login(member_user)
    return client


@pytest.fixture
def api_client(settings):
    """An anonymous API client. Throttle counts live in the default cache (Redis when REDIS_URL
    is set); a key prefix of the test's own keeps other tests' requests out of its counts."""
    default = settings.CACHES["default"]
    settings.CACHES = {"default": {**default, "KEY_PREFIX": f"test-{uuid.uuid4().hex}"}}
    return APIClient()


@pytest.fixture
def member_api(api_client, member_user):
    return signed_in(api_client, member_user)


@pytest.fixture
def staff_api(api_client, staff_user):
    return signed_in(api_client, staff_user)


@pytest.fixture
def shared_data_dir(settings):
    """../shared/data beside the repo (HRP_SHARED_DIR overrides ../shared); skips if absent,
    fails if absent under HRP_REQUIRE_SHARED_DATA."""
    shared = Path(os.environ.get("HRP_SHARED_DIR", settings.BASE_DIR.parent / "shared"))
    data = shared / "data"
    if not data.is_dir():
        skip_unless_required("HRP_REQUIRE_SHARED_DATA", f"the shared data is not at {data}")
    return data


def pytest_report_header(config):
    from django.conf import settings

    database = settings.DATABASES["default"]
    broker = "eager (no broker)" if settings.CELERY_TASK_ALWAYS_EAGER else "Redis"
    return f"database: {database['ENGINE'].rsplit('.', 1)[-1]} {database['NAME']}; celery: {broker}"


@pytest.fixture
def celery_eager():
    """Run tasks in-process for this test, even where REDIS_URL points Celery at a broker."""
    from hrp_site.celery import app

    previous = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = previous
