"""The Celery application, in the pattern of Celery's Django guide."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hrp_site.settings")

app = Celery("hrp_site")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
