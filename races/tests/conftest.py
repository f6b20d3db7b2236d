import pytest


@pytest.fixture
def eager_retries():
    """`Task.apply` runs a task's retries in turn; they only run on if failures do not propagate
    (Celery applies each retry with the app's `task_eager_propagates`)."""
    from hrp_site.celery import app

    saved = app.conf.task_eager_propagates
    app.conf.task_eager_propagates = False
    yield
    app.conf.task_eager_propagates = saved
