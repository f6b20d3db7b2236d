"""LightGBM under a softmax within the race: the machinery `residual` and `softmax` share."""

from collections.abc import Sequence
from typing import Any, ClassVar

import lightgbm as lgb
import numpy as np
import pandas as pd

from predictions.ml.algorithms.base import (
    Algorithm,
    days_window,
    race_probabilities,
    training_rows,
    tree_shapes,
)
from predictions.ml.algorithms.estimation import time_folds
from predictions.ml.probability import PROBABILITY_FLOOR, race_codes, seasons, win_shares


class RaceSoftmaxBooster(Algorithm):
    """Trees whose sum is a runner's score, learnt under a softmax within the race.

    Each runner's score starts at an offset (`_design`: LightGBM's `init_score`) and the trees
    learn what to add to it. The loss is the race's -log p(winner) with p proportional to
    exp(offset + trees), or with `_place_weights` of more than one place the Plackett-Luce loss
    of the first places (`_softmax_objective`): the race itself is the unit, as in the
    conditional logit, where a per-runner win classifier sees each runner alone. With places,
    each place after the first may see the scores discounted (`_place_discounts`), place k by
    discount^(k-1): a later place is decided less by strength than the win.

    The number of trees is chosen by early stopping on the last season of the training window
    (the last quarter of its races when it spans one season), on the race's -log p(winner)
    whatever the training loss, then the model is refitted on the whole window with that many
    trees. How few leaves, how many runners a leaf and how much L2 are chosen there too: each
    shape in `shapes` (after `num_leaves`/`min_child_samples`/`lambda_l2`, the one kept on a
    tie) is early-stopped on that season and the lowest log loss wins, so no season the model is
    scored on picks it. The place discounts are tried the same way, with the given shape, before
    the other shapes are tried with the discount kept (`_search`). `fixed_trees` skips the
    searches.

    The refit is made `refits` times, with the seeds `seed`, `seed + 1`, ..., and the model's
    score is their trees' mean: each refit samples other runners and features (the bagging and
    feature fractions), and the mean of several varies less with the seed than any one.
    """

    defaults: ClassVar[dict[str, Any]] = {
        "n_estimators": 1000,
        "learning_rate": 0.02,
        "num_leaves": 7,
        "min_child_samples": 400,
        "lambda_l2": 20.0,
        "feature_fraction": 0.7,
        "bagging_fraction": 0.8,
        "early_stopping_rounds": 100,
        "refits": 1,
        "n_jobs": 2,
        "fixed_trees": None,
        # Other (num_leaves, min_child_samples, lambda_l2) to try: a stiffer tree with three
        # times the L2 and a looser one with a third of it. The learning rate (the trees are
        # counted on the early-stopping season) and the sampling fractions stay fixed.
        "shapes": [[4, 800, 60.0], [15, 200, 7.0]],
    }
    # The hyper-parameters of the search and the refits here; all others go to LightGBM.
    search: ClassVar[tuple[str, ...]] = (
        "n_estimators",
        "early_stopping_rounds",
        "fixed_trees",
        "shapes",
        "refits",
    )
    # The settings a shape is made of, each a LightGBM parameter.
    shape_names: ClassVar[tuple[str, ...]] = ("num_leaves", "min_child_samples", "lambda_l2")
    # Names of the columns `_design` adds after the features.
    extra_columns: ClassVar[tuple[str, ...]] = ()
    # The place discount the fit chose (models stored before discounts were tried had none).
    discount_: float = 1.0
    # The refits after the first (`booster_`), with the next seeds; none in models stored before.
    more_boosters_: tuple[lgb.Booster, ...] = ()

    def _rows(self, features: pd.DataFrame, frame: pd.DataFrame) -> np.ndarray:
        """The rows to learn from."""
        return training_rows(features, frame)

    def _design(
        self, features: pd.DataFrame, frame: pd.DataFrame, rows: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """The trees' columns as one float32 column-major matrix and the offset, for `rows`
        only when given."""
        raise NotImplementedError

    def _place_weights(self) -> Sequence[float]:
        """The weight of each place in the loss, the winner's first."""
        return (1.0,)

    def _place_discounts(self) -> Sequence[float]:
        """The place discounts to try, the one kept on a tie first (see `_softmax_objective`)."""
        return (1.0,)

    def _library_params(
        self, objective: Any, shape: dict[str, int], seed: int | None = None
    ) -> dict[str, Any]:
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
            "force_col_wise": True,
            "verbosity": -1,
            "seed": self.seed if seed is None else seed,
        }

    def _objective(self, frame: pd.DataFrame, discount: float) -> Any:
        return _softmax_objective(
            frame["race_id"].to_numpy(),
            frame["finish_position"].to_numpy(dtype=float),
            self._place_weights(),
            discount,
        )

    def fit(self, features: pd.DataFrame, frame: pd.DataFrame) -> "RaceSoftmaxBooster":
        rows = self._rows(features, frame)
        self.feature_names_ = list(features.columns)
        values, offset = self._design(features, frame, rows)
        train_frame = frame.iloc[np.flatnonzero(rows)]

        self.validation_ = None
        shapes = [
            # LightGBM wants whole numbers of leaves and runners.
            {name: value if name == "lambda_l2" else int(value) for name, value in shape.items()}
            for shape in tree_shapes(self.hyper, self.shape_names)
        ]
        discounts = [float(discount) for discount in self._place_discounts()]
        self.shape_, self.discount_ = shapes[0], discounts[0]
        if self.hyper["fixed_trees"] is not None:
            self.n_trees_ = int(self.hyper["fixed_trees"])
        else:
            held = _last_season(train_frame)
            if held.all() or not held.any():
                self.n_trees_ = int(self.hyper["n_estimators"])
            else:
                held_probs = self._search(values, offset, train_frame, held, shapes, discounts)
                window = days_window(train_frame["meeting_date"].to_numpy()[held], ["n_trees"])
                if len(shapes) > 1:
                    window["tuned"] += list(self.shape_names)
                if len(discounts) > 1:
                    window["tuned"] += ["place_discount"]
                self.out_of_sample_ = (train_frame.index[held], held_probs)
                self.validation_.update({"from": window["from"], "to": window["to"]})
                self.tuning_window_ = window
        data = _dataset(values, offset, win_shares(train_frame), self._column_names())
        objective = self._objective(train_frame, self.discount_)
        self.booster_, *more = [
            lgb.train(
                self._library_params(objective, self.shape_, self.seed + refit),
                data,
                num_boost_round=self.n_trees_,
            )
            for refit in range(max(int(self.hyper["refits"]), 1))
        ]
        self.more_boosters_ = tuple(more)
        return self

    def _search(
        self,
        values: np.ndarray,
        offset: np.ndarray,
        train_frame: pd.DataFrame,
        held: np.ndarray,
        shapes: list[dict[str, int]],
        discounts: list[float],
    ) -> np.ndarray:
        """Early-stop candidates on the `held` season and keep the best: its shape, discount,
        trees and held-out figures (with every candidate's); return its held-out runners'
        probabilities. The discounts are tried with the given shape, then the other shapes with
        the discount kept: one fit per candidate value, not one per pair. The candidates share
        one binned copy of the runners (LightGBM's `Dataset`)."""
        labels = win_shares(train_frame)
        # Binned before the held season is copied out: the two copies of the values never live
        # at once (at 800,000 runners that is the fit's peak).
        train = _dataset(
            values[~held], offset[~held], labels[~held], self._column_names(), seed=self.seed
        ).construct()
        valid = _dataset(
            values[held], offset[held], labels[held], self._column_names(), reference=train
        )
        valid_codes, valid_races = race_codes(train_frame["race_id"].to_numpy()[held])
        valid_labels = labels[held]

        def race_log_loss(scores: np.ndarray, data: lgb.Dataset) -> tuple[str, float, bool]:
            loss = _race_log_loss(scores, valid_labels, valid_codes, valid_races)
            return "race_log_loss", loss, False

        def early_stopped(shape: dict[str, Any], discount: float) -> tuple:
            """Trees of this shape, learnt with this place discount, that minimise the held-out
            season's race log loss, what it was, and its runners' probabilities with them."""
            booster = lgb.train(
                self._library_params(self._objective(train_frame[~held], discount), shape),
                train,
                num_boost_round=int(self.hyper["n_estimators"]),
                valid_sets=[valid],
                feval=race_log_loss,
                callbacks=[
                    lgb.early_stopping(int(self.hyper["early_stopping_rounds"]), verbose=False)
                ],
            )
            n_trees = max(int(booster.best_iteration), 1)
            scores = offset[held] + booster.predict(
                values[held], raw_score=True, num_iteration=n_trees
            )
            stopping = {
                "races": int(valid_races),
                "log_loss": booster.best_score["valid_0"]["race_log_loss"],
            }
            if self.uses_market:  # the offset is the market's: what the trees had to beat
                market = _race_log_loss(offset[held], valid_labels, valid_codes, valid_races)
                stopping["market_log_loss"] = market
            probs = _softmax(scores, valid_codes, valid_races)
            return shape, discount, n_trees, stopping, probs

        tried = [early_stopped(shapes[0], discount) for discount in discounts]
        # min() keeps the first of equals: the given discount, then the given shape, win a tie.
        best = min(tried, key=lambda one: one[3]["log_loss"])
        tried += [early_stopped(shape, best[1]) for shape in shapes[1:]]
        best = min(tried, key=lambda one: one[3]["log_loss"])
        self.shape_, self.discount_, self.n_trees_, self.validation_, held_probs = best
        self.validation_["shapes"] = [
            {
                **shape,
                **({"place_discount": discount} if len(discounts) > 1 else {}),
                "n_trees": n_trees,
                "log_loss": stopping["log_loss"],
            }
            for shape, discount, n_trees, stopping, _ in tried
        ]
        return held_probs

    def _boosters(self) -> tuple[lgb.Booster, ...]:
        return (self.booster_, *self.more_boosters_)

    def _boosters_mean(self, values: np.ndarray, **kind: bool) -> np.ndarray:
        """The refits' mean of `Booster.predict(values, **kind)` with the kept trees."""
        return np.mean(
            [
                booster.predict(values, num_iteration=self.n_trees_, **kind)
                for booster in self._boosters()
            ],
            axis=0,
        )

    def _column_names(self) -> list[str]:
        return [*(f"f{i}" for i in range(len(self.feature_names_))), *self.extra_columns]

    def predict(self, features: pd.DataFrame, frame: pd.DataFrame) -> np.ndarray:
        values, offset = self._design(features, frame)
        trees = self._boosters_mean(values, raw_score=True)
        return race_probabilities(offset + trees, frame)

    def contributions(self, features: pd.DataFrame, frame: pd.DataFrame) -> pd.DataFrame:
        """SHAP values of the trees' sum on the fundamental features (an extra column, like the
        offset, is not a reason of ours); of several refits, their mean, the mean's own."""
        values, _ = self._design(features, frame)
        contrib = self._boosters_mean(values, pred_contrib=True)
        return pd.DataFrame(
            contrib[:, : len(self.feature_names_)],
            index=features.index,
            columns=self.feature_names_,
        )

    def summary(self) -> dict[str, Any]:
        """The trees kept, their shape and place discount, how many refits are averaged, and
        the window that chose them (races, dates, its log loss and each candidate's): the tuning
        window, inside the training window."""
        return {
            "n_trees": self.n_trees_,
            **self.shape_,
            "place_discount": self.discount_,
            "refits": len(self._boosters()),
            "early_stopping": self.validation_,
        }

    def tuning(self) -> dict[str, Any]:
        return {"fixed_trees": self.n_trees_, **self.shape_, "shapes": []}


def _dataset(
    values: np.ndarray,
    offset: np.ndarray,
    labels: np.ndarray,
    columns: list[str],
    reference: lgb.Dataset | None = None,
    seed: int | None = None,
) -> lgb.Dataset:
    """The runners' values as LightGBM's Dataset; `seed` when it is binned before training (as
    the training would have seeded it: past 200,000 runners the bins come from a sample)."""
    params: dict[str, Any] = {"verbosity": -1, "feature_pre_filter": False}
    if seed is not None:
        params["seed"] = seed
    return lgb.Dataset(
        values,
        label=labels,
        init_score=offset,
        reference=reference,
        feature_name=columns,
        # Kept even where no split can have enough runners per leaf (a small window): the trees
        # then have no split and the model is its offset, instead of LightGBM refusing to train.
        params=params,
        free_raw_data=True,
    )


def _softmax_objective(
    race_ids: np.ndarray,
    positions: np.ndarray,
    place_weights: Sequence[float] = (1.0,),
    discount: float = 1.0,
):
    """Gradient and Hessian (its diagonal) per runner of the race's Plackett-Luce loss.

    The loss sums, over places k = 1, 2, ... with weights `place_weights`, -log of the k-th
    horse's softmax probability among the runners not placed before it, of their scores times
    discount^(k-1); with one place it is the race's -log p(winner). A discount below 1 is
    Benter's (1994) for the later places: the second and third places are decided less by
    strength than the win (a beaten horse is eased, or its jockey rides for the place), so
    their softmax is flatter, and the scores stay those of the win. Dead heaters at a place
    share it (1/m each), and a place the heat took (no runner at k) counts nothing. A runner
    without a position is behind every placed one.
    `scores` arrive with the offset included (LightGBM starts them at `init_score`).
    """
    codes, n_races = race_codes(race_ids)
    place = np.where(np.isfinite(positions), positions, np.inf)
    stages = []
    for k, weight in enumerate(place_weights, start=1):
        chosen = (place == k).astype(float)
        heat = np.bincount(codes, weights=chosen, minlength=n_races)[codes]
        # A race with nobody at k keeps all its runners so that its softmax stays finite.
        left = (place >= k) | (heat == 0)
        labels = np.where(heat > 0, chosen / np.maximum(heat, 1.0), 0.0)
        stages.append((left, labels, weight * (heat > 0), discount ** (k - 1)))

    def objective(scores: np.ndarray, data: lgb.Dataset) -> tuple[np.ndarray, np.ndarray]:
        grad, hess = np.zeros(len(scores)), np.zeros(len(scores))
        for left, labels, weight, scale in stages:
            # d/ds of the stage's -log softmax(scale * s) is scale * (p - label).
            p = _softmax(np.where(left, scale * scores, -np.inf), codes, n_races)
            grad += weight * scale * (p - labels)
            hess += weight * scale * scale * p * (1.0 - p)
        return grad, np.maximum(hess, 1e-6)

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
