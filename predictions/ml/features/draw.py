"""Draw bias: how stalls at a course and trip have done against their chance."""

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

# The draw is an actual-over-expected ratio, shrunk towards 1 by this many runs' worth of chance.
DRAW_PRIOR_RUNS = (240.0, 90.0)

DRAW_FEATURES = ["draw_win_ae", "draw_place_ae"]


def draw_features(
    work: pd.DataFrame,
    day: np.ndarray,
    history: pd.DataFrame,
    races: pd.DataFrame,
    feats: FeatureColumns,
) -> None:
    """Draw bias: wins and places from this stall at this course and trip over their chance."""
    keys = ["racecourse_id", "surface", "distance_m", "draw"]
    mine = rows_where(
        history,
        history["racecourse_id"].isin(work["racecourse_id"].unique()).to_numpy()
        & history["distance_m"].isin(work["distance_m"].unique()).to_numpy(),
    )
    field = races["field"].to_numpy(float)[races.index.get_indexer(mine["race_id"].to_numpy())]
    outcomes = run_outcomes(mine)
    values = pd.DataFrame(
        {
            "won": outcomes["won"].to_numpy(),
            "placed": outcomes["placed"].to_numpy(),
            "win_chance": 1 / field,
            "place_chance": chance_to_place(field),
        }
    )
    (cum,) = cumulative_asof(mine[keys], days(mine["meeting_date"]), values, work[keys], day)
    # The prior's weight in chance: k runs at an average Hong Kong field's 1/12 and 3/12.
    k_win, k_place = DRAW_PRIOR_RUNS
    feats["draw_win_ae"] = (cum[:, 0] + k_win / 12) / (cum[:, 2] + k_win / 12)
    feats["draw_place_ae"] = (cum[:, 1] + k_place * PLACES / 12) / (
        cum[:, 3] + k_place * PLACES / 12
    )
