"""Draw bias: how stalls at a course and trip have done against their chance."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from predictions.ml.features.asof import cumulative_asof, days
from predictions.ml.features.common import (
    PLACES,
    FeatureColumns,
    chance_to_place,
    rows_where,
    run_outcomes,
)

if TYPE_CHECKING:
    from predictions.ml.features.priors import FeaturePriors

# The draw is an actual-over-expected ratio, shrunk towards 1 by `FeaturePriors.draw` runs' worth
# of chance.

DRAW_FEATURES = ["draw_win_ae", "draw_place_ae"]


DRAW_KEYS = ["racecourse_id", "surface", "distance_m", "draw"]


def draw_values(rows: pd.DataFrame, races: pd.DataFrame) -> pd.DataFrame:
    """Per history row: won, placed and the chance of each in its field (what the draw sums)."""
    field = races["field"].to_numpy(float)[races.index.get_indexer(rows["race_id"].to_numpy())]
    outcomes = run_outcomes(rows)
    return pd.DataFrame(
        {
            "won": outcomes["won"].to_numpy(),
            "placed": outcomes["placed"].to_numpy(),
            "win_chance": 1 / field,
            "place_chance": chance_to_place(field),
        }
    )


def draw_features(
    work: pd.DataFrame,
    day: np.ndarray,
    history: pd.DataFrame,
    races: pd.DataFrame,
    feats: FeatureColumns,
    priors: FeaturePriors,
    *,
    sums: np.ndarray | None = None,
) -> None:
    """Draw bias: wins and places from this stall at this course and trip over their chance.

    `sums` are the targets' `draw_values` summed over the days before theirs, when the caller
    keeps them (`predictions.ml.history`); else they are summed from `history` here.
    """
    if sums is None:
        mine = rows_where(
            history,
            history["racecourse_id"].isin(work["racecourse_id"].unique()).to_numpy()
            & history["distance_m"].isin(work["distance_m"].unique()).to_numpy(),
        )
        (sums,) = cumulative_asof(
            mine[DRAW_KEYS],
            days(mine["meeting_date"]),
            draw_values(mine, races),
            work[DRAW_KEYS],
            day,
        )
    # The prior's weight in chance: k runs at an average Hong Kong field's 1/12 and 3/12.
    k_win, k_place = priors.draw
    feats["draw_win_ae"] = (sums[:, 0] + k_win / 12) / (sums[:, 2] + k_win / 12)
    feats["draw_place_ae"] = (sums[:, 1] + k_place * PLACES / 12) / (
        sums[:, 3] + k_place * PLACES / 12
    )
