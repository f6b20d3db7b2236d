"""The predictions' and model registry's generations in the shared cache (see
hrp_site.shared_cache), and the generations a race's card and API body depend on."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from hrp_site.shared_cache import generations_bump
from races.models import Runner
from races.services.cache import RACES

# Which version a race day shows depends on every version (active, ready, trained before the
# day): one generation for the registry. Versions change a few times a week.
VERSIONS = "versions"


def race_predictions_generation(race_id: int) -> str:
    # Per race: a refresh rewrites a few races' predictions every few minutes, and the other
    # cards stay cached.
    return f"race:{race_id}"


def race_card_generations(*, race_id: int) -> list[str]:
    """What a race's card and API body are built from: race data, the registry, its predictions."""
    return [RACES, VERSIONS, race_predictions_generation(race_id)]


def racecards_generations(*, race_ids: Iterable[int]) -> list[str]:
    """What a day's racecards are built from: race data, the registry, each race's predictions.
    A race added to the day bumps RACES, so the races listed stay those of the cached body."""
    return [RACES, VERSIONS, *(race_predictions_generation(pk) for pk in race_ids)]


def race_predictions_invalidate(*, race_ids: Iterable[int]) -> None:
    """Retire the cached cards and API bodies of these races. Every writer of predictions calls
    this: the signals for single saves and deletes, and `predictions_refresh`, whose bulk
    writes send none."""
    generations_bump(*sorted({race_predictions_generation(pk) for pk in race_ids}))


def model_versions_invalidate() -> None:
    """Retire every cached card and API body: the versions a race day shows may have changed."""
    generations_bump(VERSIONS)


def prediction_changed(*, instance: Any, **kwargs: Any) -> None:
    """post_save / post_delete receiver of Prediction (connected in predictions.apps)."""
    race_ids = Runner.objects.filter(pk=instance.runner_id).values_list("race_id", flat=True)
    race_predictions_invalidate(race_ids=race_ids)


def model_version_changed(**kwargs: Any) -> None:
    """post_save / post_delete receiver of ModelVersion (connected in predictions.apps)."""
    model_versions_invalidate()
