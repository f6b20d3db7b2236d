"""The Celery application, in the pattern of Celery's Django guide."""

import os

from celery import Celery, signals

from .logs import add_request_id_header, task_finished, task_started
from .worker_health import WorkerLiveness

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hrp_site.settings")

app = Celery("hrp_site")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
app.steps["worker"].add(WorkerLiveness)

# The request id travels with every task a request enqueues and is logged with the task's lines.
signals.before_task_publish.connect(add_request_id_header, weak=False)
signals.task_prerun.connect(task_started, weak=False)
signals.task_postrun.connect(task_finished, weak=False)


@signals.import_modules.connect
def _refuse_misconfigured_production(sender, **kwargs) -> None:
    # Sent as the worker and beat start; unlike other Celery signals, an exception raised here
    # stops the process instead of being logged and ignored.
    from hrp_site.checks import require_production_settings

    require_production_settings()
