"""What the code under test sent to the broker, for tests to say which tasks, for which rows."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from celery import Task


def record_sent_tasks(
    monkeypatch: pytest.MonkeyPatch, *tasks: Task, run: bool = False
) -> list[tuple[str, tuple, dict]]:
    """Record each send of these tasks, as (task name, args, kwargs), in order; with `run` the
    task is also sent on (run in-process under `celery_eager`), else never published."""
    sent: list[tuple[str, tuple, dict]] = []
    for task in tasks:

        def apply_async(args=None, kwargs=None, *, _task=task, _send=task.apply_async, **options):
            sent.append((_task.name, tuple(args or ()), kwargs or {}))
            if run:
                return _send(args=args, kwargs=kwargs, **options)
            return SimpleNamespace(id=f"{_task.name}-{len(sent)}")

        monkeypatch.setattr(task, "apply_async", apply_async)
    return sent


def commit_callbacks(callbacks: list) -> list:
    """The on-commit callbacks a test asserts on: all but the shared cache's stamp bumps, which
    every write of race data, predictions or model versions adds (hrp_site.shared_cache)."""
    return [c for c in callbacks if getattr(c, "__module__", "") != "hrp_site.shared_cache"]
