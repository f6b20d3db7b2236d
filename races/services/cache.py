"""The race data's generation in the shared cache (see hrp_site.shared_cache)."""

from __future__ import annotations

from typing import Any

from hrp_site.shared_cache import generations_bump

# One generation for all race data rather than one per race: a runner's result changes the form
# figures on its horse's later cards, a race's post time the neighbour links of its whole day and
# a horse's name every card it runs in. Race data changes in imports and syncs, a few times a
# day: rebuilding the cards read next costs less than tracking which of them each write touched.
RACES = "races"


def races_cache_invalidate() -> None:
    """Retire every cached value built from races, runners, horses, jockeys, trainers or courses.

    Every writer of those tables calls this: signals for single saves and deletes, and the
    services that write in bulk (bulk_create, bulk_update, update(), SQL), which send none."""
    generations_bump(RACES)


def race_data_changed(**kwargs: Any) -> None:
    """post_save / post_delete receiver of the race models (connected in races.apps)."""
    races_cache_invalidate()
