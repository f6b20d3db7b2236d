"""Refuse to run in production without the settings whose defaults only suit a laptop.

Outside debug mode, a missing `DJANGO_SECRET_KEY` would sign sessions with the public
development key, and missing `DJANGO_ALLOWED_HOSTS` would answer every page with a 400 while the
health check says 200. The web and Celery processes refuse to start instead; management commands
(`check`, `migrate`, `collectstatic` at image build) still run, and `check --deploy` reports it.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import TypeVar

from django.core import checks
from django.core.exceptions import ImproperlyConfigured

REQUIRED_IN_PRODUCTION = ("DJANGO_SECRET_KEY", "DJANGO_ALLOWED_HOSTS")
T = TypeVar("T")


def missing_production_settings() -> list[str]:
    """The required variables that are unset, empty or (the key) the public development one;
    none in debug mode."""
    from django.conf import settings

    if settings.DEBUG:
        return []
    # Read after the settings, which load `.env` into the environment.
    values = {name: os.environ.get(name, "").strip() for name in REQUIRED_IN_PRODUCTION}
    # The development key of .env.example is public: as good as none (Django's own mark).
    if values["DJANGO_SECRET_KEY"].startswith("django-insecure"):
        values["DJANGO_SECRET_KEY"] = ""
    return [name for name, value in values.items() if not value]


def require_production_settings() -> None:
    """Raise ImproperlyConfigured naming each missing variable: for the serving processes."""
    missing = missing_production_settings()
    if missing:
        raise ImproperlyConfigured(
            f"{' and '.join(missing)} must be set when DJANGO_DEBUG is false; "
            "refusing to start (set DJANGO_DEBUG=true for local development)"
        )


def serving_application(get_application: Callable[[], T]) -> T:
    """The application a web server loads (`get_wsgi_application` or `get_asgi_application`),
    made only once the settings are checked."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hrp_site.settings")
    require_production_settings()
    return get_application()


@checks.register(checks.Tags.security, deploy=True)
def check_production_settings(app_configs, **kwargs) -> list[checks.Error]:
    return [
        checks.Error(
            f"{name} is not set; the web and Celery processes refuse to start without it.",
            hint="Set it in the environment (app-spec.yaml).",
            id=f"hrp.E00{number}",
        )
        for number, name in enumerate(REQUIRED_IN_PRODUCTION, start=1)
        if name in missing_production_settings()
    ]
