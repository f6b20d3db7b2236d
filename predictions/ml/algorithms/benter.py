"""Benter's two-stage model, and `ALGORITHMS`, the registry it picks its first stage from."""

from typing import Any, ClassVar

import numpy as np
import pandas as pd

from predictions.ml.algorithms.base import (
    Algorithm,
    days_window,
    floored_log,
    race_probabilities,
    training_rows,
)
from predictions.ml.algorithms.boosted import LightGBM, XGBoost
from predictions.ml.algorithms.estimation import conditional_logit, time_folds
from predictions.ml.algorithms.logit import ConditionalLogit
from predictions.ml.algorithms.market import Market, any_price, fully_priced, market_on_starters
from predictions.ml.algorithms.residual import Residual
from predictions.ml.algorithms.softmax import Softmax
from predictions.ml.probability import market_probabilities, race_codes, win_shares


class Benter(Algorithm):
    """Benter's two-stage model: p proportional to p_fund**a * p_market**b within the race.

    The first stage (`first_stage`, any algorithm that does not read the odds) gives
    fundamental probabilities. a and b come from a conditional logit on log p_fund and
    log p_market, where p_fund must be out of sample, or a would trust the first stage's
    in-sample overconfidence: the training races are cut into `folds` date-ordered folds and
    each fold's p_fund comes from a first stage fitted on the other folds. Only races where
    every starter has a price enter that fit. The first stage that predicts is fitted on all
    the training races. A booster's tuning already scored each of the same folds with a fit
    on the others: those out-of-fold probabilities are p_fund, with no refit. A first stage
    without them (the logit) is refitted per fold, with what it tuned on its own (a tree count,
    a temperature) pinned rather than tuned again in each, which would cost four times as much.

    Missing odds: a runner without a price gets the race's smallest implied probability (see
    `market_probabilities`); a race without any price gets p_fund alone, since a was fitted
    beside the market and would mis-scale it without one.
    """

    name = "benter"
    uses_market = True
    defaults: ClassVar[dict[str, Any]] = {
        "first_stage": "lightgbm",
        "first_stage_params": {},
        "folds": 4,
    }

    def _first_stage(self, **pinned: Any) -> Algorithm:
        cls = ALGORITHMS[self.hyper["first_stage"]]
        if cls.uses_market:
            raise ValueError(f"the first stage must not read the odds ({cls.name} does)")
        return cls(seed=self.seed, **{**self.hyper["first_stage_params"], **pinned})

    def fit(self, features: pd.DataFrame, frame: pd.DataFrame) -> "Benter":
        # Row numbers rather than a copy of the training rows' features: each fold's refit
        # copies only its own rows, and the features are the largest thing in memory.
        train = np.flatnonzero(training_rows(features, frame))
        train_frame = frame.iloc[train]
        race_ids = train_frame["race_id"].to_numpy()
        folds = time_folds(race_ids, train_frame["meeting_date"], int(self.hyper["folds"]))
        if folds.max() < 1:
            raise ValueError("cross-fitting needs races on at least two race days")

        # The final first stage comes first: its out-of-fold probabilities are the cross-fitted
        # ones where it has them; otherwise its tuning (trees, temperature) is pinned in the
        # refits, which would each repeat it.
        self.first_stage_ = self._first_stage().fit(features, frame)
        fundamental = self._first_stage_out_of_fold(train_frame)
        if fundamental is None:
            pinned = self.first_stage_.tuning()
            fundamental = np.empty(len(train_frame))
            for fold in range(folds.max() + 1):
                held = folds == fold
                stage = self._first_stage(**pinned)
                stage.fit(features.iloc[train[~held]], train_frame.iloc[~held])
                fundamental[held] = stage.predict(
                    features.iloc[train[held]], train_frame.iloc[held]
                )

        market = market_probabilities(train_frame["win_odds"], race_ids)
        priced = fully_priced(train_frame)
        targets = win_shares(train_frame)
        codes, n_races = race_codes(race_ids[priced])
        design = np.column_stack([floored_log(fundamental), floored_log(market)])[priced]
        self.a_, self.b_, self.second_stage_races_ = 1.0, 0.0, n_races
        self.oof_log_loss_ = self.oof_first_stage_log_loss_ = None
        if n_races:
            (self.a_, self.b_), self.oof_log_loss_ = conditional_logit(
                design, codes, n_races, targets[priced], 0.0
            )
            self.oof_first_stage_log_loss_ = float(-(targets[priced] @ design[:, 0]) / n_races)
        # a and b are two numbers fitted on these same cross-fitted probabilities: close enough
        # to out of sample for a choice made on the training window.
        scores = self.a_ * floored_log(fundamental) + self.b_ * floored_log(market)
        scores = np.where(any_price(train_frame), scores, floored_log(fundamental))
        self.out_of_sample_ = (train_frame.index, race_probabilities(scores, train_frame))
        first = self.first_stage_.tuning_window()
        tuned = ["a", "b", *(f"first_stage.{name}" for name in (first or {}).get("tuned", []))]
        self.tuning_window_ = days_window(train_frame["meeting_date"], tuned)
        return self

    def _first_stage_out_of_fold(self, train_frame: pd.DataFrame) -> np.ndarray | None:
        """The first stage's own out-of-fold probabilities of the training runners, when its
        tuning cut the same date-ordered folds as the cross-fitting would: a booster's search
        already fitted each fold on the others, and the refits (the first trees of the same
        fits, the same temperature) would give the same probabilities again at the cost of four
        more fits. None when there are none to reuse (a logit first stage, other folds)."""
        held = self.first_stage_.out_of_sample()
        same_folds = self.first_stage_.hyper.get("calibration_folds") == self.hyper["folds"]
        if held is None or not same_folds or not held[0].equals(train_frame.index):
            return None
        return held[1]

    def predict(self, features: pd.DataFrame, frame: pd.DataFrame) -> np.ndarray:
        fundamental = floored_log(self.first_stage_.predict(features, frame))
        market = floored_log(market_on_starters(frame))
        scores = self.a_ * fundamental + self.b_ * market
        return race_probabilities(np.where(any_price(frame), scores, fundamental), frame)

    def contributions(self, features: pd.DataFrame, frame: pd.DataFrame) -> pd.DataFrame:
        """The first stage's contributions times a (the market's term is not a feature)."""
        return self.first_stage_.contributions(features, frame) * self.a_

    def summary(self) -> dict[str, Any]:
        return {
            "a": float(self.a_),
            "b": float(self.b_),
            "second_stage_races": int(self.second_stage_races_),
            "oof_log_loss": self.oof_log_loss_,
            "oof_first_stage_log_loss": self.oof_first_stage_log_loss_,
            "first_stage": self.first_stage_.summary(),
        }


# Here rather than in the package's __init__: Benter looks its first stage up in it by name.
ALGORITHMS: dict[str, type[Algorithm]] = {
    cls.name: cls
    for cls in (Market, ConditionalLogit, LightGBM, XGBoost, Benter, Residual, Softmax)
}
