"""How good are win probabilities? Fit against the results, against the market, and as bets.

`evaluate` judges the races with at least one winner and at least two starters (see
`probability.scored_rows`), over their starters; everything it returns is plain JSON.

Dead heats: each of the k runners sharing first place has a win share of 1/k. The log loss
averages -log p over the k winners, the Brier score and the calibration table use the shares,
and a win bet on a dead heater pays odds / k (the stake is split between the tied horses, as
the win pool does).
"""

from typing import Any

import numpy as np
import pandas as pd

from predictions.ml.probability import (
    PROBABILITY_FLOOR,
    market_probabilities,
    normalise_within,
    race_codes,
    scored_rows,
    win_shares,
)

CALIBRATION_BINS = 10
# The intervals of the difference from the market: a bootstrap over races (a race is the unit
# that is drawn: its runners' outcomes are not independent), percentile intervals.
BOOTSTRAP_RESAMPLES = 1_000
BOOTSTRAP_LEVEL = 0.90
BOOTSTRAP_SEED = 20_040_328
BOOTSTRAP_BLOCK = 100
# The value margins a model may choose from on its training window (`value_margin_choose`), and
# the fewest bets a margin must have made there to count.
VALUE_MARGINS = (0.0, 0.05, 0.1, 0.15, 0.2, 0.3, 0.5)
VALUE_MIN_BETS = 100


def evaluate(
    frame: pd.DataFrame,
    probs: np.ndarray,
    *,
    margin: float | None = 0.0,
    kelly_fraction: float | None = None,
) -> dict[str, Any]:
    """Metrics of `probs` (aligned with `frame`'s rows) on the races that have a result.

    - log_loss: mean over races of -log p(winner); market_log_loss the same for the odds'
      implied probabilities; uniform_log_loss = mean log field size.
    - pseudo_r2 = 1 - log_loss / uniform_log_loss (and the market's); delta_r2_vs_market.
    - delta_log_loss_vs_market = log_loss - market_log_loss (below zero: the model is better),
      and `delta_log_loss_vs_market_ci`, `delta_r2_vs_market_ci`: their 90 % intervals as
      [low, high], from 1,000 bootstrap resamples of the races with a fixed seed (see
      `market_difference_intervals`).
    - top1_accuracy: share of races whose top pick won (ties go to the earlier row);
      favourite_top1_accuracy: the same for the shortest price, over races with a price.
    - brier: mean over races of sum over runners of (p - win share)^2.
    - calibration: runners cut by predicted probability into ten equal-count bins (deciles),
      with mean prediction and observed win rate per bin.
    - returns: 1-unit win bets at the recorded odds on each race's top pick ("top_pick"), and
      on every runner with p * odds > 1 + margin ("value"; none when `margin` is None: the
      model found no margin worth betting on its training window); with `kelly_fraction`, "kelly": a
      bankroll of 1.0 run in date order, staking kelly_fraction * (p * odds - 1) / (odds - 1)
      of the bankroll on each such runner (odds above 1), a race's bets sized on the same
      bankroll and settled together, scaled down if they would exceed it. The flat bets also
      have "by_day": one row per judged race day in date order (days without a bet included),
      with that day's bets, staked, returned and profit, and the cumulative profit in units.

    `probs` are renormalised over each race's starters (they should already sum to 1). Runners
    without a price are never bet on; the market gives them the race's smallest implied
    probability. Values that cannot be computed (no race, no price) are None.
    """
    probs = np.asarray(probs, dtype=float)
    if len(probs) != len(frame):
        raise ValueError("probs must have one value per frame row")
    rows = scored_rows(frame)
    runners = frame.iloc[rows]
    codes, n_races = race_codes(runners["race_id"])
    if n_races == 0:
        return _empty(margin, kelly_fraction)

    p = normalise_within(probs[rows], codes)
    share = win_shares(runners)
    odds = runners["win_odds"].to_numpy(dtype=float)
    priced = np.isfinite(odds) & (odds > 0)
    sizes = np.bincount(codes, minlength=n_races)
    any_price = np.bincount(codes, weights=priced, minlength=n_races) > 0

    race_losses = _race_log_losses(p, share, codes, n_races)
    log_loss = float(race_losses.mean())
    uniform = float(np.log(sizes).mean())
    pseudo_r2 = 1.0 - log_loss / uniform
    market_log_loss = market_pseudo_r2 = delta = delta_log_loss = None
    intervals = {"delta_log_loss_vs_market_ci": None, "delta_r2_vs_market_ci": None}
    if priced.any():
        market_losses = _race_log_losses(market_probabilities(odds, codes), share, codes, n_races)
        market_log_loss = float(market_losses.mean())
        market_pseudo_r2 = 1.0 - market_log_loss / uniform
        delta = pseudo_r2 - market_pseudo_r2
        delta_log_loss = log_loss - market_log_loss
        intervals = market_difference_intervals(race_losses, market_losses, np.log(sizes))

    positions = np.arange(len(p))
    top = _first_per_race(codes, (positions, -p))
    favourite = _first_per_race(codes, (positions, np.where(priced, odds, np.inf)))
    favourite_top1 = None
    if any_price.any():
        favourite_top1 = float((share[favourite] > 0)[any_price].mean())

    value = priced & (p * odds > 1.0 + margin) if margin is not None else np.zeros(len(p), bool)
    day_codes, days = _day_codes(runners)
    returns: dict[str, Any] = {
        "top_pick": _flat_bets(top[priced[top]], odds, share, day_codes, days),
        "value": {
            **_flat_bets(np.flatnonzero(value), odds, share, day_codes, days),
            "margin": None if margin is None else float(margin),
        },
        "kelly": None,
    }
    if kelly_fraction is not None:
        returns["kelly"] = _kelly(runners, codes, n_races, p, odds, share, value, kelly_fraction)

    return {
        "races": int(n_races),
        "runners": int(len(p)),
        "log_loss": log_loss,
        "market_log_loss": market_log_loss,
        "uniform_log_loss": uniform,
        "pseudo_r2": pseudo_r2,
        "market_pseudo_r2": market_pseudo_r2,
        "delta_r2_vs_market": delta,
        "delta_log_loss_vs_market": delta_log_loss,
        **intervals,
        "top1_accuracy": float((share[top] > 0).mean()),
        "favourite_top1_accuracy": favourite_top1,
        "brier": float((np.bincount(codes, weights=(p - share) ** 2, minlength=n_races)).mean()),
        "calibration": _calibration(p, share),
        "returns": returns,
    }


def _race_log_losses(
    p: np.ndarray, share: np.ndarray, codes: np.ndarray, n_races: int
) -> np.ndarray:
    """Each race's -log p(winner) (averaged over the winners of a dead heat)."""
    losses = -share * np.log(np.maximum(p, PROBABILITY_FLOOR))
    return np.bincount(codes, weights=losses, minlength=n_races)


def market_difference_intervals(
    model_losses: np.ndarray,
    market_losses: np.ndarray,
    uniform_losses: np.ndarray,
    *,
    resamples: int = BOOTSTRAP_RESAMPLES,
    level: float = BOOTSTRAP_LEVEL,
    seed: int = BOOTSTRAP_SEED,
) -> dict[str, list[float]]:
    """Percentile bootstrap intervals of the model's difference from the market, per race.

    Each resample draws as many races as were judged, with replacement, and recomputes the mean
    log-loss difference and the pseudo-R² difference (market minus model log loss over the
    resample's uniform log loss) on the same draw. The seed is fixed, so a re-evaluation gives
    the same interval. An interval that excludes zero says the difference is not the luck of
    which races were run; one that straddles it says the window cannot tell the two apart.
    """
    n_races = len(model_losses)
    rng = np.random.default_rng(seed)
    each = np.full(n_races, 1.0 / n_races)
    difference, uniform = np.empty(resamples), np.empty(resamples)
    # How often each race is drawn, a block of resamples at a time (a matrix product per
    # statistic, memory bounded by the block whatever the number of races).
    for start in range(0, resamples, BOOTSTRAP_BLOCK):
        block = slice(start, min(start + BOOTSTRAP_BLOCK, resamples))
        counts = rng.multinomial(n_races, each, size=block.stop - block.start)
        difference[block] = counts @ (model_losses - market_losses) / n_races
        uniform[block] = counts @ uniform_losses / n_races
    tails = [100 * (1 - level) / 2, 100 * (1 + level) / 2]
    return {
        "delta_log_loss_vs_market_ci": [float(v) for v in np.percentile(difference, tails)],
        "delta_r2_vs_market_ci": [float(v) for v in np.percentile(-difference / uniform, tails)],
    }


def _first_per_race(codes: np.ndarray, keys: tuple[np.ndarray, ...]) -> np.ndarray:
    """Row of each race that sorts first by `keys` (last key most significant), race order."""
    order = np.lexsort((*keys, codes))
    first = np.r_[True, codes[order][1:] != codes[order][:-1]]
    return order[first]


def _flat_bets(
    bets: np.ndarray,
    odds: np.ndarray,
    share: np.ndarray,
    day_codes: np.ndarray | None,
    days: list[str],
) -> dict[str, Any]:
    """One unit on each row in `bets`; a winner returns odds times its win share."""
    staked = float(len(bets))
    payouts = odds[bets] * share[bets]
    returned = float(payouts.sum())
    by_day = []
    if day_codes is not None:
        day_bets = np.bincount(day_codes[bets], minlength=len(days))
        day_returned = np.bincount(day_codes[bets], weights=payouts, minlength=len(days))
        cumulative = 0.0
        for day, count, back in zip(days, day_bets, day_returned, strict=True):
            profit = float(back) - float(count)
            cumulative += profit
            by_day.append(
                {
                    "day": day,
                    "bets": int(count),
                    "staked": float(count),
                    "returned": float(back),
                    "profit": profit,
                    "cumulative_profit": cumulative,
                }
            )
    return {**_totals(int(len(bets)), staked, returned), "by_day": by_day}


def _totals(bets: int, staked: float, returned: float) -> dict[str, Any]:
    """Bets, staked, returned, profit and return on stake (None without a stake)."""
    return {
        "bets": bets,
        "staked": staked,
        "returned": returned,
        "profit": returned - staked,
        "roi": (returned - staked) / staked if staked else None,
    }


def _day_codes(runners: pd.DataFrame) -> tuple[np.ndarray | None, list[str]]:
    """Each row's race day as an index into the sorted days (ISO dates); None without dates."""
    if "meeting_date" not in runners:
        return None, []
    dates = pd.to_datetime(runners["meeting_date"]).dt.strftime("%Y-%m-%d").to_numpy()
    days, codes = np.unique(dates, return_inverse=True)
    return codes, [str(day) for day in days]


def _kelly(
    runners: pd.DataFrame,
    codes: np.ndarray,
    n_races: int,
    p: np.ndarray,
    odds: np.ndarray,
    share: np.ndarray,
    value: np.ndarray,
    fraction: float,
) -> dict[str, Any]:
    bets = value & (odds > 1.0)
    safe_odds = np.where(bets, odds, 2.0)
    stake = np.where(bets, fraction * (p * safe_odds - 1.0) / (safe_odds - 1.0), 0.0)
    race_stake = np.bincount(codes, weights=stake, minlength=n_races)
    # Several value bets in one race can ask for more than the bankroll: scale them down.
    scale = 1.0 / np.maximum(race_stake, 1.0)
    race_stake = race_stake * scale
    race_return = np.bincount(codes, weights=stake * safe_odds * share, minlength=n_races) * scale

    race_order = _race_order(runners, codes, n_races)
    growth = 1.0 - race_stake[race_order] + race_return[race_order]
    bankroll_before = np.concatenate(([1.0], np.cumprod(growth)[:-1]))
    staked = float((bankroll_before * race_stake[race_order]).sum())
    returned = float((bankroll_before * race_return[race_order]).sum())
    final = float(np.prod(growth))
    return {
        "fraction": float(fraction),
        **_totals(int(bets.sum()), staked, returned),
        "final_bankroll": final,
    }


def _race_order(runners: pd.DataFrame, codes: np.ndarray, n_races: int) -> np.ndarray:
    """Race codes in running order: date, then race number, then race id."""
    first_rows = np.unique(codes, return_index=True)[1]
    races = runners.iloc[first_rows]
    keys = ["meeting_date", "race_number", "race_id"]
    races = races[[key for key in keys if key in races]].assign(code=codes[first_rows])
    return races.sort_values(list(races.columns), kind="stable")["code"].to_numpy()


def _calibration(p: np.ndarray, share: np.ndarray) -> list[dict[str, Any]]:
    """Equal-count bins by predicted probability (ties in row order)."""
    n = len(p)
    order = np.argsort(p, kind="stable")
    bins = np.empty(n, dtype=int)
    bins[order] = (np.arange(n) * CALIBRATION_BINS) // n
    table = []
    for number in range(CALIBRATION_BINS):
        members = bins == number
        if not members.any():
            continue
        table.append(
            {
                "bin": number + 1,
                "count": int(members.sum()),
                "lower": float(p[members].min()),
                "upper": float(p[members].max()),
                "mean_predicted": float(p[members].mean()),
                "observed_win_rate": float(share[members].mean()),
            }
        )
    return table


def _empty(margin: float | None, kelly_fraction: float | None) -> dict[str, Any]:
    no_bets = _totals(0, 0.0, 0.0)
    kelly = None
    if kelly_fraction is not None:
        kelly = {**no_bets, "fraction": float(kelly_fraction), "final_bankroll": 1.0}
    no_bets = {**no_bets, "by_day": []}
    return {
        "races": 0,
        "runners": 0,
        "log_loss": None,
        "market_log_loss": None,
        "uniform_log_loss": None,
        "pseudo_r2": None,
        "market_pseudo_r2": None,
        "delta_r2_vs_market": None,
        "delta_log_loss_vs_market": None,
        "delta_log_loss_vs_market_ci": None,
        "delta_r2_vs_market_ci": None,
        "top1_accuracy": None,
        "favourite_top1_accuracy": None,
        "brier": None,
        "calibration": [],
        "returns": {
            "top_pick": no_bets,
            "value": {**no_bets, "margin": None if margin is None else float(margin)},
            "kelly": kelly,
        },
    }


def value_margin_choose(frame: pd.DataFrame, probs: np.ndarray) -> dict[str, Any]:
    """The edge a runner must clear to be called value, chosen on out-of-sample probabilities of
    the training window (`Algorithm.out_of_sample`).

    Flat win bets on every runner with p * odds > 1 + margin, for each margin of VALUE_MARGINS
    with at least VALUE_MIN_BETS bets; the margin with the best return wins if that return is
    positive. Otherwise "margin" is None: the model found no edge worth betting on, and no
    runner is marked as value. The bets are decided and paid at the same (final) price, so the
    returns flatter what a bettor taking an earlier price would get; the choice says so.
    """
    rows = scored_rows(frame)
    runners = frame.iloc[rows]
    codes, n_races = race_codes(runners["race_id"])
    tried = []
    if n_races:
        p = normalise_within(np.asarray(probs, dtype=float)[rows], codes)
        share = win_shares(runners)
        odds = runners["win_odds"].to_numpy(dtype=float)
        priced = np.isfinite(odds) & (odds > 0)
        for margin in VALUE_MARGINS:
            bets = np.flatnonzero(priced & (p * odds > 1.0 + margin))
            returned = float((odds[bets] * share[bets]).sum())
            tried.append({"margin": margin, **_totals(int(len(bets)), float(len(bets)), returned)})
    counted = [row for row in tried if row["bets"] >= VALUE_MIN_BETS]
    best = max(counted, key=lambda row: row["roi"], default=None)
    margin = best["margin"] if best is not None and best["roi"] > 0 else None
    return {"margin": margin, "races": int(n_races), "tried": tried, "price": "final"}
