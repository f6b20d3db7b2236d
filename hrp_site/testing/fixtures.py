"""pytest fixtures over `processes`: a private Redis, this process publishing to it (or to a
broker that is down), and Celery workers on it that see the test database. Loaded by the root
conftest."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from .processes import (
    REDIS_SERVER,
    RedisServer,
    Worker,
    celery_app_broker,
    celery_worker_start,
    redis_server_start,
)
from .required import require_postgresql, skip_unless_required


@pytest.fixture
def private_redis(tmp_path) -> Iterator[RedisServer]:
    """A redis-server of the test's own, killed at the end (the test may kill it sooner)."""
    if not Path(REDIS_SERVER).exists():
        skip_unless_required("HRP_REQUIRE_FAULTS", f"no redis-server at {REDIS_SERVER}")
    server = redis_server_start(directory=tmp_path / "redis")
    yield server
    server.kill()


@pytest.fixture
def publish_to_private_redis(private_redis) -> Iterator[RedisServer]:
    """Tasks this process sends go to the private Redis."""
    from hrp_site.celery import app

    with celery_app_broker(app, private_redis.url()):
        yield private_redis


@pytest.fixture
def broker_down(publish_to_private_redis) -> str:
    """Celery publishing for real (not eagerly) to a broker that refuses every connection; the
    start of the error a send then records."""
    publish_to_private_redis.kill()
    return f"could not be queued: Error 111 connecting to 127.0.0.1:{publish_to_private_redis.port}"


@pytest.fixture
def celery_workers(private_redis, tmp_path, settings) -> Iterator[Callable[..., Worker]]:
    """Start workers on the private Redis: `celery_workers(time_limit=..., pool=..., env=...)`
    (`env` adds to the worker's environment). They use the test database, so the test must
    commit (`django_db(transaction=True)`)."""
    from django.db import connection

    require_postgresql("a worker in another process needs PostgreSQL")
    db = connection.settings_dict
    password = f":{db['PASSWORD']}" if db["PASSWORD"] else ""
    database_url = f"postgres://{db['USER']}{password}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
    started: list[Worker] = []

    def start(*, time_limit: int, env: dict[str, str] | None = None, **options) -> Worker:
        worker = celery_worker_start(
            broker_url=private_redis.url(),
            env={
                **os.environ,
                "DATABASE_URL": database_url,
                "DJANGO_MEDIA_ROOT": str(settings.MEDIA_ROOT),
                "CELERY_TASK_TIME_LIMIT": str(time_limit),
                **(env or {}),
            },
            log=tmp_path / f"worker-{len(started)}.log",
            cwd=settings.BASE_DIR,
            **options,
        )
        started.append(worker)
        return worker

    yield start
    for worker in started:
        worker.kill()
        # Shown with the test's output when it fails.
        print(f"--- {worker.name}, exit {worker.process.returncode} ---")
        print(worker.output()[-4000:])
