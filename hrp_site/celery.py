"""The Celery application, in the pattern of Celery's Django guide."""

import os

from celery import Celery, signals

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hrp_site.settings")

app = Celery("hrp_site")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@signals.import_modules.connect
def _refuse_misconfigured_production(sender, **kwargs) -> None:
    # Sent as the worker and beat start; unlike other Celery signals, an exception raised here
    # stops the process instead of being logged and ignored.
    from hrp_site.checks import require_production_settings

    require_production_settings()
