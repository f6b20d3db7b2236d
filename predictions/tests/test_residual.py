import numpy as np
import pandas as pd
import pytest

from predictions.ml.algorithms import ALGORITHMS
from predictions.ml.algorithms.market import market_on_starters
from predictions.ml.algorithms.race_softmax import _race_log_loss, _softmax_objective
from predictions.ml.evaluation import evaluate
from predictions.ml.probability import race_codes
from predictions.tests.test_algorithms import synthetic_races

FAST = {"n_estimators": 200, "min_child_samples": 20, "early_stopping_rounds": 20, "n_jobs": 1}


def split(features, frame, share=0.7):
    """The first `share` of races to train on, the rest to judge (both in date order)."""
    cut = frame["race_id"].unique()[int(frame["race_id"].nunique() * share)]
    train = (frame["race_id"] < cut).to_numpy()
    return (features[train], frame[train]), (features[~train], frame[~train])


def test_the_objective_is_the_gradient_of_the_race_log_loss():
    # given three races' scores and labels (a dead heat in the second)
    rng = np.random.default_rng(1)
    race_ids = np.repeat([1, 2, 3], [4, 5, 3])
    labels = np.array([1, 0, 0, 0, 0, 0.5, 0.5, 0, 0, 0, 0, 1.0])
    scores = rng.normal(size=len(race_ids))
    codes, n_races = race_codes(race_ids)
    positions = np.array([1, 2, 3, 4, 3, 1, 1, 4, 5, 3, 2, 1])  # the finish those labels say

    grad, hess = _softmax_objective(race_ids, positions)(scores, None)

    # then the gradient is n_races times the mean loss's, by finite differences
    def loss(s):
        return _race_log_loss(s, labels, codes, n_races) * n_races

    step = 1e-6
    numeric = [
        (
            loss(scores + step * np.eye(len(scores))[i])
            - loss(scores - step * np.eye(len(scores))[i])
        )
        / (2 * step)
        for i in range(len(scores))
    ]
    np.testing.assert_allclose(grad, numeric, atol=1e-6)
    assert (hess > 0).all()


def test_with_no_correction_it_is_the_market():
    # given an L2 penalty so large that every leaf's value is ~0: the offset alone remains
    features, frame = synthetic_races(n_races=60, seed=2)

    model = ALGORITHMS["residual"](fixed_trees=5, lambda_l2=1e12, n_jobs=1).fit(features, frame)

    np.testing.assert_allclose(model.predict(features, frame), market_on_starters(frame), atol=1e-9)


def test_it_learns_what_an_uninformative_market_misses():
    # given a market that prices every runner alike, while feature_0 decides who wins
    features, frame = synthetic_races(n_races=900, seed=4, n_features=3)
    frame = frame.assign(win_odds=10.0)
    (train_features, train_frame), (test_features, test_frame) = split(features, frame)

    model = ALGORITHMS["residual"](seed=1, **FAST).fit(train_features, train_frame)

    metrics = evaluate(test_frame, model.predict(test_features, test_frame))
    assert metrics["delta_r2_vs_market"] > 0.05
    assert metrics["delta_log_loss_vs_market_ci"][1] < 0


def test_on_noise_it_stops_early_and_does_no_worse_than_the_market():
    # given features that are noise (the market is the only signal; it is noisier than the
    # truth, which the trees may learn to shrink through its own column)
    features, frame = synthetic_races(n_races=900, seed=5, n_features=3)
    noise = pd.DataFrame(
        np.random.default_rng(9).normal(size=features.shape), columns=features.columns
    )
    (train_features, train_frame), (test_features, test_frame) = split(noise, frame)

    model = ALGORITHMS["residual"](seed=1, **FAST).fit(train_features, train_frame)

    metrics = evaluate(test_frame, model.predict(test_features, test_frame))
    assert model.n_trees_ < FAST["n_estimators"]
    assert metrics["delta_log_loss_vs_market"] < 0.005
    stopping = model.summary()["early_stopping"]
    assert stopping["races"] > 0
    # the tuning window is the training window's last stretch
    assert stopping["to"] == str(train_frame["meeting_date"].max().date())
    assert stopping["from"] > str(train_frame["meeting_date"].min().date())


def test_it_chooses_its_tree_shape_on_the_last_training_season():
    # given races where feature_0 decides who wins and the market knows nothing
    features, frame = synthetic_races(n_races=900, seed=4, n_features=3)
    frame = frame.assign(win_odds=10.0)
    (train_features, train_frame), _ = split(features, frame)
    params = {**FAST, "num_leaves": 7, "shapes": [[2, 20], [15, 5]]}

    # when
    model = ALGORITHMS["residual"](seed=1, **params).fit(train_features, train_frame)

    # then every shape was early-stopped on that season and the best one kept
    stopping = model.summary()["early_stopping"]
    tried = stopping["shapes"]
    assert [(one["num_leaves"], one["min_child_samples"]) for one in tried] == [
        (7, 20), (2, 20), (15, 5)
    ]  # fmt: skip
    best = min(tried, key=lambda one: one["log_loss"])
    assert model.shape_ == {k: best[k] for k in ("num_leaves", "min_child_samples", "lambda_l2")}
    assert model.shape_["lambda_l2"] == ALGORITHMS["residual"].defaults["lambda_l2"]  # none named
    assert (model.n_trees_, stopping["log_loss"]) == (best["n_trees"], best["log_loss"])
    assert model.booster_.params["num_leaves"] == best["num_leaves"]
    assert model.tuning_window()["tuned"] == [
        "n_trees", "num_leaves", "min_child_samples", "lambda_l2"
    ]  # fmt: skip
    assert model.tuning_window()["to"] == str(train_frame["meeting_date"].max().date())
    # and its tuning, passed back, fits the same model with no search
    refit = ALGORITHMS["residual"](seed=1, **{**params, **model.tuning()})
    refit.fit(train_features, train_frame)
    assert refit.tuning_window() is None
    np.testing.assert_allclose(
        refit.predict(train_features, train_frame), model.predict(train_features, train_frame)
    )


def test_it_refuses_races_without_a_price():
    features, frame = synthetic_races(n_races=20, seed=6)

    with pytest.raises(ValueError, match="no race with a price"):
        ALGORITHMS["residual"](**FAST).fit(features, frame.assign(win_odds=np.nan))
