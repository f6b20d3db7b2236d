"""A fundamental booster learnt on the finishing order: LightGBM under a softmax within the race."""

from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from predictions.ml.algorithms.race_softmax import RaceSoftmaxBooster


class Softmax(RaceSoftmaxBooster):
    """Strengths from the fundamental features alone, learnt race by race on the first places.

    A conditional logit with trees: p proportional to exp(trees) within the race, no offset and
    no odds. The loss is Plackett-Luce over the first `len(place_weights)` places (the winner
    among the field, the second among the rest, ...; see `_softmax_objective`): the places say
    more about a horse's strength than the win alone, in a window of a few thousand races. Lower
    places weigh less, being noisier (a beaten horse is often eased). On the Hong Kong set this
    lifted the pseudo-R² of season 7 from lightgbm's 0.1418 to 0.1485, where a winner-only
    softmax gave 0.141-0.142 like the per-runner classifier; the weights were chosen on season
    6, the last season of that training window.

    The trees' number comes from early stopping on the last training season, on the race's
    -log p(winner) (what the model is judged on), then a refit on the whole window. One tree
    shape by default: each shape in `shapes` would cost another early-stopped fit.
    """

    name = "softmax"
    uses_market = False
    defaults: ClassVar[dict[str, Any]] = {
        **RaceSoftmaxBooster.defaults,
        "n_estimators": 3000,
        "num_leaves": 15,
        "min_child_samples": 200,
        "lambda_l2": 10.0,
        "shapes": [],
        "place_weights": [1.0, 0.8, 0.6, 0.4],
    }
    search: ClassVar[tuple[str, ...]] = (*RaceSoftmaxBooster.search, "place_weights")

    def _design(
        self, features: pd.DataFrame, frame: pd.DataFrame, rows: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """The fundamental features and a zero offset."""
        columns = self._columns(features)
        if rows is not None and not rows.all():  # a training frame is all training rows
            columns = np.asfortranarray(columns[rows])
        return columns, np.zeros(len(columns))

    def _place_weights(self) -> Sequence[float]:
        return [float(weight) for weight in self.hyper["place_weights"]]
