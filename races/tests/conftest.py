import pytest

# A port of this suite's own range on which nothing listens: a broker that refuses connections.
DEAD_BROKER_URL = "redis://127.0.0.1:38001/0"


@pytest.fixture
def broker_down():
    """Celery publishing for real (not eagerly) to a broker that refuses every connection."""
    from hrp_site.celery import app

    saved = (app.conf.broker_url, app.conf.task_always_eager)
    app.conf.broker_url = DEAD_BROKER_URL
    app.conf.task_always_eager = False
    # The connection pools remember the broker they were made for.
    app._pool, app.amqp._producer_pool = None, None
    yield DEAD_BROKER_URL
    app.conf.broker_url, app.conf.task_always_eager = saved
    app._pool, app.amqp._producer_pool = None, None


@pytest.fixture
def eager_retries():
    """`Task.apply` runs a task's retries in turn; they only run on if failures do not propagate
    (Celery applies each retry with the app's `task_eager_propagates`)."""
    from hrp_site.celery import app

    saved = app.conf.task_eager_propagates
    app.conf.task_eager_propagates = False
    yield
    app.conf.task_eager_propagates = saved
