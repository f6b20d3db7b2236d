"""The fundamental booster learnt on the finishing order (`softmax`)."""

import datetime
import json
from io import StringIO

import numpy as np
import pandas as pd
import pytest
from django.core.management import call_command

from predictions.ml.algorithms import ALGORITHMS
from predictions.ml.algorithms.race_softmax import _race_log_loss, _softmax, _softmax_objective
from predictions.ml.evaluation import evaluate
from predictions.ml.probability import race_codes
from predictions.models import ModelVersion
from predictions.services.artifacts import model_version_load
from predictions.tests.test_algorithms import synthetic_races
from predictions.tests.test_commands import TODAY, train_model
from predictions.tests.test_residual import split
from races.demo import demo_data_seed

FAST = {"n_estimators": 200, "min_child_samples": 20, "early_stopping_rounds": 20, "n_jobs": 1}

# Three races: a dead heat for first in the second (so nobody is second there), and a runner
# without a position (a faller) in the third.
RACE_IDS = np.repeat([1, 2, 3], [4, 5, 4])
POSITIONS = np.array([2, 1, 4, 3, 1, 3, 1, 4, 5, 1, 3, 2, np.nan])


def plackett_luce_loss(scores, weights, discount=1.0):
    """The weighted Plackett-Luce loss written out race by race and place by place, place k's
    scores discounted by discount^(k-1)."""
    total = 0.0
    for in_race in pd.Series(RACE_IDS).groupby(RACE_IDS).indices.values():
        place = np.nan_to_num(POSITIONS[in_race], nan=np.inf)
        for k, weight in enumerate(weights, start=1):
            s = scores[in_race] * discount ** (k - 1)
            chosen = place == k
            if chosen.any():
                log_norm = np.log(np.exp(s[place >= k]).sum())
                total += weight * (log_norm - s[chosen].mean())
    return total


def assert_pinned_refit_is_the_model(model, params, features, frame):
    """The fit's tuning, passed back, fits the same model with no search."""
    refit = ALGORITHMS["softmax"](seed=1, **{**params, **model.tuning()}).fit(features, frame)
    assert refit.tuning_window() is None
    np.testing.assert_allclose(refit.predict(features, frame), model.predict(features, frame))


@pytest.mark.parametrize("discount", [1.0, 0.7])
def test_the_objective_is_the_gradient_of_the_weighted_place_loss(discount):
    # given scores, and six places weighted down (more than the first race has runners)
    scores = np.random.default_rng(1).normal(size=len(RACE_IDS))
    weights = [1.0, 0.7, 0.4, 0.3, 0.2, 0.1]

    grad, hess = _softmax_objective(RACE_IDS, POSITIONS, weights, discount)(scores, None)

    # then it is the loss's gradient, by central differences
    step = 1e-6
    numeric = [
        (
            plackett_luce_loss(scores + step * e, weights, discount)
            - plackett_luce_loss(scores - step * e, weights, discount)
        )
        / (2 * step)
        for e in np.eye(len(scores))
    ]
    np.testing.assert_allclose(grad, numeric, atol=1e-6)
    # and its Hessian's diagonal, by central differences of the gradient
    objective = _softmax_objective(RACE_IDS, POSITIONS, weights, discount)
    diagonal = [
        (objective(scores + step * e, None)[0][i] - objective(scores - step * e, None)[0][i])
        / (2 * step)
        for i, e in enumerate(np.eye(len(scores)))
    ]
    np.testing.assert_allclose(hess, np.maximum(diagonal, 1e-6), atol=1e-6)
    assert (hess > 0).all()


def test_with_the_winner_alone_the_objective_is_the_race_log_loss_gradient():
    # given the win shares (1/2 each for the dead heaters) and scores
    scores = np.random.default_rng(2).normal(size=len(RACE_IDS))
    shares = np.where(POSITIONS == 1, 1.0, 0.0)
    shares[RACE_IDS == 2] /= 2
    codes, n_races = race_codes(RACE_IDS)

    grad, hess = _softmax_objective(RACE_IDS, POSITIONS, [1.0])(scores, None)

    # then it is p - share: the gradient of n_races times the mean -log p(winner)
    p = _softmax(scores, codes, n_races)
    np.testing.assert_allclose(grad, p - shares)
    np.testing.assert_allclose(hess, p * (1 - p))
    assert plackett_luce_loss(scores, [1.0]) == pytest.approx(
        _race_log_loss(scores, shares, codes, n_races) * n_races
    )


def test_it_learns_strength_from_the_features_and_never_reads_the_odds():
    # given races where feature_0 decides the finishing order
    features, frame = synthetic_races(n_races=900, seed=4, n_features=3)
    (train_features, train_frame), (test_features, test_frame) = split(features, frame)

    model = ALGORITHMS["softmax"](seed=1, **FAST).fit(train_features, train_frame)

    probs = model.predict(test_features, test_frame)
    assert evaluate(test_frame, probs)["pseudo_r2"] > 0.1
    # the same fit on races without odds gives the same model
    unpriced = ALGORITHMS["softmax"](seed=1, **FAST)
    unpriced.fit(train_features, train_frame.assign(win_odds=np.nan))
    np.testing.assert_array_equal(unpriced.predict(test_features, test_frame), probs)
    assert not ALGORITHMS["softmax"].uses_market


def test_it_stops_early_on_the_last_training_stretch_only():
    # given a window of races with no seasonal break (its last quarter is the stretch), and
    # features of which only the first tells a little (so that more trees soon stop helping)
    features, frame = synthetic_races(n_races=900, seed=4, n_features=3)
    noise = np.random.default_rng(9).normal(size=features.shape)
    noise[:, 0] += 0.3 * features["feature_0"].fillna(0).to_numpy()
    features = pd.DataFrame(noise, columns=features.columns)
    (train_features, train_frame), _ = split(features, frame)

    model = ALGORITHMS["softmax"](seed=1, **FAST).fit(train_features, train_frame)

    # then the trees were counted on the window's last stretch, which is its tuning window
    stopping = model.summary()["early_stopping"]
    window = model.tuning_window()
    assert window == {
        "from": stopping["from"],
        "to": stopping["to"],
        "tuned": ["n_trees", "num_leaves", "min_child_samples", "lambda_l2", "place_discount"],
    }
    assert window["to"] == str(train_frame["meeting_date"].max().date())
    assert window["from"] > str(train_frame["meeting_date"].min().date())
    assert 0 < model.n_trees_ < FAST["n_estimators"]
    assert "market_log_loss" not in stopping  # no market to beat
    # its held-out probabilities are that stretch's runners, whole races
    index, probs = model.out_of_sample()
    held = train_frame.loc[index]
    assert str(held["meeting_date"].min().date()) == window["from"]
    assert stopping["races"] == held["race_id"].nunique() < train_frame["race_id"].nunique()
    np.testing.assert_allclose(pd.Series(probs).groupby(held["race_id"].to_numpy()).sum(), 1.0)
    # and its tuning, passed back, fits the same model with no search
    assert_pinned_refit_is_the_model(model, FAST, train_features, train_frame)


def test_it_chooses_its_place_discount_on_the_last_training_stretch():
    # given races where feature_0 decides the finishing order
    features, frame = synthetic_races(n_races=900, seed=4, n_features=3)
    (train_features, train_frame), _ = split(features, frame)
    params = {**FAST, "place_discount": 0.9, "place_discounts": [0.3, 1.0], "shapes": []}

    # when
    model = ALGORITHMS["softmax"](seed=1, **params).fit(train_features, train_frame)

    # then each discount was early-stopped on that stretch and the best one kept
    stopping = model.summary()["early_stopping"]
    tried = stopping["shapes"]
    assert [one["place_discount"] for one in tried] == [0.9, 0.3, 1.0]
    best = min(tried, key=lambda one: one["log_loss"])
    assert model.discount_ == model.summary()["place_discount"] == best["place_discount"]
    assert (model.n_trees_, stopping["log_loss"]) == (best["n_trees"], best["log_loss"])
    assert len({one["log_loss"] for one in tried}) == 3  # the discount changes the fit
    # and its tuning, passed back, fits the same model with no search
    assert model.tuning()["place_discount"] == best["place_discount"]
    assert_pinned_refit_is_the_model(model, params, train_features, train_frame)


def test_it_tries_the_shapes_with_the_discount_it_kept():
    # given races where feature_0 decides the finishing order
    features, frame = synthetic_races(n_races=900, seed=4, n_features=3)
    (train_features, train_frame), _ = split(features, frame)
    params = {
        **FAST,
        "num_leaves": 7,
        "place_discount": 0.9,
        "place_discounts": [0.3, 1.0],
        "shapes": [[2, 20, 30.0], [15, 5, 1.0]],
    }

    # when
    model = ALGORITHMS["softmax"](seed=1, **params).fit(train_features, train_frame)

    # then the discounts were tried with the given shape, and the others with the best of them
    tried = model.summary()["early_stopping"]["shapes"]
    shape = [(one["num_leaves"], one["min_child_samples"], one["lambda_l2"]) for one in tried]
    assert shape == [(7, 20, 10.0)] * 3 + [(2, 20, 30.0), (15, 5, 1.0)]
    first = min(tried[:3], key=lambda one: one["log_loss"])
    assert [one["place_discount"] for one in tried[3:]] == [first["place_discount"]] * 2
    best = min(tried, key=lambda one: one["log_loss"])
    assert model.shape_ == {k: best[k] for k in ("num_leaves", "min_child_samples", "lambda_l2")}
    assert (model.discount_, model.n_trees_) == (best["place_discount"], best["n_trees"])
    assert model.booster_.params["lambda_l2"] == best["lambda_l2"]
    assert model.tuning_window()["tuned"] == [
        "n_trees", "num_leaves", "min_child_samples", "lambda_l2", "place_discount"
    ]  # fmt: skip


def test_a_discount_of_one_is_the_plain_loss_and_another_learns_another_model():
    # given
    features, frame = synthetic_races(n_races=300, seed=5, n_features=3)
    (train_features, train_frame), (test_features, test_frame) = split(features, frame)
    fixed = {**FAST, "fixed_trees": 50, "place_discounts": []}

    # when the discount is 1 and its objective is the undiscounted one
    model = ALGORITHMS["softmax"](seed=1, **fixed, place_discount=1.0)
    model.fit(train_features, train_frame)
    positions = train_frame["finish_position"].to_numpy(dtype=float)
    scores = np.random.default_rng(3).normal(size=len(train_frame))
    weights = model.hyper["place_weights"]
    discounted = _softmax_objective(train_frame["race_id"].to_numpy(), positions, weights, 1.0)
    plain = _softmax_objective(train_frame["race_id"].to_numpy(), positions, weights)

    # then the gradients are equal, and a discount of 0.8 learns another model
    np.testing.assert_array_equal(discounted(scores, None)[0], plain(scores, None)[0])
    other = ALGORITHMS["softmax"](seed=1, **fixed, place_discount=0.8)
    other.fit(train_features, train_frame)
    assert not np.allclose(
        model.predict(test_features, test_frame), other.predict(test_features, test_frame)
    )


def test_its_refits_take_the_next_seeds_and_it_scores_by_their_mean():
    # given races where feature_0 decides the finishing order, and a fixed number of trees
    features, frame = synthetic_races(n_races=300, seed=5, n_features=3)
    (train_features, train_frame), (test_features, test_frame) = split(features, frame)
    fixed = {**FAST, "fixed_trees": 50, "place_discounts": [], "shapes": []}

    # when the model is refitted three times from seed 4, and once from each of seeds 4, 5, 6
    model = ALGORITHMS["softmax"](seed=4, **fixed, refits=3).fit(train_features, train_frame)
    alone = [
        ALGORITHMS["softmax"](seed=seed, **fixed, refits=1).fit(train_features, train_frame)
        for seed in (4, 5, 6)
    ]

    # then its refits are those, and its score their mean: a softmax of their mean log weight
    assert model.summary()["refits"] == 3
    assert alone[0].summary()["refits"] == 1
    logs = [np.log(one.predict(test_features, test_frame)) for one in alone]
    codes, n_races = race_codes(test_frame["race_id"].to_numpy())
    np.testing.assert_allclose(
        model.predict(test_features, test_frame),
        _softmax(np.mean(logs, axis=0), codes, n_races),
        rtol=1e-9,
    )
    assert not np.allclose(logs[0], logs[1])  # the seeds sample differently
    # and its reasons are the mean of theirs
    np.testing.assert_allclose(
        model.contributions(test_features, test_frame),
        np.mean([one.contributions(test_features, test_frame) for one in alone], axis=0),
    )


@pytest.fixture
def demo_races():
    demo_data_seed(seed=5, today=TODAY, days_ahead=1, history_days=45)


@pytest.mark.django_db
def test_the_commands_train_and_evaluate_it(demo_races):
    # given a version trained by the command
    until = TODAY - datetime.timedelta(days=15)
    version_id = train_model("--algorithm", "softmax", "--train-until", str(until))

    # when it is evaluated after its window
    out = StringIO()
    call_command(
        "evaluate_model", "--model", str(version_id), "--from", str(until + datetime.timedelta(1)),
        "--to", str(TODAY - datetime.timedelta(days=1)), "--json", stdout=out,
    )  # fmt: skip

    # then
    metrics = json.loads(out.getvalue())
    assert metrics["algorithm"] == "softmax"
    assert metrics["races"] > 0
    version = ModelVersion.objects.get(pk=version_id)
    assert version.get_algorithm_display() == "Softmax (finishing order)"
    assert version.hyperparameters["place_weights"] == [1.0, 0.8, 0.6, 0.4]
    assert version.metrics["fit"]["place_discount"] in (0.8, 0.65, 1.0)
    window = version.metrics["training"]["tuning_window"]
    assert version.metrics["training"]["first_day"] < window["from"] <= window["to"]
    assert window["to"] == version.metrics["training"]["last_day"] <= until.isoformat()
    assert version.metrics["training"]["feature_priors"]["to"] == window["to"]
    assert type(model_version_load(version)) is ALGORITHMS["softmax"]
