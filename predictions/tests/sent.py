"""What the code under test sent to the broker, for tests to say which tasks, for which rows."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from predictions import tasks

TRAIN = tasks.train_model_task.name
REFRESH = tasks.refresh_predictions_task.name


def record_sent_tasks(
    monkeypatch: pytest.MonkeyPatch, *, run: bool = False
) -> list[tuple[str, tuple, dict]]:
    """Record each training and refresh sent, as (task name, args, kwargs), in order; with `run`
    the task is also sent on (run in-process under `celery_eager`), else never published."""
    sent: list[tuple[str, tuple, dict]] = []
    for task in (tasks.train_model_task, tasks.refresh_predictions_task):

        def apply_async(args=None, kwargs=None, *, _task=task, _send=task.apply_async, **options):
            sent.append((_task.name, tuple(args or ()), kwargs or {}))
            if run:
                return _send(args=args, kwargs=kwargs, **options)
            return SimpleNamespace(id=f"{_task.name}-{len(sent)}")

        monkeypatch.setattr(task, "apply_async", apply_async)
    return sent
