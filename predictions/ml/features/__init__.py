"""Point-in-time features per runner, computed from the runner frame (see `frame.py`).

A runner's features in a race on day D use only the frame's history rows: meeting_date < D,
status "result" and non_runner False. Nothing from day D counts, not even races run earlier that
day, so a race card has the same features before and after its results come in, and declared
races add nothing to anyone's history.

How: history rows are aggregated per (entity, day), cumulated within the entity in day order and
looked up "as of" the day before D by a binary search on sorted (entity, day) keys. Jockeys ride
several races a day, so history is counted by day, never by row. For a race card (`targets`) only
the entities the targets need are aggregated; standard times and track variants are per race, so
they are computed over the whole history, which a worker keeps between refreshes along with the
jockeys', trainers', draws' and class pars' daily sums (`predictions.ml.history`).

No feature uses `win_odds`: the features feed a fundamental model, which is combined with the
market afterwards. Counts and shrunken rates are never NaN; form, speed, running-style and
"change since last run" columns are NaN before a horse's first run and wherever an input is
unknown. Boosters take NaN as is. For a linear or conditional-logit model fill NaN with the
training set's column median (`h_runs` == 0 already tells the model why a debutant's form is
missing) and the `_rel` columns with 0 (the field's mean).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from predictions.ml.features.asof import days
from predictions.ml.features.common import FeatureColumns, race_transform, rows_where
from predictions.ml.features.draw import DRAW_FEATURES, draw_features
from predictions.ml.features.horse import HORSE_FEATURES, horse_features
from predictions.ml.features.jockey_trainer import JOCKEY_TRAINER_FEATURES, jockey_trainer_features
from predictions.ml.features.priors import FIXED_PRIORS, FeaturePriors, priors_estimate
from predictions.ml.features.races import (
    RACE_FEATURES,
    RELATIVE_FEATURES,
    RELATIVE_MEAN,
    RELATIVE_RANK,
    history_races,
    race_features,
    relative_features,
)

if TYPE_CHECKING:
    from predictions.ml.history import KeptHistory

FEATURE_COLUMNS: list[str] = (
    RACE_FEATURES + HORSE_FEATURES + JOCKEY_TRAINER_FEATURES + DRAW_FEATURES + RELATIVE_FEATURES
)


__all__ = [
    "FEATURE_COLUMNS",
    "FIXED_PRIORS",
    "FeaturePriors",
    "build_features",
    "priors_estimate",
]


def build_features(
    frame: pd.DataFrame,
    *,
    targets: pd.Series | None = None,
    kept: KeptHistory | None = None,
    priors: FeaturePriors = FIXED_PRIORS,
) -> pd.DataFrame:
    """Features for the rows of `frame`, or only for the rows where boolean `targets` is True.

    Rates, track variants and class pars are shrunk by `priors`: a model version's own
    (`Algorithm.feature_priors`) wherever its features are built.

    Returns a float32 frame indexed like those rows, with columns FEATURE_COLUMNS. The whole frame
    is the history: a target's features use only rows from earlier days (see the module docstring).
    With `kept` (the whole settled history as a worker keeps it), `frame` need only hold the rows
    of the targets' horses (`KeptHistory.frame_for`): the past races and the class par, jockey,
    trainer and draw sums come from `kept`, and the features are the same.
    Each family computes in float64 and stores float32 in one matrix (`FeatureColumns`): half the
    bytes, for training reads hundreds of thousands of rows into a 2 GB worker. The frame wraps
    that column-major matrix without a copy, and the algorithms hand it to LightGBM and XGBoost
    without one either.
    """
    if targets is None:
        work = frame
    else:
        wanted = targets.reindex(frame.index, fill_value=False).to_numpy(dtype=bool)
        # Field-relative features need every runner of a target's race, targets or not.
        work = frame[frame["race_id"].isin(frame["race_id"].to_numpy()[wanted])]
    is_history = (frame["status"].to_numpy() == "result") & ~frame["non_runner"].to_numpy(bool)
    history = rows_where(frame, is_history)

    day = days(work["meeting_date"])
    runner = ~work["non_runner"].to_numpy(bool)
    # The field is the starters known before the off: the declared runners less the non-runners,
    # counted the same way for a card and for a past race. (In the Hong Kong set every row is a
    # starter: it lists only the horses that ran, so its fields are the starters as they are.)
    field = race_transform(work["race_id"].to_numpy(), runner.astype(float), "sum")
    races = history_races(history, priors) if kept is None else kept.races(priors)

    feats = FeatureColumns(len(work), FEATURE_COLUMNS, float64=RELATIVE_MEAN + RELATIVE_RANK)
    par_sums = None if kept is None else kept.class_par_sums
    race_features(work, day, field, races, feats, priors, par_sums=par_sums)
    last_jockey = horse_features(work, day, field, history, races, feats, priors)
    counts = None if kept is None else kept.entity_counts
    jockey_trainer_features(work, day, field, history, last_jockey, feats, priors, counts=counts)
    sums = None if kept is None else kept.draw_sums(work, day)
    draw_features(work, day, history, races, feats, priors, sums=sums)
    relative_features(work["race_id"].to_numpy(), runner, feats)

    matrix, index = feats.matrix, work.index
    if targets is not None:
        keep = targets.reindex(index, fill_value=False).to_numpy(dtype=bool)
        matrix, index = np.asfortranarray(matrix[keep]), index[keep]
    return pd.DataFrame(matrix, index=index, columns=FEATURE_COLUMNS, copy=False)
