"""The feature priors' estimator: method-of-moments strengths from a window's own results."""

import dataclasses

import numpy as np
import pandas as pd
import pytest

from predictions.ml.features import build_features
from predictions.ml.features.priors import (
    FIXED_PRIORS,
    STRENGTH_MAX,
    STRENGTH_MIN,
    _mean_strength,
    priors_estimate,
)
from predictions.ml.frame import FRAME_COLUMNS
from predictions.tests.test_features import random_frame


def jockey_frame(wins: dict[float, np.ndarray], field: int = 4) -> pd.DataFrame:
    """One race a day of `field` runners; in each, one runner ridden by a known jockey who
    wins or finishes last (`wins[jockey]`, a 0/1 per ride), the others by nobody known."""
    races = [(jockey, won) for jockey, rides in wins.items() for won in rides]
    n = len(races)
    race = np.repeat(np.arange(n), field)
    saddle = np.tile(np.arange(1, field + 1), n)
    first = saddle == 1
    won = np.repeat([won for _, won in races], field).astype(bool)
    # The known jockey's runner is saddle 1: first when it won, else last (out of the places).
    position = np.where(first, np.where(won, 1, field), np.where(won, saddle, saddle - 1))
    frame = pd.DataFrame(
        {
            "runner_id": np.arange(len(race)) + 1,
            "race_id": race + 1,
            "meeting_date": pd.Timestamp("2020-01-01") + pd.to_timedelta(race, unit="D"),
            "racecourse_id": 1,
            "race_number": 1,
            "distance_m": 1200,
            "surface": "turf",
            "going": "GOOD",
            "race_class": "4",
            "status": "result",
            "horse_id": np.arange(len(race)) + 1,
            "jockey_id": np.where(first, np.repeat([j for j, _ in races], field), np.nan),
            "trainer_id": np.nan,
            "saddle_number": saddle,
            "draw": saddle,
            "carried_weight_lb": 126.0,
            "declared_weight_lb": 1100.0,
            "rating": 60.0,
            "age": 4.0,
            "win_odds": 4.0,
            "finish_position": position,
            "lengths_behind": np.nan,
            "finish_time": np.nan,
            "early_position": np.nan,
            "late_position": np.nan,
            "non_runner": False,
        }
    )
    return frame.astype(FRAME_COLUMNS)


def test_rate_strength_is_the_beta_binomial_method_of_moments():
    # given two jockeys with 20 rides each at a 1/4 chance: one wins 8, the other 2
    rides = {1.0: np.r_[np.ones(8), np.zeros(12)], 2.0: np.r_[np.ones(2), np.zeros(18)]}

    # when
    priors = priors_estimate(jockey_frame(rides))

    # then tau² = (sum (H - E)² / n - sum V / n) / sum (n - 1), k = rho / tau² - 1
    p = 1 / 4
    tau2 = ((8 - 5) ** 2 / 20 + (2 - 5) ** 2 / 20 - 2 * p * (1 - p)) / 38
    assert priors.jockey[0] == round(p * (1 - p) / tau2 - 1, 1) == 12.6
    # both placed (top 3 of 4: a 3/4 chance) only when they won: so far from their chance that
    # their own record is believed all but at once
    assert priors.jockey[1] == STRENGTH_MIN


def test_rate_strength_finds_the_strength_of_simulated_jockeys():
    # given 300 jockeys whose win chances are drawn from a beta prior worth 30 rides at 1/4
    rng = np.random.default_rng(3)
    true_k, p = 30.0, 0.25
    chances = rng.beta(true_k * p, true_k * (1 - p), 300)
    rides = {float(j + 1): rng.random(120) < chance for j, chance in enumerate(chances)}

    # when
    priors = priors_estimate(jockey_frame(rides))

    # then
    assert priors.jockey[0] == pytest.approx(true_k, rel=0.2)


def test_mean_strength_is_within_over_between_variance():
    # within-group variance (1 - 3)², ... pooled: 16 / 2 = 8; the means ±3 spread
    # (2 * 9 * 2 - 2 * 8) / 4 = 5 around zero beyond what 8 / 2 explains: k = 8 / 5
    values = np.array([1.0, 5.0, -5.0, -1.0, np.nan])
    groups = [np.array(["a", "a", "b", "b", "b"])]

    assert _mean_strength(values, groups) == 1.6
    # no spread between the means beyond the noise: the means are shrunk to zero
    assert _mean_strength(np.array([1.0, -1.0, 1.0, -1.0]), [np.array([1, 1, 2, 2])]) == (
        STRENGTH_MAX
    )
    # means far apart against little noise: each group's mean is believed as it is
    assert _mean_strength(np.array([29.0, 31.0, -31.0, -29.0]), [np.array([1, 1, 2, 2])]) == (
        STRENGTH_MIN
    )


def test_priors_come_from_the_settled_starters_and_record_their_window():
    # given a season, then declared cards and a non-runner a few days later
    frame = random_frame()
    settled = priors_estimate(frame)
    later = frame[frame["meeting_date"] == frame["meeting_date"].max()].copy()
    later["meeting_date"] += pd.Timedelta(days=30)
    later["race_id"] += 1000
    later["runner_id"] += 1000
    later["status"] = "declared"
    later.loc[later.index[0], ["status", "non_runner"]] = ["result", True]
    later.index = later.index + 1000

    # when
    with_cards = priors_estimate(pd.concat([frame, later]))

    # then the cards and the non-runner change nothing, nor the window
    assert with_cards == settled
    assert (with_cards.first_day, with_cards.last_day) == ("2024-01-01", "2024-02-20")
    assert with_cards.summary()["to"] == "2024-02-20"


def test_equal_strengths_build_equal_features_whatever_their_window():
    frame = random_frame()
    estimated = priors_estimate(frame)
    same = dataclasses.replace(estimated, first_day=None, last_day=None)

    assert same == estimated
    assert hash(same) == hash(estimated)
    assert estimated != FIXED_PRIORS
    pd.testing.assert_frame_equal(
        build_features(frame, priors=same), build_features(frame, priors=estimated)
    )
    assert not build_features(frame, priors=estimated).equals(build_features(frame))
