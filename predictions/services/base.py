"""What the prediction services share: the error a user can act on and the progress callback."""

from __future__ import annotations

from collections.abc import Callable

Progress = Callable[[str], None]


class PredictionError(Exception):
    """A request the engine refuses, with a reason a user can act on."""


def quiet(message: str) -> None:
    """The progress callback of callers who show none."""
