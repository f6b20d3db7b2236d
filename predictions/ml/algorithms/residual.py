"""A boosted correction to the market: LightGBM starting from the odds' log-probabilities."""

from typing import Any, ClassVar

import lightgbm as lgb
import numpy as np
import pandas as pd

from predictions.ml.algorithms.base import (
    Algorithm,
    days_window,
    floored_log,
    race_probabilities,
    training_rows,
)
from predictions.ml.algorithms.estimation import time_folds
from predictions.ml.algorithms.market import any_price, market_on_starters
from predictions.ml.probability import PROBABILITY_FLOOR, race_codes, seasons, win_shares

MARKET_COLUMN = "market_log_p"


class Residual(Algorithm):
    """The market's view, corrected by what the fundamental features know that the price does not.

    Each runner's score starts at log p_market (a fixed offset, LightGBM's `init_score`) and the
    trees learn what to add to it, under a softmax within the race: the loss is the race's
    -log p(winner) with p proportional to exp(offset + trees). With no trees the model is the
    market, so every tree has to earn its place against it. The trees see the fundamental
    features and the market's own log-probability, so they can also bend the price where it is
    biased (long shots are over-bet in most pools).

    A correction is small and noisy, so the trees are few-leaved, need many runners per leaf and
    carry a strong L2 penalty. Their number is chosen by early stopping on the last season of the
    training window (the last quarter of its races when it spans one season), then the model is
    refitted on the whole window with that many trees. How few leaves and how many runners a
    leaf are chosen there too: each shape in `shapes` (after `num_leaves`/`min_child_samples`,
    the one kept on a tie) is early-stopped on that season and the lowest log loss wins, so no
    season the model is scored on picks it. `fixed_trees` skips both searches.

    Only races with a price teach it (the offset is the market). A race without any price gets
    the correction on a uniform start: a weak guess, as its pages say of unpriced races anyway.
    """

    name = "residual"
    uses_market = True
    defaults: ClassVar[dict[str, Any]] = {
        "n_estimators": 1000,
        "learning_rate": 0.02,
        "num_leaves": 7,
        "min_child_samples": 400,
        "lambda_l2": 20.0,
        "feature_fraction": 0.7,
        "bagging_fraction": 0.8,
        "early_stopping_rounds": 100,
        "n_jobs": 2,
        "fixed_trees": None,
        # Other (num_leaves, min_child_samples) to try: a stiffer and a looser tree.
        "shapes": [[4, 800], [15, 200]],
    }
    search: ClassVar[tuple[str, ...]] = (
        "n_estimators",
        "early_stopping_rounds",
        "fixed_trees",
        "shapes",
    )

    def _shapes(self) -> list[dict[str, int]]:
        """The tree shapes to try, the given one first."""
        pairs = [(self.hyper["num_leaves"], self.hyper["min_child_samples"])]
        pairs += [tuple(pair) for pair in self.hyper["shapes"] or ()]
        return [{"num_leaves": int(a), "min_child_samples": int(b)} for a, b in pairs]

    def _library_params(self, objective: Any, shape: dict[str, int]) -> dict[str, Any]:
        passed = {
            ("num_threads" if name == "n_jobs" else name): value
            for name, value in self.hyper.items()
            if name not in self.search
        }
        return {
            **passed,
            **shape,
            "objective": objective,
            "bagging_freq": 1,
            "deterministic": True,
            "force_row_wise": True,
            "verbosity": -1,
            "seed": self.seed,
        }

    def _design(
        self, features: pd.DataFrame, frame: pd.DataFrame, rows: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """The trees' columns (fundamental features, then the market's log-probability) as one
        float32 column-major matrix, and the offset (the market's log-probability, 0 in a race
        without a price), for `rows` only when given: one copy of the features, not two."""
        offset = np.where(any_price(frame), floored_log(market_on_starters(frame)), 0.0)
        columns = self._columns(features)
        if rows is not None:
            columns, offset = columns[rows], offset[rows]
        values = np.empty((len(columns), columns.shape[1] + 1), dtype=np.float32, order="F")
        values[:, :-1] = columns
        values[:, -1] = offset
        return values, offset

    def fit(self, features: pd.DataFrame, frame: pd.DataFrame) -> "Residual":
        rows = training_rows(features, frame) & any_price(frame)
        if not rows.any():
            raise ValueError("no race with a price and a winner to learn a correction from")
        self.feature_names_ = list(features.columns)
        values, offset = self._design(features, frame, rows)
        train_frame = frame.iloc[np.flatnonzero(rows)]
        labels = win_shares(train_frame)
        race_ids = train_frame["race_id"].to_numpy()

        self.validation_ = None
        shapes = self._shapes()
        self.shape_ = shapes[0]
        if self.hyper["fixed_trees"] is not None:
            self.n_trees_ = int(self.hyper["fixed_trees"])
        else:
            held = _last_season(train_frame)
            if held.all() or not held.any():
                self.n_trees_ = int(self.hyper["n_estimators"])
            else:
                held_probs = self._search(values, offset, labels, race_ids, held, shapes)
                window = days_window(train_frame["meeting_date"].to_numpy()[held], ["n_trees"])
                if len(shapes) > 1:
                    window["tuned"] += ["num_leaves", "min_child_samples"]
                self.out_of_sample_ = (train_frame.index[held], held_probs)
                self.validation_.update({"from": window["from"], "to": window["to"]})
                self.tuning_window_ = window
        self.booster_ = self._train(values, offset, labels, race_ids, self.n_trees_)
        return self

    def _search(
        self,
        values: np.ndarray,
        offset: np.ndarray,
        labels: np.ndarray,
        race_ids: np.ndarray,
        held: np.ndarray,
        shapes: list[dict[str, int]],
    ) -> np.ndarray:
        """Early-stop each shape on the `held` season and keep the best: its shape, trees and
        held-out figures (with every shape's); return its held-out runners' probabilities."""
        tried = [
            (shape, *self._early_stopped(values, offset, labels, race_ids, held, shape))
            for shape in shapes
        ]
        # min() keeps the first of equals: the given shape wins a tie.
        self.shape_, self.n_trees_, self.validation_, held_probs = min(
            tried, key=lambda one: one[2]["log_loss"]
        )
        self.validation_["shapes"] = [
            {**shape, "n_trees": n_trees, "log_loss": stopping["log_loss"]}
            for shape, n_trees, stopping, _ in tried
        ]
        return held_probs

    def _early_stopped(
        self,
        values: np.ndarray,
        offset: np.ndarray,
        labels: np.ndarray,
        race_ids: np.ndarray,
        held: np.ndarray,
        shape: dict[str, int],
    ) -> tuple[int, dict[str, Any], np.ndarray]:
        """Trees of this shape that minimise the held-out season's race log loss, what it was,
        and the held-out runners' probabilities with that many trees."""
        train = _dataset(values[~held], offset[~held], labels[~held])
        valid = _dataset(values[held], offset[held], labels[held], reference=train)
        valid_codes, valid_races = race_codes(race_ids[held])
        valid_labels = labels[held]

        def race_log_loss(scores: np.ndarray, data: lgb.Dataset) -> tuple[str, float, bool]:
            loss = _race_log_loss(scores, valid_labels, valid_codes, valid_races)
            return "race_log_loss", loss, False

        booster = lgb.train(
            self._library_params(_softmax_objective(race_ids[~held], labels[~held]), shape),
            train,
            num_boost_round=int(self.hyper["n_estimators"]),
            valid_sets=[valid],
            feval=race_log_loss,
            callbacks=[lgb.early_stopping(int(self.hyper["early_stopping_rounds"]), verbose=False)],
        )
        n_trees = max(int(booster.best_iteration), 1)
        market = _race_log_loss(offset[held], valid_labels, valid_codes, valid_races)
        model = booster.best_score["valid_0"]["race_log_loss"]
        scores = offset[held] + booster.predict(values[held], raw_score=True, num_iteration=n_trees)
        probs = _softmax(scores, valid_codes, valid_races)
        stopping = {"races": int(valid_races), "log_loss": model, "market_log_loss": market}
        return n_trees, stopping, probs

    def _train(
        self,
        values: np.ndarray,
        offset: np.ndarray,
        labels: np.ndarray,
        race_ids: np.ndarray,
        n_trees: int,
    ) -> lgb.Booster:
        return lgb.train(
            self._library_params(_softmax_objective(race_ids, labels), self.shape_),
            _dataset(values, offset, labels),
            num_boost_round=n_trees,
        )

    def predict(self, features: pd.DataFrame, frame: pd.DataFrame) -> np.ndarray:
        values, offset = self._design(features, frame)
        correction = self.booster_.predict(values, raw_score=True, num_iteration=self.n_trees_)
        return race_probabilities(offset + correction, frame)

    def contributions(self, features: pd.DataFrame, frame: pd.DataFrame) -> pd.DataFrame:
        """SHAP values of the correction on the fundamental features (the market's own column,
        like the offset, is the price and not a reason of ours)."""
        values, _ = self._design(features, frame)
        contrib = self.booster_.predict(values, pred_contrib=True, num_iteration=self.n_trees_)
        return pd.DataFrame(
            contrib[:, : len(self.feature_names_)],
            index=features.index,
            columns=self.feature_names_,
        )

    def summary(self) -> dict[str, Any]:
        """The trees kept, their shape and the window that chose them (races, dates, its log
        loss, the market's and each shape's): the tuning window, inside the training window."""
        return {"n_trees": self.n_trees_, **self.shape_, "early_stopping": self.validation_}

    def tuning(self) -> dict[str, Any]:
        return {"fixed_trees": self.n_trees_, **self.shape_, "shapes": []}


def _dataset(
    values: np.ndarray, offset: np.ndarray, labels: np.ndarray, reference: lgb.Dataset | None = None
) -> lgb.Dataset:
    columns = [*(f"f{i}" for i in range(values.shape[1] - 1)), MARKET_COLUMN]
    return lgb.Dataset(
        values,
        label=labels,
        init_score=offset,
        reference=reference,
        feature_name=columns,
        # Kept even where no split can have enough runners per leaf (a small window): the trees
        # then have no split and the model is the market, instead of LightGBM refusing to train.
        params={"verbosity": -1, "feature_pre_filter": False},
        free_raw_data=True,
    )


def _softmax_objective(race_ids: np.ndarray, labels: np.ndarray):
    """Gradient and Hessian (its diagonal) of the race's -sum y log softmax(score), per runner.

    `scores` arrive with the offset included (LightGBM starts them at `init_score`).
    """
    codes, n_races = race_codes(race_ids)
    weight = np.bincount(codes, weights=labels, minlength=n_races)[codes]

    def objective(scores: np.ndarray, data: lgb.Dataset) -> tuple[np.ndarray, np.ndarray]:
        p = _softmax(scores, codes, n_races)
        return p * weight - labels, np.maximum(p * (1.0 - p) * weight, 1e-6)

    return objective


def _softmax(scores: np.ndarray, codes: np.ndarray, n_races: int) -> np.ndarray:
    race_max = np.full(n_races, -np.inf)
    np.maximum.at(race_max, codes, scores)
    exps = np.exp(scores - race_max[codes])
    return exps / np.bincount(codes, weights=exps, minlength=n_races)[codes]


def _race_log_loss(
    scores: np.ndarray, labels: np.ndarray, codes: np.ndarray, n_races: int
) -> float:
    p = _softmax(scores, codes, n_races)
    return float(-(labels @ np.log(np.maximum(p, PROBABILITY_FLOOR))) / n_races)


def _last_season(frame: pd.DataFrame) -> np.ndarray:
    """Rows of the window's last season; of its last quarter of races if it has one season."""
    season = seasons(frame["meeting_date"]).to_numpy()
    if season.max() > season.min():
        return season == season.max()
    folds = time_folds(frame["race_id"].to_numpy(), frame["meeting_date"], 4)
    return folds == folds.max()
