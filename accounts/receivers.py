"""What accounts does when races tells of a change (see `races.signals`); each receiver holds no
logic and calls one service."""

from __future__ import annotations

from typing import Any

from .services import horse_alerts_enqueue


def race_data_stored_alert(**kwargs: Any) -> None:
    """Stored cards and results may be a followed horse's declaration or result."""
    horse_alerts_enqueue()
