"""Reads for the member pages. (Placeholder: the watchlist is being built.)"""

from typing import Any


def watchlist_home(*, user) -> dict[str, Any]:
    return {}


def followed_ids(*, user) -> dict[str, set[int]]:
    return {"horse": set(), "jockey": set(), "trainer": set()}
