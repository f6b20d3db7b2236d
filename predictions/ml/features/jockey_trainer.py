"""Jockey, trainer and their combination: rides and shrunken win and place rates."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from predictions.ml.features.common import (
    LONG_WINDOW_DAYS,
    SHORT_WINDOW_DAYS,
    FeatureColumns,
    chance_to_place,
    entity_counts,
    shrunk,
)

if TYPE_CHECKING:
    from predictions.ml.features.priors import FeaturePriors

JOCKEY_TRAINER_FEATURES = [
    "j_rides",
    "j_win_rate",
    "j_rides_365",
    "j_win_rate_365",
    "j_place_rate_365",
    "j_win_rate_60",
    "t_runs",
    "t_win_rate",
    "t_runs_365",
    "t_win_rate_365",
    "t_place_rate_365",
    "t_win_rate_60",
    "jt_runs",
    "jt_win_rate",
]


def jockey_trainer_features(
    work: pd.DataFrame,
    day: np.ndarray,
    field: np.ndarray,
    history: pd.DataFrame,
    last_jockey: np.ndarray,
    feats: FeatureColumns,
    priors: FeaturePriors,
    *,
    counts: Callable[[pd.DataFrame, np.ndarray, tuple[int, ...]], list[np.ndarray]] | None = None,
) -> None:
    """Rates are shrunk by the `priors`' pseudo-runs at the runner's chance.

    `counts(keys, day, lags)` gives `entity_counts` of the whole history when the caller keeps
    them (`predictions.ml.history`); else they are counted from `history` here."""
    if counts is None:
        counts = partial(entity_counts, history)
    win_chance, place_chance = 1 / field, chance_to_place(field)
    windows = (0, LONG_WINDOW_DAYS, SHORT_WINDOW_DAYS)

    # Today's jockeys and, for the rate change, the ones who rode each horse last time.
    jockeys = pd.DataFrame(
        {"jockey_id": np.concatenate([work["jockey_id"].to_numpy(float), last_jockey])}
    )
    career, year_ago, recent_ago = counts(jockeys, np.concatenate([day, day]), windows)
    k_win, k_place = priors.jockey
    year = career - year_ago
    recent = career - recent_ago
    chance = np.concatenate([win_chance, win_chance])
    year_rate = shrunk(year[:, 1], year[:, 0], chance, k_win)
    n = len(work)
    feats["j_rides"] = career[:n, 0]
    feats["j_win_rate"] = shrunk(career[:n, 1], career[:n, 0], win_chance, k_win)
    feats["j_rides_365"] = year[:n, 0]
    feats["j_win_rate_365"] = year_rate[:n]
    feats["j_place_rate_365"] = shrunk(year[:n, 2], year[:n, 0], place_chance, k_place)
    feats["j_win_rate_60"] = shrunk(recent[:n, 1], recent[:n, 0], win_chance, k_win)
    # A better (or worse) jockey booked than last time.
    feats["h_jockey_rate_change"] = np.where(
        np.isnan(last_jockey), np.nan, year_rate[:n] - year_rate[n:]
    )

    career, year_ago, recent_ago = counts(work[["trainer_id"]], day, windows)
    k_win, k_place = priors.trainer
    year = career - year_ago
    recent = career - recent_ago
    feats["t_runs"] = career[:, 0]
    feats["t_win_rate"] = shrunk(career[:, 1], career[:, 0], win_chance, k_win)
    feats["t_runs_365"] = year[:, 0]
    feats["t_win_rate_365"] = shrunk(year[:, 1], year[:, 0], win_chance, k_win)
    feats["t_place_rate_365"] = shrunk(year[:, 2], year[:, 0], place_chance, k_place)
    feats["t_win_rate_60"] = shrunk(recent[:, 1], recent[:, 0], win_chance, k_win)

    (career,) = counts(work[["jockey_id", "trainer_id"]], day, (0,))
    k_win, _ = priors.jockey_trainer
    feats["jt_runs"] = career[:, 0]
    feats["jt_win_rate"] = shrunk(career[:, 1], career[:, 0], win_chance, k_win)
