"""The trainings and refreshes the code under test sent (see `hrp_site.testing.sent`)."""

from __future__ import annotations

import pytest

from hrp_site.testing import sent
from predictions import tasks

TRAIN = tasks.train_model_task.name
REFRESH = tasks.refresh_predictions_task.name


def record_sent_tasks(
    monkeypatch: pytest.MonkeyPatch, *, run: bool = False
) -> list[tuple[str, tuple, dict]]:
    """Each training and refresh sent, as (task name, args, kwargs), in order."""
    return sent.record_sent_tasks(
        monkeypatch, tasks.train_model_task, tasks.refresh_predictions_task, run=run
    )
