"""The betting market as an algorithm, and which races have prices."""

import numpy as np
import pandas as pd

from predictions.ml.algorithms.base import Algorithm, floored_log, race_probabilities
from predictions.ml.probability import market_probabilities, race_codes, starters


class Market(Algorithm):
    """The betting market: 1/odds normalised within the race (see `market_probabilities`)."""

    name = "market"
    uses_market = True

    def fit(self, features: pd.DataFrame, frame: pd.DataFrame) -> "Market":
        return self

    def predict(self, features: pd.DataFrame, frame: pd.DataFrame) -> np.ndarray:
        return market_on_starters(frame)

    def contributions(self, features: pd.DataFrame, frame: pd.DataFrame) -> pd.DataFrame:
        return pd.DataFrame(index=features.index)


def market_on_starters(frame: pd.DataFrame) -> np.ndarray:
    """Market probabilities over the starters only; a withdrawn horse's price means nothing."""
    run = starters(frame)
    probs = np.zeros(len(frame))
    probs[run] = market_probabilities(
        frame["win_odds"].to_numpy(dtype=float)[run], frame["race_id"].to_numpy()[run]
    )
    # A race with no starters at all stays uniform, like every other function here.
    return race_probabilities(floored_log(probs), frame)


def _priced(frame: pd.DataFrame) -> np.ndarray:
    odds = frame["win_odds"].to_numpy(dtype=float)
    return np.isfinite(odds) & (odds > 0)


def fully_priced(frame: pd.DataFrame) -> np.ndarray:
    """Rows of races where every starter has a price (the frame holds starters only)."""
    codes, n_races = race_codes(frame["race_id"])
    unpriced = np.bincount(codes, weights=~_priced(frame), minlength=n_races)
    return unpriced[codes] == 0


def any_price(frame: pd.DataFrame) -> np.ndarray:
    """Rows of races where at least one starter has a price."""
    codes, n_races = race_codes(frame["race_id"])
    priced = np.bincount(codes, weights=_priced(frame) & starters(frame), minlength=n_races)
    return priced[codes] > 0
