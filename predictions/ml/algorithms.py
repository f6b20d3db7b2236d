"""Win-probability algorithms behind one small interface, registered by name in `ALGORITHMS`.

Each algorithm learns from `features` (float64, NaN allowed, one row per runner; never odds) and
the runner `frame` (see `frame.py`) whose rows line up with it, and predicts win probabilities
that sum to 1 within each race. Withdrawn horses (`non_runner`) get probability 0.

- `market`: the odds' implied probabilities, nothing learned.
- `logit`: a conditional logit (a softmax within the race) on standardised features.
- `lightgbm`, `xgboost`: gradient-boosted win classifiers whose scores are turned into race
  probabilities by a temperature fitted on out-of-fold scores (p proportional to
  exp(beta * score)); the number of trees is chosen on the same out-of-fold scores.
- `benter`: Benter's second stage, p proportional to p_fund**a * p_market**b, with a and b fitted
  on cross-fitted (out-of-sample) first-stage probabilities.

Instances pickle (joblib) with everything they need to predict.
"""

import copy
from typing import Any, ClassVar

import lightgbm as lgb
import numpy as np
import pandas as pd
import xgboost as xgb
from scipy.optimize import minimize

from predictions.ml.probability import (
    PROBABILITY_FLOOR,
    market_probabilities,
    race_codes,
    scored_rows,
    softmax_within,
    starters,
    win_shares,
)

# --------------------------------------------------------------------------- shared estimation


def time_folds(
    race_ids: np.ndarray | pd.Series, dates: np.ndarray | pd.Series, n_folds: int
) -> np.ndarray:
    """Fold numbers 0..k-1 per row: races in date order cut into `n_folds` contiguous blocks.

    Blocks hold about equal numbers of races and never split a race day (runners of one day
    share the going and the track, which would leak across folds), so all rows of a race share
    a fold and every race of fold i is run before every race of fold i + 1. Fewer than
    `n_folds` folds come back when there are fewer race days; the numbering is dense.
    """
    races = pd.DataFrame({"race_id": np.asarray(race_ids), "date": pd.to_datetime(dates)})
    race_dates = races.drop_duplicates("race_id")
    per_day = race_dates.groupby("date").size().sort_index()
    before = per_day.cumsum().to_numpy() - per_day.to_numpy()
    day_fold = (before * n_folds) // len(race_dates)
    day_fold = pd.Series(pd.factorize(day_fold)[0], index=per_day.index)
    return day_fold.loc[races["date"].to_numpy()].to_numpy()


def _conditional_logit(
    design: np.ndarray,
    codes: np.ndarray,
    n_races: int,
    targets: np.ndarray,
    l2: float,
    start: np.ndarray | None = None,
) -> tuple[np.ndarray, float]:
    """Coefficients and mean loss of a conditional logit; see `fit_conditional_logit`."""
    design = np.asarray(design, dtype=float)
    race_weight = np.bincount(codes, weights=targets, minlength=n_races)

    def objective(beta: np.ndarray) -> tuple[float, np.ndarray]:
        scores = design @ beta
        race_max = np.full(n_races, -np.inf)
        np.maximum.at(race_max, codes, scores)
        exps = np.exp(scores - race_max[codes])
        totals = np.bincount(codes, weights=exps, minlength=n_races)
        log_norm = race_max + np.log(totals)
        loss = (race_weight @ log_norm - targets @ scores) / n_races + 0.5 * l2 * beta @ beta
        probs = exps / totals[codes]
        grad = design.T @ (probs * race_weight[codes] - targets) / n_races + l2 * beta
        return loss, grad

    result = minimize(
        objective,
        np.zeros(design.shape[1]) if start is None else start,
        jac=True,
        method="L-BFGS-B",
        options={"maxiter": 1000, "gtol": 1e-7},
    )
    return result.x, float(result.fun - 0.5 * l2 * result.x @ result.x)


def fit_conditional_logit(
    design: np.ndarray,
    race_ids: np.ndarray | pd.Series,
    targets: np.ndarray,
    *,
    l2: float = 0.0,
) -> np.ndarray:
    """Coefficients of p_i = exp(x_i . beta) / sum over i's race of exp(x_j . beta).

    Minimises the mean over races of -sum_i target_i * log p_i, plus l2 / 2 * |beta|^2, by
    L-BFGS with the analytic gradient. `targets` are the win shares (1/k on dead heaters).
    There is no intercept: anything common to a race cancels within it.
    """
    codes, n_races = race_codes(race_ids)
    return _conditional_logit(design, codes, n_races, np.asarray(targets, dtype=float), l2)[0]


def _race_probabilities(scores: np.ndarray, frame: pd.DataFrame) -> np.ndarray:
    """Softmax of `scores` within each race over its starters; non-runners get 0."""
    return softmax_within(np.where(starters(frame), scores, -np.inf), frame["race_id"])


def _training_rows(features: pd.DataFrame, frame: pd.DataFrame) -> np.ndarray:
    if len(features) != len(frame):
        raise ValueError("features and frame must have the same rows")
    rows = scored_rows(frame)
    if not rows.any():
        raise ValueError("no race with a winner and two or more starters to learn from")
    return rows


# --------------------------------------------------------------------------- the interface


class Algorithm:
    """The interface every algorithm follows; hyper-parameters live in `defaults`."""

    name: ClassVar[str]
    uses_market: ClassVar[bool] = False
    defaults: ClassVar[dict[str, Any]] = {}

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

    def _columns(self, features: pd.DataFrame) -> np.ndarray:
        """The training columns, by name and in training order."""
        return features[self.feature_names_].to_numpy(dtype=float)


class Market(Algorithm):
    """The betting market: 1/odds normalised within the race (see `market_probabilities`)."""

    name = "market"
    uses_market = True

    def fit(self, features: pd.DataFrame, frame: pd.DataFrame) -> "Market":
        return self

    def predict(self, features: pd.DataFrame, frame: pd.DataFrame) -> np.ndarray:
        return _market_on_starters(frame)

    def contributions(self, features: pd.DataFrame, frame: pd.DataFrame) -> pd.DataFrame:
        return pd.DataFrame(index=features.index)


def _market_on_starters(frame: pd.DataFrame) -> np.ndarray:
    """Market probabilities over the starters only; a withdrawn horse's price means nothing."""
    run = starters(frame)
    probs = np.zeros(len(frame))
    probs[run] = market_probabilities(
        frame["win_odds"].to_numpy(dtype=float)[run], frame["race_id"].to_numpy()[run]
    )
    # A race with no starters at all stays uniform, like every other function here.
    return _race_probabilities(np.log(np.maximum(probs, PROBABILITY_FLOOR)), frame)


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
        rows = _training_rows(features, frame)
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
        self.coef_, self.train_log_loss_ = _conditional_logit(
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
        return _race_probabilities(self._standardised(features) @ self.coef_, frame)

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


class _BoostedTrees(Algorithm):
    """A boosted win classifier turned into calibrated race probabilities.

    The classifier learns P(win) per runner (dead heaters carry a soft label of 1/k). Its raw
    score (log-odds) is then treated as a strength: p proportional to exp(beta * score) within
    the race. beta and the number of trees come from out-of-fold scores: the training races
    are cut into `calibration_folds` date-ordered folds, each fold is scored by a model fitted
    on the others, and the tree count (every `tree_step` trees) and beta with the lowest
    out-of-fold race log loss win. The final model is fitted on all the training races.
    `fixed_trees` and `fixed_beta` skip that search (see `Algorithm.tuning`).
    """

    defaults: ClassVar[dict[str, Any]] = {
        "n_estimators": 400,
        "learning_rate": 0.04,
        "calibration_folds": 4,
        "tree_step": 25,
        "n_jobs": 2,
        "fixed_trees": None,
        "fixed_beta": None,
    }

    def _train(self, values: np.ndarray, labels: np.ndarray, n_trees: int) -> Any:
        raise NotImplementedError

    def _margin(self, booster: Any, values: np.ndarray, start: int, stop: int) -> np.ndarray:
        """Raw score of trees start..stop-1, the base score included only when start is 0."""
        raise NotImplementedError

    def _contrib(self, booster: Any, values: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def fit(self, features: pd.DataFrame, frame: pd.DataFrame) -> "_BoostedTrees":
        rows = _training_rows(features, frame)
        self.feature_names_ = list(features.columns)
        values = self._columns(features)[rows]
        labels = win_shares(frame)[rows]
        race_ids = frame["race_id"].to_numpy()[rows]
        codes, n_races = race_codes(race_ids)
        dates = frame["meeting_date"].to_numpy()[rows]
        folds = time_folds(race_ids, dates, int(self.hyper["calibration_folds"]))

        n_max = int(self.hyper["n_estimators"])
        step = int(self.hyper["tree_step"])
        checkpoints = sorted({*range(step, n_max + 1, step), n_max})
        self.n_trees_, self.beta_, self.oof_log_loss_ = n_max, 1.0, None
        if self.hyper["fixed_trees"] is not None:
            self.n_trees_ = int(self.hyper["fixed_trees"])
            self.beta_ = float(self.hyper["fixed_beta"] or 1.0)
        elif folds.max() >= 1:
            out_of_fold = np.zeros((len(checkpoints), len(values)))
            for fold in range(folds.max() + 1):
                held = folds == fold
                booster = self._train(values[~held], labels[~held], n_max)
                # Scores at each checkpoint add up slices of trees: one pass over the trees.
                score, start = 0.0, 0
                for i, stop in enumerate(checkpoints):
                    score = score + self._margin(booster, values[held], start, stop)
                    out_of_fold[i, held], start = score, stop
            fits, beta = [], np.ones(1)
            for scores in out_of_fold:
                # The previous checkpoint's beta is a close start for the next.
                beta, loss = _conditional_logit(scores[:, None], codes, n_races, labels, 0.0, beta)
                fits.append((beta, loss))
            best = min(range(len(fits)), key=lambda i: fits[i][1])
            self.n_trees_ = checkpoints[best]
            self.beta_ = float(fits[best][0][0])
            self.oof_log_loss_ = fits[best][1]
        # With a single race day there is nothing out of fold: raw log-odds, all trees.
        self.booster_ = self._train(values, labels, self.n_trees_)
        return self

    def predict(self, features: pd.DataFrame, frame: pd.DataFrame) -> np.ndarray:
        scores = self._margin(self.booster_, self._columns(features), 0, self.n_trees_)
        return _race_probabilities(self.beta_ * scores, frame)

    def contributions(self, features: pd.DataFrame, frame: pd.DataFrame) -> pd.DataFrame:
        """SHAP values of the raw score (bias dropped), times beta: the calibrated score's units."""
        contrib = self._contrib(self.booster_, self._columns(features))[:, :-1] * self.beta_
        return pd.DataFrame(contrib, index=features.index, columns=self.feature_names_)

    def summary(self) -> dict[str, Any]:
        return {"n_trees": self.n_trees_, "beta": self.beta_, "oof_log_loss": self.oof_log_loss_}

    def tuning(self) -> dict[str, Any]:
        return {"fixed_trees": self.n_trees_, "fixed_beta": self.beta_}


class LightGBM(_BoostedTrees):
    name = "lightgbm"
    # Slow learning, large leaves and strong L2: a win is a rare, noisy label. Chosen on the
    # Hong Kong seasons 2001-2004 together, not on one of them.
    defaults: ClassVar[dict[str, Any]] = {
        **_BoostedTrees.defaults,
        "n_estimators": 800,
        "learning_rate": 0.02,
        "num_leaves": 15,
        "min_child_samples": 200,
        "feature_fraction": 0.7,
        "bagging_fraction": 0.8,
        "lambda_l2": 10.0,
    }

    def _train(self, values: np.ndarray, labels: np.ndarray, n_trees: int) -> lgb.Booster:
        h = self.hyper
        params = {
            # cross_entropy is the binary log loss that also takes the 1/k dead-heat labels.
            "objective": "cross_entropy",
            "learning_rate": h["learning_rate"],
            "num_leaves": h["num_leaves"],
            "min_child_samples": h["min_child_samples"],
            "feature_fraction": h["feature_fraction"],
            "bagging_fraction": h["bagging_fraction"],
            "bagging_freq": 1,
            "lambda_l2": h["lambda_l2"],
            "num_threads": h["n_jobs"],
            "seed": self.seed,
            "deterministic": True,
            "force_row_wise": True,
            "verbosity": -1,
        }
        data = lgb.Dataset(values, label=labels, params={"verbosity": -1})
        return lgb.train(params, data, num_boost_round=n_trees)

    def _margin(
        self, booster: lgb.Booster, values: np.ndarray, start: int, stop: int
    ) -> np.ndarray:
        # LightGBM folds its starting score into the first tree.
        return booster.predict(
            values, raw_score=True, start_iteration=start, num_iteration=stop - start
        )

    def _contrib(self, booster: lgb.Booster, values: np.ndarray) -> np.ndarray:
        return booster.predict(values, pred_contrib=True)


class XGBoost(_BoostedTrees):
    name = "xgboost"
    defaults: ClassVar[dict[str, Any]] = {
        **_BoostedTrees.defaults,
        "n_estimators": 800,
        "learning_rate": 0.02,
        "max_depth": 4,
        # Hessian units: a runner with p ~ 0.08 weighs ~0.07, so 14 is roughly 200 runners.
        "min_child_weight": 14.0,
        "subsample": 0.8,
        "colsample_bytree": 0.7,
        "reg_lambda": 10.0,
    }

    def _train(self, values: np.ndarray, labels: np.ndarray, n_trees: int) -> xgb.Booster:
        h = self.hyper
        params = {
            "objective": "binary:logistic",
            "eta": h["learning_rate"],
            "max_depth": h["max_depth"],
            "min_child_weight": h["min_child_weight"],
            "subsample": h["subsample"],
            "colsample_bytree": h["colsample_bytree"],
            "lambda": h["reg_lambda"],
            "tree_method": "hist",
            "nthread": h["n_jobs"],
            "seed": self.seed,
            "verbosity": 0,
        }
        data = xgb.DMatrix(values, label=labels, nthread=h["n_jobs"])
        return xgb.train(params, data, num_boost_round=n_trees)

    def _margin(
        self, booster: xgb.Booster, values: np.ndarray, start: int, stop: int
    ) -> np.ndarray:
        # XGBoost adds its base score to every prediction unless given a base margin: a zero
        # margin leaves the later slices as bare sums of trees.
        base = None if start == 0 else np.zeros(len(values))
        data = xgb.DMatrix(values, base_margin=base, nthread=self.hyper["n_jobs"])
        margin = booster.predict(data, output_margin=True, iteration_range=(start, stop))
        return margin.astype(float)

    def _contrib(self, booster: xgb.Booster, values: np.ndarray) -> np.ndarray:
        data = xgb.DMatrix(values, nthread=self.hyper["n_jobs"])
        return booster.predict(data, pred_contribs=True)


class Benter(Algorithm):
    """Benter's two-stage model: p proportional to p_fund**a * p_market**b within the race.

    The first stage (`first_stage`, any algorithm that does not read the odds) gives
    fundamental probabilities. a and b come from a conditional logit on log p_fund and
    log p_market, where p_fund must be out of sample, or a would trust the first stage's
    in-sample overconfidence: the training races are cut into `folds` date-ordered folds and
    each fold's p_fund comes from a first stage fitted on the other folds. Only races where
    every starter has a price enter that fit. The first stage that predicts is fitted on all
    the training races; what it tuned on its own out-of-fold scores (a booster's tree count
    and temperature: two numbers) is pinned in the per-fold refits rather than tuned again
    in each, which would cost four times as much.

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
        rows = _training_rows(features, frame)
        train_features, train_frame = features.iloc[rows], frame.iloc[rows]
        race_ids = train_frame["race_id"].to_numpy()
        folds = time_folds(race_ids, train_frame["meeting_date"], int(self.hyper["folds"]))
        if folds.max() < 1:
            raise ValueError("cross-fitting needs races on at least two race days")

        # The final first stage comes first: its tuning (trees, temperature, from its own
        # out-of-fold scores) is pinned in the refits, which would otherwise each repeat it.
        self.first_stage_ = self._first_stage().fit(features, frame)
        pinned = self.first_stage_.tuning()
        fundamental = np.empty(len(train_frame))
        for fold in range(folds.max() + 1):
            held = folds == fold
            stage = self._first_stage(**pinned)
            stage.fit(train_features.iloc[~held], train_frame.iloc[~held])
            fundamental[held] = stage.predict(train_features.iloc[held], train_frame.iloc[held])

        market = market_probabilities(train_frame["win_odds"], race_ids)
        priced = _fully_priced(train_frame)
        targets = win_shares(train_frame)
        codes, n_races = race_codes(race_ids[priced])
        design = np.column_stack([_log(fundamental), _log(market)])[priced]
        self.a_, self.b_, self.second_stage_races_ = 1.0, 0.0, n_races
        self.oof_log_loss_ = self.oof_first_stage_log_loss_ = None
        if n_races:
            (self.a_, self.b_), self.oof_log_loss_ = _conditional_logit(
                design, codes, n_races, targets[priced], 0.0
            )
            self.oof_first_stage_log_loss_ = float(-(targets[priced] @ design[:, 0]) / n_races)
        return self

    def predict(self, features: pd.DataFrame, frame: pd.DataFrame) -> np.ndarray:
        fundamental = _log(self.first_stage_.predict(features, frame))
        market = _log(_market_on_starters(frame))
        scores = self.a_ * fundamental + self.b_ * market
        return _race_probabilities(np.where(_any_price(frame), scores, fundamental), frame)

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


def _log(probs: np.ndarray) -> np.ndarray:
    return np.log(np.maximum(probs, PROBABILITY_FLOOR))


def _priced(frame: pd.DataFrame) -> np.ndarray:
    odds = frame["win_odds"].to_numpy(dtype=float)
    return np.isfinite(odds) & (odds > 0)


def _fully_priced(frame: pd.DataFrame) -> np.ndarray:
    """Rows of races where every starter has a price (the frame holds starters only)."""
    codes, n_races = race_codes(frame["race_id"])
    unpriced = np.bincount(codes, weights=~_priced(frame), minlength=n_races)
    return unpriced[codes] == 0


def _any_price(frame: pd.DataFrame) -> np.ndarray:
    """Rows of races where at least one starter has a price."""
    codes, n_races = race_codes(frame["race_id"])
    priced = np.bincount(codes, weights=_priced(frame) & starters(frame), minlength=n_races)
    return priced[codes] > 0


ALGORITHMS: dict[str, type[Algorithm]] = {
    cls.name: cls for cls in (Market, ConditionalLogit, LightGBM, XGBoost, Benter)
}
