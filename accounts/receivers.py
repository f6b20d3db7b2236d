"""What accounts does when races tells of a change (see `races.signals`) and when a user logs in;
each receiver holds no logic and calls one service. Connected in AccountsConfig.ready()."""

from __future__ import annotations

from typing import Any

from .services import expired_tokens_delete, horse_alerts_enqueue


def race_data_stored_alert(**kwargs: Any) -> None:
    """Stored cards and results may be a followed horse's declaration or result."""
    horse_alerts_enqueue()


def expired_tokens_on_log_in(sender: Any, user: Any, **kwargs: Any) -> None:
    """Sent by the site's log-in and by the API's token creation (knox's LoginView): the user's
    expired API tokens go, as knox's per-request sweep did."""
    expired_tokens_delete(user=user)
