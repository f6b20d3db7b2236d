"""What predictions does when races tells of a change (see `races.signals`).

Django signals are the documented way for races to notify this app without knowing it; each
receiver holds no logic and calls one service.
"""

from __future__ import annotations

from typing import Any

from predictions.services.enqueue import predictions_enqueue_refresh


def race_cards_changed_refresh(*, race_ids: list[int], **kwargs: Any) -> None:
    """The changed cards get every model's predictions."""
    predictions_enqueue_refresh(race_ids=race_ids)
