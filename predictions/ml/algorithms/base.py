"""The interface every algorithm follows, and the steps they share around it."""

import copy
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from predictions.ml.features.priors import FIXED_PRIORS, FeaturePriors
from predictions.ml.probability import PROBABILITY_FLOOR, scored_rows, softmax_within, starters


class Algorithm:
    """The interface every algorithm follows; hyper-parameters live in `defaults`."""

    name: ClassVar[str]
    uses_market: ClassVar[bool] = False
    defaults: ClassVar[dict[str, Any]] = {}
    # Set by training to the priors its features were built with; models pickled before they
    # were estimated per window have none of their own and read this one.
    feature_priors_: FeaturePriors | None = None

    def __init__(self, *, seed: int = 0, **params: Any) -> None:
        unknown = set(params) - set(self.defaults)
        if unknown:
            raise TypeError(f"{self.name} has no parameter(s) {sorted(unknown)}")
        self.seed = int(seed)
        self.hyper = {**copy.deepcopy(self.defaults), **params}

    def fit(self, features: pd.DataFrame, frame: pd.DataFrame) -> "Algorithm":
        raise NotImplementedError

    def predict(self, features: pd.DataFrame, frame: pd.DataFrame) -> np.ndarray:
        """Win probabilities aligned with `frame`, summing to 1 within each race."""
        raise NotImplementedError

    def contributions(self, features: pd.DataFrame, frame: pd.DataFrame) -> pd.DataFrame:
        """Per-runner, per-feature contributions to the within-race score (features' shape)."""
        raise NotImplementedError

    def params(self) -> dict[str, Any]:
        """Hyper-parameters: `ALGORITHMS[name](seed=seed, **params())` builds it again.

        The seed stays out: a model version keeps it in a column of its own, and a second copy
        in its hyper-parameters would be passed twice when the version is built again.
        """
        return copy.deepcopy(self.hyper)

    def summary(self) -> dict[str, Any]:
        """What fitting learned that is worth storing with the model version (JSON-ready)."""
        return {}

    def tuning(self) -> dict[str, Any]:
        """Parameters pinning what this fit tuned on its own out-of-fold data ({} if nothing).

        Benter's cross-fitting refits the first stage on parts of the data; passing these lets
        each refit skip the tuning instead of repeating it on less data.
        """
        return {}

    def tuning_window(self) -> dict[str, Any] | None:
        """The race days whose results chose what this fit tuned on its own (the first and last
        day, and the names of what was tuned), stored with the model version; None when it
        tuned nothing. Always inside the training window: a backtest's evaluated season never
        tunes the model that scores it. The settings in `defaults` are not tuned here."""
        return getattr(self, "tuning_window_", None)

    def feature_priors(self) -> FeaturePriors:
        """The shrinkage strengths to build this model's features with, in training and ever
        after: its own, or the fixed ones every model used before they were estimated."""
        return self.feature_priors_ or FIXED_PRIORS

    def out_of_sample(self) -> tuple[pd.Index, np.ndarray] | None:
        """Probabilities the fit gave training runners from models that had not seen their
        races, as (the frame's index labels, probabilities), for choices made on the training
        window after fitting (`evaluation.value_margin_choose`); None where the algorithm has
        none. Handed over once: the fitted model does not keep them, or its stored artifact
        would carry a copy of the training window."""
        return self.__dict__.pop("out_of_sample_", None)

    def _columns(self, features: pd.DataFrame) -> np.ndarray:
        """The training columns, by name and in training order, as float32: a view of
        `build_features`' frame when its columns are those (training), a copy otherwise."""
        if list(features.columns) != self.feature_names_:
            features = features[self.feature_names_]
        return features.to_numpy(dtype=np.float32)


def race_probabilities(scores: np.ndarray, frame: pd.DataFrame) -> np.ndarray:
    """Softmax of `scores` within each race over its starters; non-runners get 0."""
    return softmax_within(np.where(starters(frame), scores, -np.inf), frame["race_id"])


def training_rows(features: pd.DataFrame, frame: pd.DataFrame) -> np.ndarray:
    """The rows an algorithm learns from (`scored_rows`); refuses a frame with none."""
    if len(features) != len(frame):
        raise ValueError("features and frame must have the same rows")
    rows = scored_rows(frame)
    if not rows.any():
        raise ValueError("no race with a winner and two or more starters to learn from")
    return rows


def floored_log(probs: np.ndarray) -> np.ndarray:
    """log p, with p floored at PROBABILITY_FLOOR so that a zero gives a finite score."""
    return np.log(np.maximum(probs, PROBABILITY_FLOOR))


def tree_shapes(hyper: dict[str, Any], names: tuple[str, ...]) -> list[dict[str, Any]]:
    """The tree shapes a booster tries: the given one (`hyper`'s values of `names`) first, then
    each of `hyper["shapes"]` (the values of `names` in order; the given one's after a shape's
    last value)."""
    given = {name: hyper[name] for name in names}
    shapes = [given]
    for values in hyper["shapes"] or ():
        if len(values) > len(names):
            raise ValueError(f"a shape is at most {len(names)} values ({', '.join(names)})")
        shapes.append({**given, **dict(zip(names, values, strict=False))})
    return shapes


def days_window(dates: np.ndarray | pd.Series, tuned: list[str]) -> dict[str, Any]:
    """A `tuning_window`: the first and last of `dates` (ISO) and what was tuned on them."""
    dates = pd.to_datetime(np.asarray(dates))
    return {"from": str(dates.min().date()), "to": str(dates.max().date()), "tuned": tuned}
