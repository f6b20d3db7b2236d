"""Gradient-boosted win classifiers (LightGBM, XGBoost) turned into race probabilities."""

from typing import Any, ClassVar

import lightgbm as lgb
import numpy as np
import pandas as pd
import xgboost as xgb

from predictions.ml.algorithms.base import (
    Algorithm,
    days_window,
    race_probabilities,
    training_rows,
    tree_shapes,
)
from predictions.ml.algorithms.estimation import conditional_logit, time_folds
from predictions.ml.probability import race_codes, win_shares


class BoostedTrees(Algorithm):
    """A boosted win classifier turned into calibrated race probabilities.

    The classifier learns P(win) per runner (dead heaters carry a soft label of 1/k). Its raw
    score (log-odds) is then treated as a strength: p proportional to exp(beta * score) within
    the race. beta and the number of trees come from out-of-fold scores: the training races
    are cut into `calibration_folds` date-ordered folds, each fold is scored by a model fitted
    on the others, and the tree count (every `tree_step` trees) and beta with the lowest
    out-of-fold race log loss win. The final model is fitted on all the training races.
    The tree shape (`shape_names`, e.g. leaves and rows per leaf) is chosen the same way, on
    the last fold alone: each shape in `shapes` (after the given one, which wins a tie) is
    fitted on the earlier folds and scored there at every checkpoint, and the one with the
    lowest race log loss is kept for the out-of-fold search and the final fit. So no season the
    model is scored on chooses it. `fixed_trees` and `fixed_beta` skip both searches (see
    `Algorithm.tuning`).
    """

    # Slow learning: a win is a rare, noisy label.
    defaults: ClassVar[dict[str, Any]] = {
        "n_estimators": 800,
        "learning_rate": 0.02,
        "calibration_folds": 4,
        "tree_step": 25,
        "n_jobs": 2,
        "fixed_trees": None,
        "fixed_beta": None,
        # Other shapes to try, each the values of `shape_names` in order.
        "shapes": [],
    }
    # The hyper-parameters of the search here; all others go to the library, under the library's
    # name where it differs (`library_names`), next to the settings every fit shares.
    search: ClassVar[tuple[str, ...]] = (
        "n_estimators",
        "calibration_folds",
        "tree_step",
        "fixed_trees",
        "fixed_beta",
        "shapes",
    )
    # The settings a shape is made of (each a hyper-parameter passed to the library).
    shape_names: ClassVar[tuple[str, ...]] = ()
    # The shape the fit chose; None before a fit (and in models stored before shapes were
    # chosen): the given one then.
    shape_: dict[str, Any] | None = None
    library_names: ClassVar[dict[str, str]] = {}
    library_settings: ClassVar[dict[str, Any]] = {}

    def _library_params(self) -> dict[str, Any]:
        passed = {
            self.library_names.get(name, name): value
            for name, value in self.hyper.items()
            if name not in self.search
        }
        shape = {
            self.library_names.get(name, name): value for name, value in (self.shape_ or {}).items()
        }
        return {**self.library_settings, **passed, **shape, "seed": self.seed}

    def _held_scores(
        self, values: np.ndarray, labels: np.ndarray, held: np.ndarray, checkpoints: list[int]
    ) -> np.ndarray:
        """Raw scores of the `held` rows at each checkpoint (a row each), from a booster of the
        current shape fitted on the other rows."""
        booster = self._train(values[~held], labels[~held], checkpoints[-1])
        scores = np.empty((len(checkpoints), int(held.sum())))
        # Scores at each checkpoint add up slices of trees: one pass over the trees.
        score, start = 0.0, 0
        for i, stop in enumerate(checkpoints):
            score = score + self._margin(booster, values[held], start, stop)
            scores[i], start = score, stop
        return scores

    def _shape_choose(
        self,
        values: np.ndarray,
        labels: np.ndarray,
        race_ids: np.ndarray,
        held: np.ndarray,
        checkpoints: list[int],
        shapes: list[dict[str, Any]],
    ) -> np.ndarray:
        """Keep (`shape_`) the one of `shapes` whose best checkpoint has the lowest race log loss
        on the `held` fold, recording each one's (`shapes_tried_`); return its held-out scores."""
        codes, n_races = race_codes(race_ids[held])
        tried = []
        for shape in shapes:
            self.shape_ = shape
            scores = self._held_scores(values, labels, held, checkpoints)
            loss = min(
                conditional_logit(row[:, None], codes, n_races, labels[held], 0.0)[1]
                for row in scores
            )
            tried.append((loss, shape, scores))
        # min() keeps the first of equals: the given shape wins a tie.
        _, self.shape_, scores = min(tried, key=lambda one: one[0])
        self.shapes_tried_ = [{**shape, "log_loss": loss} for loss, shape, _ in tried]
        return scores

    def _train(self, values: np.ndarray, labels: np.ndarray, n_trees: int) -> Any:
        raise NotImplementedError

    def _margin(self, booster: Any, values: np.ndarray, start: int, stop: int) -> np.ndarray:
        """Raw score of trees start..stop-1, the base score included only when start is 0."""
        raise NotImplementedError

    def _contrib(self, booster: Any, values: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def fit(self, features: pd.DataFrame, frame: pd.DataFrame) -> "BoostedTrees":
        rows = training_rows(features, frame)
        self.feature_names_ = list(features.columns)
        values = self._columns(features)
        if not rows.all():  # a training frame is all training rows: no copy of it then
            values = values[rows]
        labels = win_shares(frame)[rows]
        race_ids = frame["race_id"].to_numpy()[rows]
        codes, n_races = race_codes(race_ids)
        dates = frame["meeting_date"].to_numpy()[rows]
        folds = time_folds(race_ids, dates, int(self.hyper["calibration_folds"]))

        n_max = int(self.hyper["n_estimators"])
        step = int(self.hyper["tree_step"])
        checkpoints = sorted({*range(step, n_max + 1, step), n_max})
        self.n_trees_, self.beta_, self.oof_log_loss_ = n_max, 1.0, None
        shapes = tree_shapes(self.hyper, self.shape_names)
        self.shape_, self.shapes_tried_ = shapes[0], None
        if self.hyper["fixed_trees"] is not None:
            self.n_trees_ = int(self.hyper["fixed_trees"])
            self.beta_ = float(self.hyper["fixed_beta"] or 1.0)
        elif folds.max() >= 1:
            out_of_fold = np.zeros((len(checkpoints), len(values)))
            last = folds == folds.max()
            tuned = ["n_trees", "beta"]
            if len(shapes) > 1:
                out_of_fold[:, last] = self._shape_choose(
                    values, labels, race_ids, last, checkpoints, shapes
                )
                tuned += list(self.shape_names)
            for fold in range(folds.max() + 1):
                if fold == folds.max() and self.shapes_tried_:
                    continue  # scored by the chosen shape already
                held = folds == fold
                out_of_fold[:, held] = self._held_scores(values, labels, held, checkpoints)
            fits, beta = [], np.ones(1)
            for scores in out_of_fold:
                # The previous checkpoint's beta is a close start for the next.
                beta, loss = conditional_logit(scores[:, None], codes, n_races, labels, 0.0, beta)
                fits.append((beta, loss))
            best = min(range(len(fits)), key=lambda i: fits[i][1])
            self.n_trees_ = checkpoints[best]
            self.beta_ = float(fits[best][0][0])
            self.oof_log_loss_ = fits[best][1]
            self.tuning_window_ = days_window(dates, tuned)
            self.out_of_sample_ = (
                frame.index[rows],
                race_probabilities(self.beta_ * out_of_fold[best], frame[rows]),
            )
        # With a single race day there is nothing out of fold: raw log-odds, all trees.
        self.booster_ = self._train(values, labels, self.n_trees_)
        return self

    def predict(self, features: pd.DataFrame, frame: pd.DataFrame) -> np.ndarray:
        scores = self._margin(self.booster_, self._columns(features), 0, self.n_trees_)
        return race_probabilities(self.beta_ * scores, frame)

    def contributions(self, features: pd.DataFrame, frame: pd.DataFrame) -> pd.DataFrame:
        """SHAP values of the raw score (bias dropped), times beta: the calibrated score's units."""
        contrib = self._contrib(self.booster_, self._columns(features))[:, :-1] * self.beta_
        return pd.DataFrame(contrib, index=features.index, columns=self.feature_names_)

    def summary(self) -> dict[str, Any]:
        return {
            "n_trees": self.n_trees_,
            "beta": self.beta_,
            "oof_log_loss": self.oof_log_loss_,
            **(self.shape_ or {}),
            "shapes": self.shapes_tried_,
        }

    def tuning(self) -> dict[str, Any]:
        return {
            "fixed_trees": self.n_trees_,
            "fixed_beta": self.beta_,
            **(self.shape_ or {}),
            "shapes": [],
        }


class LightGBM(BoostedTrees):
    name = "lightgbm"
    # Large leaves and strong L2, for the same reason. The settings were first chosen on the
    # Hong Kong seasons 2001-2004 together; each fit now tries a stiffer tree with three times
    # the L2 and a looser one with a third of it beside the given one on its own last fold
    # (`shapes`). The learning rate (its trees are counted out of fold) and the sampling
    # fractions stay fixed.
    defaults: ClassVar[dict[str, Any]] = {
        **BoostedTrees.defaults,
        "num_leaves": 15,
        "min_child_samples": 200,
        "shapes": [[7, 400, 30.0], [31, 100, 3.0]],
        "feature_fraction": 0.7,
        "bagging_fraction": 0.8,
        "lambda_l2": 10.0,
    }
    shape_names: ClassVar[tuple[str, ...]] = ("num_leaves", "min_child_samples", "lambda_l2")
    library_names: ClassVar[dict[str, str]] = {"n_jobs": "num_threads"}
    library_settings: ClassVar[dict[str, Any]] = {
        # cross_entropy is the binary log loss that also takes the 1/k dead-heat labels.
        "objective": "cross_entropy",
        "bagging_freq": 1,
        "deterministic": True,
        "force_row_wise": True,
        "verbosity": -1,
    }

    def _train(self, values: np.ndarray, labels: np.ndarray, n_trees: int) -> lgb.Booster:
        data = lgb.Dataset(values, label=labels, params={"verbosity": -1})
        return lgb.train(self._library_params(), data, num_boost_round=n_trees)

    def _margin(
        self, booster: lgb.Booster, values: np.ndarray, start: int, stop: int
    ) -> np.ndarray:
        # LightGBM folds its starting score into the first tree.
        return booster.predict(
            values, raw_score=True, start_iteration=start, num_iteration=stop - start
        )

    def _contrib(self, booster: lgb.Booster, values: np.ndarray) -> np.ndarray:
        return booster.predict(values, pred_contrib=True)


class XGBoost(BoostedTrees):
    name = "xgboost"
    defaults: ClassVar[dict[str, Any]] = {
        **BoostedTrees.defaults,
        "max_depth": 4,
        # Hessian units: a runner with p ~ 0.08 weighs ~0.07, so 14 is roughly 200 runners.
        "min_child_weight": 14.0,
        "subsample": 0.8,
        "colsample_bytree": 0.7,
        "reg_lambda": 10.0,
        # A stiffer and a looser tree, as LightGBM's (about 400 and 100 runners a leaf, three
        # times and a third of the L2).
        "shapes": [[3, 28.0, 30.0], [6, 7.0, 3.0]],
    }
    shape_names: ClassVar[tuple[str, ...]] = ("max_depth", "min_child_weight", "reg_lambda")
    library_names: ClassVar[dict[str, str]] = {
        "learning_rate": "eta",
        "reg_lambda": "lambda",
        "n_jobs": "nthread",
    }
    library_settings: ClassVar[dict[str, Any]] = {
        "objective": "binary:logistic",
        "tree_method": "hist",
        "verbosity": 0,
    }

    def _train(self, values: np.ndarray, labels: np.ndarray, n_trees: int) -> xgb.Booster:
        # Quantised from the array directly (a byte per value): a DMatrix would first copy it
        # into a sparse page of eight bytes per value.
        data = xgb.QuantileDMatrix(values, label=labels, nthread=self.hyper["n_jobs"])
        return xgb.train(self._library_params(), data, num_boost_round=n_trees)

    def _margin(
        self, booster: xgb.Booster, values: np.ndarray, start: int, stop: int
    ) -> np.ndarray:
        # XGBoost adds its base score to every prediction unless given a base margin: a zero
        # margin leaves the later slices as bare sums of trees. In place: no DMatrix copy.
        base = None if start == 0 else np.zeros(len(values))
        margin = booster.inplace_predict(
            values, iteration_range=(start, stop), predict_type="margin", base_margin=base
        )
        return margin.astype(float)

    def _contrib(self, booster: xgb.Booster, values: np.ndarray) -> np.ndarray:
        data = xgb.DMatrix(values, nthread=self.hyper["n_jobs"])
        return booster.predict(data, pred_contribs=True)
