import os
from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def _plain_static_storage(settings):
    # The manifest storage needs collectstatic; tests render pages without it.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path):
    # Model artifacts and uploads land in a folder of the test's own.
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def staff_user(django_user_model):
    return django_user_model.objects.create_user(
        username="staff", password="a-long-staff-password", is_staff=True, is_superuser=True
    )


@pytest.fixture
def staff_client(client, staff_user):
    client.force_login(staff_user)
    return client


@pytest.fixture
def shared_data_dir(settings):
    """../shared/data beside the repo (HRP_SHARED_DIR overrides ../shared); skips if absent."""
    shared = Path(os.environ.get("HRP_SHARED_DIR", settings.BASE_DIR.parent / "shared"))
    data = shared / "data"
    if not data.is_dir():
        pytest.skip(f"the shared data is not at {data}")
    return data


def pytest_report_header(config):
    from django.conf import settings

    database = settings.DATABASES["default"]
    broker = "eager (no broker)" if settings.CELERY_TASK_ALWAYS_EAGER else "Redis"
    return f"database: {database['ENGINE'].rsplit('.', 1)[-1]} {database['NAME']}; celery: {broker}"
