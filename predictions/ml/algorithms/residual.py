"""A boosted correction to the market: LightGBM starting from the odds' log-probabilities."""

from typing import ClassVar

import numpy as np
import pandas as pd

from predictions.ml.algorithms.base import floored_log
from predictions.ml.algorithms.market import any_price, market_on_starters
from predictions.ml.algorithms.race_softmax import RaceSoftmaxBooster

MARKET_COLUMN = "market_log_p"


class Residual(RaceSoftmaxBooster):
    """The market's view, corrected by what the fundamental features know that the price does not.

    Each runner's score starts at log p_market (a fixed offset) and the trees learn what to add
    to it, under a softmax within the race (`RaceSoftmaxBooster`). With no trees the model is
    the market, so every tree has to earn its place against it. The trees see the fundamental
    features and the market's own log-probability, so they can also bend the price where it is
    biased (long shots are over-bet in most pools).

    A correction is small and noisy, so the trees are few-leaved, need many runners per leaf and
    carry a strong L2 penalty; their number and shape are chosen on the last training season.

    Only races with a price teach it (the offset is the market). A race without any price gets
    the correction on a uniform start: a weak guess, as its pages say of unpriced races anyway.
    """

    name = "residual"
    uses_market = True
    extra_columns: ClassVar[tuple[str, ...]] = (MARKET_COLUMN,)

    def _rows(self, features: pd.DataFrame, frame: pd.DataFrame) -> np.ndarray:
        rows = super()._rows(features, frame) & any_price(frame)
        if not rows.any():
            raise ValueError("no race with a price and a winner to learn a correction from")
        return rows

    def _design(
        self, features: pd.DataFrame, frame: pd.DataFrame, rows: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """The fundamental features, then the market's log-probability, and the offset (the
        market's log-probability, 0 in a race without a price): one copy of the features, taken
        a column at a time (a second whole copy would be the fit's peak at scale)."""
        offset = np.where(any_price(frame), floored_log(market_on_starters(frame)), 0.0)
        columns = self._columns(features)
        index = np.arange(len(columns)) if rows is None else np.flatnonzero(rows)
        offset = offset[index]
        values = np.empty((len(index), columns.shape[1] + 1), dtype=np.float32, order="F")
        for j in range(columns.shape[1]):
            np.take(columns[:, j], index, out=values[:, j])
        values[:, -1] = offset
        return values, offset
