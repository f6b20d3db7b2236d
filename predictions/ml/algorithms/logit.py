"""A conditional logit (a softmax within the race) on standardised features."""

from typing import Any, ClassVar

import numpy as np
import pandas as pd

from predictions.ml.algorithms.base import Algorithm, race_probabilities, training_rows
from predictions.ml.algorithms.estimation import conditional_logit
from predictions.ml.probability import race_codes, win_shares


class ConditionalLogit(Algorithm):
    """A conditional logit on standardised features.

    A missing value becomes the training median, and a column with gaps in training gains a
    0/1 "missing" indicator, so that "unknown" can carry its own weight (a debutant is not an
    average horse). All design columns are standardised, which makes one L2 penalty fair to
    all of them; `l2` applies to the mean log-likelihood per race.
    """

    name = "logit"
    defaults: ClassVar[dict[str, Any]] = {"l2": 1e-3, "missing_indicators": True}

    def fit(self, features: pd.DataFrame, frame: pd.DataFrame) -> "ConditionalLogit":
        rows = training_rows(features, frame)
        self.feature_names_ = list(features.columns)
        train = features.iloc[rows]
        self.medians_ = train.median().fillna(0.0).to_numpy(dtype=float)
        gaps = train.isna().any().to_numpy()
        self.indicators_ = np.flatnonzero(gaps if self.hyper["missing_indicators"] else [])
        design = self._design(features)[rows]
        self.mean_ = design.mean(axis=0)
        scale = design.std(axis=0)
        self.scale_ = np.where(scale > 1e-12, scale, 1.0)
        codes, n_races = race_codes(frame["race_id"].to_numpy()[rows])
        self.coef_, self.train_log_loss_ = conditional_logit(
            (design - self.mean_) / self.scale_,
            codes,
            n_races,
            win_shares(frame)[rows],
            float(self.hyper["l2"]),
        )
        return self

    def _design(self, features: pd.DataFrame) -> np.ndarray:
        values = self._columns(features)
        missing = np.isnan(values)
        filled = np.where(missing, self.medians_, values)
        return np.hstack([filled, missing[:, self.indicators_].astype(float)])

    def _standardised(self, features: pd.DataFrame) -> np.ndarray:
        return (self._design(features) - self.mean_) / self.scale_

    def predict(self, features: pd.DataFrame, frame: pd.DataFrame) -> np.ndarray:
        return race_probabilities(self._standardised(features) @ self.coef_, frame)

    def contributions(self, features: pd.DataFrame, frame: pd.DataFrame) -> pd.DataFrame:
        terms = self._standardised(features) * self.coef_
        n = len(self.feature_names_)
        # A missing indicator's term belongs to the feature whose gap it marks.
        per_feature = terms[:, :n].copy()
        per_feature[:, self.indicators_] += terms[:, n:]
        return pd.DataFrame(per_feature, index=features.index, columns=self.feature_names_)

    def summary(self) -> dict[str, Any]:
        names = self.feature_names_ + [
            f"{self.feature_names_[i]}_missing" for i in self.indicators_
        ]
        return {
            "coefficients": {name: float(c) for name, c in zip(names, self.coef_, strict=True)},
            "train_log_loss": self.train_log_loss_,
        }
