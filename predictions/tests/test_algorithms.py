import io
import json
import pickle

import lightgbm as lgb
import numpy as np
import pandas as pd
import pytest
import xgboost as xgb

from predictions.ml.algorithms import (
    ALGORITHMS,
    Algorithm,
    fit_conditional_logit,
    time_folds,
)
from predictions.ml.algorithms.base import tree_shapes
from predictions.ml.probability import market_probabilities, softmax_within, win_shares

# Small enough for quick tests; the defaults are for ~60,000 runners. One thread: on a few
# hundred rows, threads only wait for each other (badly so when the cores are busy).
SMALL_LIGHTGBM = {"n_estimators": 30, "tree_step": 10, "min_child_samples": 20, "n_jobs": 1}
FAST_PARAMS = {
    "market": {},
    "logit": {},
    "lightgbm": SMALL_LIGHTGBM,
    "xgboost": {"n_estimators": 30, "tree_step": 10, "min_child_weight": 1.0, "n_jobs": 1},
    "benter": {"first_stage": "lightgbm", "first_stage_params": SMALL_LIGHTGBM},
    "residual": {
        "n_estimators": 30,
        "min_child_samples": 20,
        "early_stopping_rounds": 10,
        "n_jobs": 1,
    },
    "softmax": {
        "n_estimators": 30,
        "min_child_samples": 20,
        "early_stopping_rounds": 10,
        "n_jobs": 1,
    },
}


def synthetic_races(n_races=120, seed=0, n_features=5):
    """Races drawn from a known softmax on the features, a noisy market, and a dead heat."""
    rng = np.random.default_rng(seed)
    sizes = rng.integers(5, 11, n_races)
    race_id = np.repeat(np.arange(100, 100 + n_races), sizes)
    race_number = np.repeat(np.arange(n_races) % 4 + 1, sizes)
    day = np.repeat(np.arange(n_races) // 4, sizes)
    values = rng.normal(size=(len(race_id), n_features))
    strength = values @ np.linspace(1.0, -0.5, n_features)
    finish = (
        pd.Series(strength + rng.gumbel(size=len(race_id)))
        .groupby(race_id)
        .rank(ascending=False, method="first")
        .to_numpy(copy=True)
    )
    finish[(race_id == 100) & (finish == 2)] = 1  # a dead heat
    market = np.exp(strength + rng.normal(scale=0.5, size=len(race_id)))
    odds = 1.0 / (market_probabilities(1.0 / market, race_id) * 1.2)
    values[rng.random(values.shape) < 0.05] = np.nan
    frame = pd.DataFrame(
        {
            "runner_id": np.arange(len(race_id)),
            "race_id": race_id,
            "meeting_date": pd.Timestamp("2001-01-01") + pd.to_timedelta(day * 3, unit="D"),
            "race_number": race_number,
            "win_odds": odds.round(1),
            "finish_position": finish,
            "non_runner": False,
        }
    )
    features = pd.DataFrame(values, columns=[f"feature_{i}" for i in range(n_features)])
    return features, frame


@pytest.fixture(scope="module")
def races():
    return synthetic_races()


@pytest.fixture(scope="module")
def fitted(races):
    features, frame = races
    return {
        name: cls(seed=3, **FAST_PARAMS[name]).fit(features, frame)
        for name, cls in ALGORITHMS.items()
    }


def race_sums(probs, frame):
    return pd.Series(probs).groupby(frame["race_id"].to_numpy()).sum().to_numpy()


def test_time_folds_cut_date_ordered_blocks_that_never_split_a_race_day():
    # given 5 days of 4, 4, 2, 4, 2 races, rows shuffled
    days = pd.to_datetime(["2001-01-01", "2001-01-04", "2001-01-05", "2001-01-09", "2001-02-01"])
    races = pd.DataFrame(
        {"race_id": np.arange(16), "date": np.repeat(days, [4, 4, 2, 4, 2])}
    ).sample(frac=1.0, random_state=0)
    rows = races.loc[races.index.repeat(3)]  # three runners per race

    folds = time_folds(rows["race_id"], rows["date"], 4)

    by_day = pd.Series(folds).groupby(rows["date"].to_numpy()).agg(["min", "max"])
    assert (by_day["min"] == by_day["max"]).all()  # one fold per day, so per race
    assert by_day["min"].tolist() == [0, 1, 2, 2, 3]  # in date order, dense
    for fold in range(4):
        held, rest = rows[folds == fold], rows[folds != fold]
        assert not set(held["race_id"]) & set(rest["race_id"])
    assert sorted(pd.Series(folds).groupby(rows["race_id"].to_numpy()).first().value_counts()) == [
        2,
        4,
        4,
        6,
    ]


def test_time_folds_return_fewer_folds_when_there_are_fewer_race_days():
    folds = time_folds([1, 2, 3], pd.to_datetime(["2001-01-01", "2001-01-01", "2001-01-05"]), 4)

    assert folds.tolist() == [0, 0, 1]


def test_conditional_logit_recovers_known_coefficients():
    # given 2,000 races of 6-12 runners drawn from a known softmax model
    rng = np.random.default_rng(42)
    true = np.array([1.0, -0.5, 0.25])
    sizes = rng.integers(6, 13, 2000)
    race_ids = np.repeat(np.arange(2000), sizes)
    design = rng.normal(size=(len(race_ids), 3))
    won = (
        pd.Series(design @ true + rng.gumbel(size=len(race_ids)))
        .groupby(race_ids)
        .rank(ascending=False, method="first")
        == 1
    ).to_numpy(dtype=float)

    # when
    coef = fit_conditional_logit(design, race_ids, won)

    # then within about three standard errors (~0.03 each)
    np.testing.assert_allclose(coef, true, atol=0.1)


def test_logit_algorithm_recovers_coefficients_on_the_original_scale():
    features, frame = synthetic_races(n_races=1500, seed=7, n_features=3)

    model = ALGORITHMS["logit"](l2=0.0, missing_indicators=False).fit(features, frame)

    np.testing.assert_allclose(model.coef_ / model.scale_, [1.0, 0.25, -0.5], atol=0.12)


@pytest.mark.parametrize("name", list(ALGORITHMS))
def test_every_algorithm_predicts_race_probabilities(name, races, fitted):
    features, frame = races

    probs = fitted[name].predict(features, frame)

    assert probs.shape == (len(frame),)
    assert ((probs > 0) & (probs < 1)).all()
    np.testing.assert_allclose(race_sums(probs, frame), 1.0, rtol=1e-12)


@pytest.mark.parametrize("name", list(ALGORITHMS))
def test_every_algorithm_is_deterministic_for_a_seed_and_survives_pickling(name, races, fitted):
    features, frame = races
    again = ALGORITHMS[name](seed=3, **FAST_PARAMS[name]).fit(features, frame)

    restored = pickle.loads(pickle.dumps(fitted[name]))

    np.testing.assert_array_equal(
        again.predict(features, frame), fitted[name].predict(features, frame)
    )
    np.testing.assert_array_equal(
        restored.predict(features, frame), fitted[name].predict(features, frame)
    )


@pytest.mark.parametrize("name", list(ALGORITHMS))
def test_contributions_have_one_column_per_feature(name, races, fitted):
    features, frame = races

    contributions = fitted[name].contributions(features, frame)

    if name == "market":
        assert contributions.shape == (len(frame), 0)
    else:
        assert contributions.shape == features.shape
        assert list(contributions.columns) == list(features.columns)
        assert contributions.notna().all().all()


def test_logit_contributions_add_up_to_the_within_race_score(races, fitted):
    features, frame = races
    model = fitted["logit"]

    total = model.contributions(features, frame).sum(axis=1).to_numpy()

    # p is proportional to exp(sum of contributions) within each race
    expected = np.exp(total) / pd.Series(np.exp(total)).groupby(frame["race_id"]).transform("sum")
    np.testing.assert_allclose(model.predict(features, frame), expected, rtol=1e-10)


@pytest.mark.parametrize("name", list(ALGORITHMS))
def test_params_are_json_and_rebuild_the_algorithm(name, fitted):
    params = fitted[name].params()

    rebuilt = ALGORITHMS[name](seed=3, **json.loads(json.dumps(params)))

    assert rebuilt.params() == params
    assert "seed" not in params
    json.dumps(fitted[name].summary(), allow_nan=False)


@pytest.mark.parametrize("cls", list(ALGORITHMS.values()), ids=list(ALGORITHMS))
def test_artifacts_pickled_under_the_old_module_still_find_their_class(cls):
    # Versions stored before `algorithms` became a package name their class
    # predictions.ml.algorithms.<Class>; unpickling looks it up exactly so.
    found = pickle.Unpickler(io.BytesIO()).find_class("predictions.ml.algorithms", cls.__name__)

    assert found is cls


def test_unknown_parameters_are_refused():
    with pytest.raises(TypeError, match="num_leavs"):
        ALGORITHMS["lightgbm"](num_leavs=31)


def test_market_algorithm_is_the_normalised_implied_probability(races, fitted):
    features, frame = races

    probs = fitted["market"].predict(features, frame)

    np.testing.assert_allclose(probs, market_probabilities(frame["win_odds"], frame["race_id"]))


def test_non_runners_get_zero_and_the_rest_of_the_race_sums_to_one(races, fitted):
    features, frame = races
    frame = frame.assign(non_runner=frame["runner_id"] % 7 == 0)

    for name, model in fitted.items():
        probs = model.predict(features, frame)

        assert (probs[frame["non_runner"]] == 0).all(), name
        np.testing.assert_allclose(race_sums(probs, frame), 1.0, rtol=1e-12)


@pytest.mark.parametrize("name", ["lightgbm", "xgboost"])
def test_boosted_trees_keep_the_tree_count_with_the_lowest_out_of_fold_loss(name, races, fitted):
    features, frame = races
    # given each tree count searched on its own: a search over one count just scores it
    losses = {}
    for n_trees in (10, 20, 30):
        params = {**FAST_PARAMS[name], "n_estimators": n_trees, "tree_step": n_trees}
        alone = ALGORITHMS[name](seed=3, **params).fit(features, frame)
        losses[n_trees] = alone.summary()["oof_log_loss"]

    summary = fitted[name].summary()

    assert summary["n_trees"] == min(losses, key=losses.get)
    assert summary["oof_log_loss"] == pytest.approx(min(losses.values()), rel=1e-6)
    assert summary["beta"] > 0  # a higher score means a likelier winner


def test_boosted_trees_pinned_tuning_skips_the_search(races, fitted):
    features, frame = races
    tuned = fitted["lightgbm"]

    pinned = ALGORITHMS["lightgbm"](seed=3, **{**SMALL_LIGHTGBM, **tuned.tuning()})
    pinned.fit(features, frame)

    # the same trees, temperature and shape, with nothing searched
    assert pinned.summary() == {**tuned.summary(), "oof_log_loss": None, "shapes": None}
    np.testing.assert_array_equal(pinned.predict(features, frame), tuned.predict(features, frame))


@pytest.mark.parametrize("given_first", [True, False])
def test_boosted_trees_choose_the_shape_with_the_lowest_loss_on_the_last_fold(races, given_first):
    # given: a stump that cannot split (every leaf needs more runners than the data has) and a
    # tree that can; the features carry the winners' signal
    features, frame = races
    stump, tree = [2, 5000], [4, 20]
    given, other = (stump, tree) if given_first else (tree, stump)
    params = {**SMALL_LIGHTGBM, "num_leaves": given[0], "min_child_samples": given[1]}
    model = ALGORITHMS["lightgbm"](seed=3, **params, shapes=[other])

    # when
    summary = model.fit(features, frame).summary()

    # then: the tree is kept whichever was given, after both were tried
    assert (summary["num_leaves"], summary["min_child_samples"]) == tuple(tree)
    losses = {shape["num_leaves"]: shape["log_loss"] for shape in summary["shapes"]}
    assert losses[4] < losses[2]
    assert model.tuning()["num_leaves"] == 4


def test_a_shape_sets_its_l2_under_each_librarys_name_or_keeps_the_given_one():
    # given the given shape and two others, the second without an L2 of its own
    names = ("num_leaves", "min_child_samples", "lambda_l2")
    given = {"num_leaves": 15, "min_child_samples": 200, "lambda_l2": 10.0}

    # when
    shapes = tree_shapes({**given, "shapes": [[7, 400, 30.0], [31, 100]]}, names)

    # then
    assert shapes == [
        given,
        {"num_leaves": 7, "min_child_samples": 400, "lambda_l2": 30.0},
        {"num_leaves": 31, "min_child_samples": 100, "lambda_l2": 10.0},
    ]
    with pytest.raises(ValueError, match="a shape is at most 3 values"):
        tree_shapes({**given, "shapes": [[7, 400, 30.0, 1]]}, names)
    # and a chosen shape's L2 reaches each library under its own name
    xgboost = ALGORITHMS["xgboost"]()
    xgboost.shape_ = {"max_depth": 3, "min_child_weight": 28.0, "reg_lambda": 30.0}
    params = xgboost._library_params()
    assert (params["lambda"], params["max_depth"], "reg_lambda" in params) == (30.0, 3, False)
    lightgbm = ALGORITHMS["lightgbm"]()
    lightgbm.shape_ = {"num_leaves": 7, "min_child_samples": 400, "lambda_l2": 30.0}
    assert lightgbm._library_params()["lambda_l2"] == 30.0


def test_boosted_trees_keep_the_given_shape_on_a_tie(races):
    # given: two shapes that grow the same trees (neither can split)
    features, frame = races
    params = {**SMALL_LIGHTGBM, "min_child_samples": 5000}

    # when
    model = ALGORITHMS["lightgbm"](seed=3, **params, shapes=[[7, 6000]]).fit(features, frame)

    # then
    assert model.summary()["min_child_samples"] == 5000


def test_benter_trusts_an_informative_market(fitted):
    summary = fitted["benter"].summary()

    assert summary["b"] > 0.3
    assert summary["second_stage_races"] == 120


def test_benter_falls_back_to_the_first_stage_without_odds(races, fitted):
    features, frame = races
    unpriced = frame.assign(win_odds=np.nan)
    model = fitted["benter"]

    probs = model.predict(features, unpriced)

    np.testing.assert_allclose(probs, model.first_stage_.predict(features, unpriced))


class RecordingFirstStage(Algorithm):
    """A first stage that notes which races it learned from and which it predicted."""

    name = "recording"
    log: list = []

    def fit(self, features, frame):
        self.fit_races = set(frame["race_id"])
        return self

    def predict(self, features, frame):
        self.log.append((self.fit_races, set(frame["race_id"])))
        return market_probabilities(np.ones(len(frame)), frame["race_id"])

    def contributions(self, features, frame):
        return pd.DataFrame(0.0, index=features.index, columns=features.columns)


def test_benter_second_stage_sees_only_out_of_sample_first_stage_probabilities(races, monkeypatch):
    features, frame = races
    monkeypatch.setitem(ALGORITHMS, "recording", RecordingFirstStage)
    monkeypatch.setattr(RecordingFirstStage, "log", [])

    model = ALGORITHMS["benter"](first_stage="recording", folds=4).fit(features, frame)

    log = RecordingFirstStage.log
    assert len(log) == 4
    for fit_races, predicted_races in log:
        assert not fit_races & predicted_races
    assert set().union(*(predicted for _, predicted in log)) == set(frame["race_id"])
    assert model.first_stage_.fit_races == set(frame["race_id"])


@pytest.mark.parametrize("name", ["lightgbm", "xgboost"])
def test_benter_takes_a_boosters_out_of_fold_probabilities_instead_of_refitting(
    races, monkeypatch, name
):
    # given the same Benter twice: reusing the booster's out-of-fold probabilities, and with
    # that switched off, refitting the booster on each fold with its tuning pinned
    features, frame = races
    params = {"first_stage": name, "first_stage_params": FAST_PARAMS[name]}
    reused = ALGORITHMS["benter"](seed=3, **params).fit(features, frame)
    fits = []
    booster = ALGORITHMS[name]
    monkeypatch.setattr(booster, "fit", lambda self, *a: fits.append(1) or _fit(self, *a))
    monkeypatch.setattr(booster, "out_of_sample", lambda self: None)
    refitted = ALGORITHMS["benter"](seed=3, **params).fit(features, frame)

    # then: the same second stage, and four fewer fits (the final one, then one per fold)
    assert len(fits) == 5
    np.testing.assert_allclose([reused.a_, reused.b_], [refitted.a_, refitted.b_], rtol=1e-4)
    np.testing.assert_allclose(
        reused.predict(features, frame), refitted.predict(features, frame), rtol=1e-5
    )


_fit = ALGORITHMS["lightgbm"].fit  # BoostedTrees.fit, shared by both boosters


def test_benter_refuses_a_first_stage_that_reads_the_odds(races):
    features, frame = races

    with pytest.raises(ValueError, match="must not read the odds"):
        ALGORITHMS["benter"](first_stage="market").fit(features, frame)


@pytest.mark.parametrize("name", ["lightgbm", "xgboost", "benter", "residual", "softmax"])
def test_the_fit_hands_over_out_of_sample_probabilities_once(races, name):
    features, frame = races
    model = ALGORITHMS[name](seed=3, **FAST_PARAMS[name]).fit(features, frame)

    index, probs = model.out_of_sample()

    # then: training runners, whole races, probabilities of a race summing to 1
    assert set(index) <= set(frame.index)
    held = frame.loc[index]
    assert set(frame[frame["race_id"].isin(held["race_id"])].index) == set(index)
    np.testing.assert_allclose(race_sums(probs, held), 1.0)
    # handed over once, and not stored with the model
    assert model.out_of_sample() is None
    assert "out_of_sample_" not in pickle.loads(pickle.dumps(model)).__dict__


@pytest.mark.parametrize("name", ["market", "logit"])
def test_algorithms_without_held_out_fits_have_no_out_of_sample_probabilities(fitted, name):
    assert fitted[name].out_of_sample() is None


# ---------------------------------------------------------------------------------------------
# Float32 features (what build_features gives) against the float64 fits the algorithms made


def test_logit_on_float32_features_matches_the_float64_design_it_replaced(races):
    # given float32 features, and the standardised float64 design the logit used to build
    features, frame = races
    features = features.astype("float32")
    values = features.to_numpy(dtype=float)
    missing = np.isnan(values)
    filled = np.where(missing, np.nanmedian(values, axis=0), values)
    design = np.hstack([filled, missing[:, missing.any(axis=0)].astype(float)])
    design = (design - design.mean(axis=0)) / design.std(axis=0)
    coef = fit_conditional_logit(design, frame["race_id"], win_shares(frame), l2=1e-3)
    expected = softmax_within(design @ coef, frame["race_id"])

    # when the logit fits on a float32 design
    model = ALGORITHMS["logit"]().fit(features, frame)

    # then: the same probabilities to float32 precision, the same favourite in every race
    probs = model.predict(features, frame)
    np.testing.assert_allclose(probs, expected, rtol=1e-5)
    top = pd.Series(probs).groupby(frame["race_id"].to_numpy()).idxmax()
    assert top.equals(pd.Series(expected).groupby(frame["race_id"].to_numpy()).idxmax())


@pytest.mark.parametrize("name", ["lightgbm", "xgboost"])
def test_boosted_trees_on_float32_features_match_the_library_on_float64(name, races):
    # given float32 features and the booster a plain float64 fit gives (fixed trees: no search)
    features, frame = races
    features = features.astype("float32")
    params = {**FAST_PARAMS[name], "fixed_trees": 30, "fixed_beta": 1.0}
    model = ALGORITHMS[name](seed=3, **params)
    values, labels = features.to_numpy(dtype=float), win_shares(frame)
    if name == "lightgbm":
        booster = lgb.train(model._library_params(), lgb.Dataset(values, label=labels), 30)
        margin = booster.predict(values, raw_score=True)
    else:
        booster = xgb.train(model._library_params(), xgb.DMatrix(values, label=labels), 30)
        margin = booster.predict(xgb.DMatrix(values), output_margin=True)

    # when the algorithm fits without copying the float32 matrix (LightGBM's Dataset from the
    # column-major array, XGBoost's QuantileDMatrix and in-place predictions)
    probs = model.fit(features, frame).predict(features, frame)

    # then
    np.testing.assert_allclose(probs, softmax_within(margin, frame["race_id"]), rtol=1e-6)


def test_each_fit_says_on_which_days_it_tuned_itself(races, fitted):
    features, frame = races
    first, last = str(frame["meeting_date"].min().date()), str(frame["meeting_date"].max().date())

    # the boosters tune trees, temperature and tree shape (with its L2) over the whole window
    for name, shape in (
        ("lightgbm", ["num_leaves", "min_child_samples", "lambda_l2"]),
        ("xgboost", ["max_depth", "min_child_weight", "reg_lambda"]),
    ):
        assert fitted[name].tuning_window() == {
            "from": first, "to": last, "tuned": ["n_trees", "beta", *shape]
        }  # fmt: skip
    # Benter fits a and b there, on its first stage's tuning
    assert fitted["benter"].tuning_window()["tuned"] == [
        "a", "b", "first_stage.n_trees", "first_stage.beta", "first_stage.num_leaves",
        "first_stage.min_child_samples", "first_stage.lambda_l2",
    ]  # fmt: skip
    # the residual model stops early and chooses its tree shape on the window's last stretch only
    residual = fitted["residual"].tuning_window()
    assert residual["tuned"] == ["n_trees", "num_leaves", "min_child_samples", "lambda_l2"]
    assert first < residual["from"] <= residual["to"] == last
    # so does the softmax model, its place discount too
    softmax = fitted["softmax"].tuning_window()
    assert softmax["tuned"] == [*residual["tuned"], "place_discount"]
    assert (softmax["from"], softmax["to"]) == (residual["from"], residual["to"])
    # nothing is tuned by the market or the logit (its settings are its defaults)
    assert fitted["market"].tuning_window() is None
    assert fitted["logit"].tuning_window() is None
