import datetime
import json
from math import log

import numpy as np
import pandas as pd
import pytest
from sklearn.calibration import calibration_curve
from sklearn.metrics import brier_score_loss, log_loss

from predictions.ml.evaluation import (
    VALUE_MARGINS,
    evaluate,
    market_difference_intervals,
    value_margin_choose,
)
from predictions.tests.evaluations import stored_evaluation

DAY_1, DAY_2 = pd.Timestamp("2001-01-01"), pd.Timestamp("2001-01-04")


def race(race_id, date, number, probs, odds, finish, non_runner=None):
    n = len(probs)
    return pd.DataFrame(
        {
            "race_id": race_id,
            "meeting_date": date,
            "race_number": number,
            "prob": probs,
            "win_odds": odds,
            "finish_position": finish,
            "non_runner": non_runner or [False] * n,
        }
    )


@pytest.fixture
def card():
    """Three judged races (listed out of running order) and two that are not judged.

    race 1 (day 1, race 1): the top pick A wins at 2.2.
    race 2 (day 1, race 2): the favourite B (2.5) beats the top pick A.
    race 3 (day 2): A (the top pick and favourite) dead-heats with B.
    race 4 has no result yet; race 5 has a single starter.
    """
    races = [
        race(3, DAY_2, 1, [0.6, 0.25, 0.15], [1.5, 5.0, 8.0], [1, 1, 3]),
        race(1, DAY_1, 1, [0.5, 0.3, 0.2], [2.2, 4.0, 4.5], [1, 2, 3]),
        race(2, DAY_1, 2, [0.4, 0.3, 0.2, 0.1], [3.0, 2.5, 6.0, 12.0], [3, 1, 2, 4]),
        race(4, DAY_2, 2, [0.5, 0.5], [2.0, 2.0], [np.nan, np.nan]),
        race(5, DAY_2, 3, [1.0, 0.0], [1.5, 3.0], [1, np.nan], non_runner=[False, True]),
    ]
    return pd.concat(races, ignore_index=True)


def test_evaluate_scores_the_fit_against_results_and_market(card):
    result = evaluate(card, card["prob"].to_numpy())

    assert result["races"] == 3
    assert result["runners"] == 10
    log_loss = (-log(0.5) - log(0.3) - (log(0.6) + log(0.25)) / 2) / 3
    assert result["log_loss"] == pytest.approx(log_loss)
    uniform = (log(3) + log(4) + log(3)) / 3
    assert result["uniform_log_loss"] == pytest.approx(uniform)
    assert result["pseudo_r2"] == pytest.approx(1 - log_loss / uniform)
    market = (
        -log((1 / 2.2) / (1 / 2.2 + 1 / 4 + 1 / 4.5))
        - log((1 / 2.5) / (1 / 3 + 1 / 2.5 + 1 / 6 + 1 / 12))
        - (log(1 / 1.5) + log(1 / 5) - 2 * log(1 / 1.5 + 1 / 5 + 1 / 8)) / 2
    ) / 3
    assert result["market_log_loss"] == pytest.approx(market)
    assert result["market_pseudo_r2"] == pytest.approx(1 - market / uniform)
    assert result["delta_r2_vs_market"] == pytest.approx((market - log_loss) / uniform)
    assert result["top1_accuracy"] == pytest.approx(2 / 3)
    assert result["favourite_top1_accuracy"] == 1.0
    # race 1: .25 + .09 + .04; race 2: .16 + .49 + .04 + .01; race 3 (shares .5, .5, 0):
    # .01 + .0625 + .0225
    assert result["brier"] == pytest.approx((0.38 + 0.70 + 0.095) / 3)
    json.dumps(result, allow_nan=False)


def test_evaluate_bets_the_top_pick_and_pays_a_dead_heat_half_the_odds(card):
    result = evaluate(card, card["prob"].to_numpy())

    # race 1 wins 2.2, race 2 loses, race 3 dead-heats at 1.5: half of it
    top_pick = result["returns"]["top_pick"]
    top_pick.pop("by_day")
    assert top_pick == pytest.approx(
        {"bets": 3, "staked": 3.0, "returned": 2.95, "profit": -0.05, "roi": -0.05 / 3}
    )


def test_evaluate_bets_value_above_the_margin(card):
    # p * odds: race 1 1.1, 1.2, 0.9; race 2 1.2, 0.75, 1.2, 1.2; race 3 0.9, 1.25, 1.2
    no_margin = evaluate(card, card["prob"].to_numpy())["returns"]["value"]
    margin = evaluate(card, card["prob"].to_numpy(), margin=0.22)["returns"]["value"]
    no_margin.pop("by_day")
    margin.pop("by_day")

    # 1A wins 2.2, 3B dead-heats at 5.0: 2.5
    assert no_margin == pytest.approx(
        {"bets": 7, "staked": 7.0, "returned": 4.7, "profit": -2.3, "roi": -2.3 / 7, "margin": 0.0}
    )
    assert margin == pytest.approx(
        {"bets": 1, "staked": 1.0, "returned": 2.5, "profit": 1.5, "roi": 1.5, "margin": 0.22}
    )


def day_row(day, bets, returned, cumulative_profit):
    return pytest.approx(
        {
            "day": day,
            "bets": bets,
            "staked": float(bets),
            "returned": returned,
            "profit": returned - bets,
            "cumulative_profit": cumulative_profit,
        }
    )


def test_evaluate_adds_up_the_flat_bets_day_by_day(card):
    returns = evaluate(card, card["prob"].to_numpy())["returns"]

    # day 1: race 1's top pick wins 2.2, race 2's loses; day 2: race 3's dead-heats at 1.5
    assert returns["top_pick"]["by_day"] == [
        day_row("2001-01-01", 2, 2.2, 0.2),
        day_row("2001-01-04", 1, 0.75, -0.05),
    ]
    # day 1: 1A (wins 2.2), 1B, 2A, 2C, 2D; day 2: 3B (dead heat at 5.0) and 3C
    assert returns["value"]["by_day"] == [
        day_row("2001-01-01", 5, 2.2, -2.8),
        day_row("2001-01-04", 2, 2.5, -2.3),
    ]


def test_evaluate_keeps_race_days_without_a_bet_in_the_daily_returns(card):
    value = evaluate(card, card["prob"].to_numpy(), margin=0.22)["returns"]["value"]

    assert [(row["day"], row["bets"]) for row in value["by_day"]] == [
        ("2001-01-01", 0),
        ("2001-01-04", 1),
    ]
    assert [row["cumulative_profit"] for row in value["by_day"]] == pytest.approx([0.0, 1.5])


def test_evaluate_runs_a_fractional_kelly_bankroll_in_date_order(card):
    result = evaluate(card, card["prob"].to_numpy(), kelly_fraction=0.5)

    # stakes 0.5 * (p * odds - 1) / (odds - 1) of the bankroll, race by race:
    race_1 = (0.5 * 0.1 / 1.2, 0.5 * 0.2 / 3.0)  # A wins at 2.2
    race_2 = (0.5 * 0.2 / 2.0, 0.5 * 0.2 / 5.0, 0.5 * 0.2 / 11.0)  # all lose
    race_3 = (0.5 * 0.25 / 4.0, 0.5 * 0.2 / 7.0)  # B dead-heats at 5.0
    returns = (race_1[0] * 2.2, 0.0, race_3[0] * 5.0 / 2)
    stakes = (sum(race_1), sum(race_2), sum(race_3))
    bankroll = [1.0]
    for stake, back in zip(stakes, returns, strict=True):
        bankroll.append(bankroll[-1] * (1 - stake + back))
    staked = sum(b * s for b, s in zip(bankroll, stakes, strict=False))
    returned = sum(b * r for b, r in zip(bankroll, returns, strict=False))
    assert result["returns"]["kelly"] == pytest.approx(
        {
            "fraction": 0.5,
            "bets": 7,
            "staked": staked,
            "returned": returned,
            "profit": returned - staked,
            "roi": (returned - staked) / staked,
            "final_bankroll": bankroll[-1],
        }
    )


def test_evaluate_scales_kelly_stakes_down_to_the_bankroll():
    frame = race(1, DAY_1, 1, [0.9, 0.1], [50.0, 50.0], [1, 2])

    kelly = evaluate(frame, frame["prob"].to_numpy(), kelly_fraction=2.0)["returns"]["kelly"]

    # asked for 2 * 44/49 and 2 * 4/49 of the bankroll: 96/49 > 1, so scaled to the bankroll
    assert kelly["staked"] == pytest.approx(1.0)
    assert kelly["final_bankroll"] == pytest.approx(44 / 48 * 50)


def test_evaluate_tabulates_calibration_in_equal_count_bins(card):
    calibration = evaluate(card, card["prob"].to_numpy())["calibration"]

    # ten runners, one per bin; equal predictions keep their row order (race 1 before race 2)
    assert [row["count"] for row in calibration] == [1] * 10
    assert [row["mean_predicted"] for row in calibration] == pytest.approx(
        [0.1, 0.15, 0.2, 0.2, 0.25, 0.3, 0.3, 0.4, 0.5, 0.6]
    )
    assert [row["observed_win_rate"] for row in calibration] == [
        0.0,  # 2D
        0.0,  # 3C
        0.0,  # 1C
        0.0,  # 2C
        0.5,  # 3B, dead heat
        0.0,  # 1B (earlier row than 2B)
        1.0,  # 2B
        0.0,  # 2A
        1.0,  # 1A
        0.5,  # 3A, dead heat
    ]


def test_evaluate_counts_calibration_bins_of_a_larger_set():
    rng = np.random.default_rng(0)
    frame = pd.concat(
        [
            race(i, DAY_1, i, list(rng.dirichlet(np.ones(5))), [5.0] * 5, [1, 2, 3, 4, 5])
            for i in range(7)
        ],
        ignore_index=True,
    )

    calibration = evaluate(frame, frame["prob"].to_numpy())["calibration"]

    assert [row["count"] for row in calibration] == [4, 3, 4, 3, 4, 3, 4, 3, 4, 3]
    assert [row["bin"] for row in calibration] == list(range(1, 11))


def test_evaluate_without_a_judged_race_returns_nothing_to_report():
    frame = race(4, DAY_2, 2, [0.5, 0.5], [2.0, 2.0], [np.nan, np.nan])

    result = evaluate(frame, frame["prob"].to_numpy(), kelly_fraction=0.25)

    assert result["races"] == 0
    assert result["log_loss"] is None
    assert result["returns"]["kelly"]["final_bankroll"] == 1.0
    assert result["returns"]["value"]["by_day"] == []
    json.dumps(result, allow_nan=False)


def assert_consistent(result):
    """What holds between the figures of any evaluation, real or hand-written."""
    uniform = result["uniform_log_loss"]
    assert result["pseudo_r2"] == pytest.approx(1 - result["log_loss"] / uniform)
    assert result["market_pseudo_r2"] == pytest.approx(1 - result["market_log_loss"] / uniform)
    assert result["delta_r2_vs_market"] == pytest.approx(
        result["pseudo_r2"] - result["market_pseudo_r2"]
    )
    for share in ("top1_accuracy", "favourite_top1_accuracy"):
        assert result[share] * result["races"] == pytest.approx(
            round(result[share] * result["races"])
        )
    calibration = result["calibration"]
    assert sum(row["count"] for row in calibration) == result["runners"]
    assert [row["bin"] for row in calibration] == sorted(row["bin"] for row in calibration)
    for row in calibration:
        assert row["lower"] <= row["mean_predicted"] <= row["upper"]
    for bets in (result["returns"]["top_pick"], result["returns"]["value"]):
        assert bets["staked"] == bets["bets"]
        assert bets["profit"] == pytest.approx(bets["returned"] - bets["staked"])
        assert bets["roi"] == pytest.approx(bets["profit"] / bets["staked"])
        days = bets["by_day"]
        for total in ("bets", "staked", "returned", "profit"):
            assert sum(day[total] for day in days) == pytest.approx(bets[total])
        running = np.cumsum([day["profit"] for day in days])
        assert [day["cumulative_profit"] for day in days] == pytest.approx(list(running))
        assert [day["day"] for day in days] == sorted(day["day"] for day in days)


def test_evaluate_gives_figures_that_agree_with_each_other(card):
    assert_consistent(evaluate(card, card["prob"].to_numpy(), margin=0.1))


def test_the_hand_written_stored_evaluation_has_the_real_ones_shape_and_sums(card):
    # given an evaluation as `model_version_evaluate` stores it: its own keys, then evaluate's
    real = {
        "model_version": 1,
        "algorithm": "logit",
        "from": "2001-01-01",
        "to": "2001-01-04",
        "sources": ["demo"],
        **evaluate(card, card["prob"].to_numpy()),
    }

    # when the view tests' copy is written with round figures
    copy = stored_evaluation(
        algorithm="logit",
        date_from=datetime.date(2026, 10, 2),
        date_to=datetime.date(2026, 10, 29),
        log_loss=1.9,
        market_log_loss=1.95,
    )

    # then it has the same keys and JSON types all the way down, and its figures add up
    assert json_shape(copy) == json_shape(real)
    assert_consistent(copy)


def json_shape(value):
    """The keys of every object and the JSON type of every value (a list by its first item)."""
    if isinstance(value, dict):
        return {key: json_shape(item) for key, item in value.items()}
    if isinstance(value, list):
        return [json_shape(value[0])] if value else []
    return type(value).__name__


def test_evaluate_agrees_with_scikit_learn_where_the_definitions_meet():
    # given races of one field size, one winner each and no tied predictions, in a number of
    # runners that ten equal bins divide: there the per-race log loss is scikit-learn's
    # multi-class one, the per-race Brier sum its multi-class Brier score, and the equal-count
    # calibration bins its quantile bins
    rng = np.random.default_rng(0)
    n_races, field = 30, 6
    probs = rng.dirichlet(np.ones(field), n_races)
    winner = np.array([rng.choice(field, p=row) for row in probs])
    won = np.arange(field)[None, :] == winner[:, None]
    frame = pd.concat(
        [
            race(i, DAY_1, i, list(probs[i]), [5.0] * field, list(np.where(won[i], 1, 2)))
            for i in range(n_races)
        ],
        ignore_index=True,
    )

    # when
    result = evaluate(frame, probs.ravel())

    # then
    labels = range(field)
    assert result["log_loss"] == pytest.approx(log_loss(winner, probs, labels=labels), rel=1e-12)
    assert result["brier"] == pytest.approx(
        brier_score_loss(winner, probs, labels=labels, scale_by_half=False), rel=1e-12
    )
    observed, predicted = calibration_curve(
        won.ravel(), probs.ravel(), n_bins=10, strategy="quantile"
    )
    calibration = result["calibration"]
    assert [row["mean_predicted"] for row in calibration] == pytest.approx(predicted, rel=1e-12)
    assert [row["observed_win_rate"] for row in calibration] == pytest.approx(observed, rel=1e-12)


def bootstrap_races(n_races, edge, noise, seed=7):
    """Per-race log losses of a model that is `edge` better than the market on average."""
    rng = np.random.default_rng(seed)
    market = rng.gamma(4.0, 0.5, n_races)
    model = market - edge + rng.normal(0.0, noise, n_races)
    uniform = np.log(rng.integers(5, 15, n_races))
    return model, market, uniform


def test_the_market_intervals_are_percentiles_of_a_bootstrap_over_races():
    model, market, uniform = bootstrap_races(800, edge=0.0, noise=0.3)

    intervals = market_difference_intervals(model, market, uniform)

    # then: the same interval on a re-evaluation (fixed seed), around the observed difference,
    # as wide as the normal approximation says (sd / sqrt(n) per side at 90 %)
    assert intervals == market_difference_intervals(model, market, uniform)
    low, high = intervals["delta_log_loss_vs_market_ci"]
    observed = (model - market).mean()
    assert low < observed < high
    expected_half_width = 1.645 * (model - market).std() / np.sqrt(len(model))
    assert (high - low) / 2 == pytest.approx(expected_half_width, rel=0.15)
    # ΔR² is the other way round (lower log loss, higher R²), over the resample's uniform loss
    r2_low, r2_high = intervals["delta_r2_vs_market_ci"]
    assert r2_low == pytest.approx(-high / uniform.mean(), rel=0.05)
    assert r2_high == pytest.approx(-low / uniform.mean(), rel=0.05)


def test_a_real_edge_excludes_zero_and_noise_does_not():
    better = market_difference_intervals(*bootstrap_races(800, edge=0.05, noise=0.3))
    same = market_difference_intervals(*bootstrap_races(800, edge=0.0, noise=0.3))
    identical = market_difference_intervals(*bootstrap_races(50, edge=0.0, noise=0.0))

    assert better["delta_log_loss_vs_market_ci"][1] < 0
    assert better["delta_r2_vs_market_ci"][0] > 0
    low, high = same["delta_log_loss_vs_market_ci"]
    assert low < 0 < high
    assert identical["delta_log_loss_vs_market_ci"] == [0.0, 0.0]


def test_evaluate_reports_the_difference_from_the_market_with_its_intervals(card):
    result = evaluate(card, card["prob"].to_numpy())

    assert result["delta_log_loss_vs_market"] == pytest.approx(
        result["log_loss"] - result["market_log_loss"]
    )
    low, high = result["delta_log_loss_vs_market_ci"]
    assert low <= result["delta_log_loss_vs_market"] <= high
    r2_low, r2_high = result["delta_r2_vs_market_ci"]
    assert r2_low <= result["delta_r2_vs_market"] <= r2_high
    json.dumps(result, allow_nan=False)


def test_evaluate_has_no_interval_without_prices(card):
    result = evaluate(card.assign(win_odds=np.nan), card["prob"].to_numpy())

    assert result["delta_log_loss_vs_market"] is None
    assert result["delta_log_loss_vs_market_ci"] is None
    assert result["delta_r2_vs_market_ci"] is None


def value_frame(edge_rows, n_races=200, seed=3):
    """Races of 8 where the model's p is the truth and the odds misprice `edge_rows` runners."""
    rng = np.random.default_rng(seed)
    race_id = np.repeat(np.arange(n_races), 8)
    truth = np.tile(np.array([0.3, 0.2, 0.15, 0.1, 0.1, 0.07, 0.05, 0.03]), n_races)
    finish = (
        pd.Series(np.log(truth) + rng.gumbel(size=len(truth)))
        .groupby(race_id)
        .rank(ascending=False, method="first")
        .to_numpy()
    )
    odds = 0.8 / truth
    odds[np.isin(np.arange(len(truth)) % 8, edge_rows)] *= 2.0  # a generous price
    frame = pd.DataFrame(
        {
            "race_id": race_id,
            "meeting_date": pd.Timestamp("2001-01-01") + pd.to_timedelta(race_id // 8, unit="D"),
            "race_number": race_id % 8 + 1,
            "win_odds": odds,
            "finish_position": finish,
            "non_runner": False,
        }
    )
    return frame, truth


def test_the_value_margin_is_the_most_profitable_on_the_window():
    # given a model that knows the truth and odds that pay 1.6x fair on the first two runners
    frame, truth = value_frame(edge_rows=[0, 1])

    choice = value_margin_choose(frame, truth)

    # then every margin up to 0.5 bets the same runners (edge 0.6); the first best is kept
    assert choice["price"] == "final"
    assert [row["margin"] for row in choice["tried"]] == list(VALUE_MARGINS)
    assert choice["margin"] == 0.0
    best = choice["tried"][0]
    assert best["bets"] == 400
    assert best["roi"] > 0


def test_no_margin_where_no_margin_paid_on_the_window():
    # given the market's take on every runner: no bet can pay in the long run
    frame, truth = value_frame(edge_rows=[])

    choice = value_margin_choose(frame, truth * 1.3)  # a model that overrates everyone

    assert choice["margin"] is None
    assert all(row["roi"] is None or row["roi"] < 0 for row in choice["tried"])


def test_a_margin_needs_enough_bets_to_count():
    frame, truth = value_frame(edge_rows=[7], n_races=10)  # 10 bets: too few

    assert value_margin_choose(frame, truth)["margin"] is None


def test_evaluate_makes_no_value_bets_without_a_margin(card):
    result = evaluate(card, card["prob"].to_numpy(), margin=None)

    assert result["returns"]["value"]["bets"] == 0
    assert result["returns"]["value"]["margin"] is None
    assert result["returns"]["top_pick"]["bets"] == 3
