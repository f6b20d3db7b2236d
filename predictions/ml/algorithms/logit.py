"""A conditional logit (a softmax within the race) on standardised features."""

from typing import Any, ClassVar

import numpy as np
import pandas as pd

from predictions.ml.algorithms.base import Algorithm, race_probabilities, training_rows
from predictions.ml.algorithms.estimation import conditional_logit
from predictions.ml.probability import race_codes, win_shares

PREDICT_BLOCK_ROWS = 16_384


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
        values = self._columns(features)
        # Column by column: the training rows as float64 exist one column at a time.
        medians, gaps = [], []
        for j in range(values.shape[1]):
            column = values[rows, j].astype(float)
            known = column[~np.isnan(column)]
            medians.append(float(np.median(known)) if len(known) else 0.0)
            gaps.append(len(known) < len(column))
        self.medians_ = np.array(medians)
        gaps = np.array(gaps) if self.hyper["missing_indicators"] else []
        self.indicators_ = np.flatnonzero(gaps)
        # The standardised design in float32, filled a column at a time; its mean and scale come
        # from the float64 column.
        n_columns = values.shape[1] + len(self.indicators_)
        design = np.empty((int(rows.sum()), n_columns), dtype=np.float32)
        self.mean_, self.scale_ = np.empty(n_columns), np.empty(n_columns)
        sources = [*range(values.shape[1]), *self.indicators_]
        for i, j in enumerate(sources):
            column = values[rows, j].astype(float)
            missing = np.isnan(column)
            if i < values.shape[1]:
                column = np.where(missing, self.medians_[j], column)
            else:
                column = missing.astype(float)
            self.mean_[i], scale = column.mean(), column.std()
            self.scale_[i] = scale if scale > 1e-12 else 1.0
            design[:, i] = (column - self.mean_[i]) / self.scale_[i]
        codes, n_races = race_codes(frame["race_id"].to_numpy()[rows])
        self.coef_, self.train_log_loss_ = conditional_logit(
            design, codes, n_races, win_shares(frame)[rows], float(self.hyper["l2"])
        )
        return self

    def _standardised(self, values: np.ndarray) -> np.ndarray:
        missing = np.isnan(values)
        filled = np.where(missing, self.medians_, values)
        design = np.hstack([filled, missing[:, self.indicators_].astype(float)])
        return (design - self.mean_) / self.scale_

    def predict(self, features: pd.DataFrame, frame: pd.DataFrame) -> np.ndarray:
        values = self._columns(features)
        scores = np.empty(len(values))
        # A block of rows at a time: the float64 design of a whole training set would not fit.
        for start in range(0, len(values), PREDICT_BLOCK_ROWS):
            block = slice(start, start + PREDICT_BLOCK_ROWS)
            scores[block] = self._standardised(values[block]) @ self.coef_
        return race_probabilities(scores, frame)

    def contributions(self, features: pd.DataFrame, frame: pd.DataFrame) -> pd.DataFrame:
        terms = self._standardised(self._columns(features)) * self.coef_
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
