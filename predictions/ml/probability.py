"""Probabilities within races: normalising, the market's view, place chances, seasons.

Every function takes per-runner arrays aligned with a `race_ids` array (any order; rows of one
race need not be adjacent) and returns per-runner arrays in the same order.
"""

import numpy as np
import pandas as pd

# A winner's probability is floored here before taking logs, so one confident miss costs a large
# but finite loss.
PROBABILITY_FLOOR = 1e-15


def race_codes(race_ids: np.ndarray | pd.Series) -> tuple[np.ndarray, int]:
    """Dense integer codes 0..n_races-1 for `race_ids`, and the number of races."""
    codes, uniques = pd.factorize(np.asarray(race_ids))
    if (codes < 0).any():
        raise ValueError("race_ids must not be missing")
    return codes, len(uniques)


def normalise_within(
    values: np.ndarray | pd.Series, race_ids: np.ndarray | pd.Series
) -> np.ndarray:
    """`values` divided by their race's total, so each race sums to 1.

    Values must be finite and non-negative. A race whose values are all zero gets a uniform
    distribution: nothing distinguishes its runners.
    """
    values = np.asarray(values, dtype=float)
    if not np.isfinite(values).all() or (values < 0).any():
        raise ValueError("values must be finite and non-negative")
    codes, n_races = race_codes(race_ids)
    totals = np.bincount(codes, weights=values, minlength=n_races)
    sizes = np.bincount(codes, minlength=n_races)
    empty = totals[codes] <= 0
    return np.where(empty, 1.0 / sizes[codes], values / np.where(empty, 1.0, totals[codes]))


def softmax_within(scores: np.ndarray | pd.Series, race_ids: np.ndarray | pd.Series) -> np.ndarray:
    """exp(score) normalised within each race; a score of -inf gives probability 0.

    A race whose scores are all -inf gets a uniform distribution.
    """
    scores = np.asarray(scores, dtype=float)
    if np.isnan(scores).any() or np.isposinf(scores).any():
        raise ValueError("scores must not be NaN or +inf")
    codes, n_races = race_codes(race_ids)
    race_max = np.full(n_races, -np.inf)
    np.maximum.at(race_max, codes, scores)
    # Subtracting the race's maximum keeps exp() from overflowing; all -inf races shift by 0.
    shift = np.where(np.isfinite(race_max), race_max, 0.0)[codes]
    return normalise_within(np.exp(scores - shift), codes)


def market_probabilities(
    win_odds: np.ndarray | pd.Series, race_ids: np.ndarray | pd.Series
) -> np.ndarray:
    """The market's win probabilities: 1/odds normalised within each race (removing the take).

    Odds that are missing, infinite or not positive are unknown. Such a runner gets the smallest
    implied probability among the race's priced runners: a horse nobody quoted is most likely an
    outsider, and the smallest price keeps it from distorting the others. A race with no prices
    at all is uniform. Odds of exactly 1.0 (Hong Kong's minimum dividend) are kept as quoted.
    """
    odds = np.asarray(win_odds, dtype=float)
    codes, n_races = race_codes(race_ids)
    known = np.isfinite(odds) & (odds > 0)
    implied = np.where(known, 1.0 / np.where(known, odds, 1.0), np.inf)
    smallest = np.full(n_races, np.inf)
    np.minimum.at(smallest, codes, implied)
    # Races without any price: every runner gets the same (arbitrary) weight, hence uniform.
    smallest[~np.isfinite(smallest)] = 1.0
    implied = np.where(known, implied, smallest[codes])
    return normalise_within(implied, codes)


def place_probabilities(
    win_probs: np.ndarray | pd.Series,
    race_ids: np.ndarray | pd.Series,
    *,
    places: int | np.ndarray | pd.Series = 3,
    gamma: float = 0.81,
    delta: float = 0.65,
) -> np.ndarray:
    """Each runner's probability of finishing in the first `places` of its race (a number, or
    one per runner, the same within a race: the race's place terms, 1 to 4; 0 for a race with
    no place terms, whose runners get NaN).

    Harville's model with Benter's correction: the winner is drawn from p; the second from the
    remaining runners with probabilities proportional to p**gamma; the third and fourth from
    those left with probabilities proportional to p**delta. The exponents below 1 flatten the
    later places, where favourites do less well than plain Harville (gamma = delta = 1) says.
    Exact: every ordered sequence of the first places is counted, in O(n^places) per race. Pass
    starters only; a race of no more runners than places gives everyone 1.0. The input is
    renormalised within each race.
    """
    p_all = normalise_within(win_probs, race_ids)
    codes, n_races = race_codes(race_ids)
    sizes = np.bincount(codes, minlength=n_races)
    runner_places = np.broadcast_to(np.asarray(places, dtype=int), p_all.shape)
    race_places = np.zeros(n_races, dtype=int)
    race_places[codes] = runner_places
    result = np.ones(len(p_all))
    result[race_places[codes] == 0] = np.nan

    # Races of one field size and terms are stacked into an (races, n) matrix and computed together.
    order = np.argsort(codes, kind="stable")
    starts = np.concatenate(([0], np.cumsum(sizes)[:-1]))
    for n, k in {(n, k) for n, k in zip(sizes, race_places, strict=True) if 0 < k < n}:
        races = np.flatnonzero((sizes == n) & (race_places == k))
        rows = order[starts[races][:, None] + np.arange(n)]
        result[rows] = _top_places(p_all[rows], k, gamma, delta)
    return result


def _top_places(p: np.ndarray, k: int, gamma: float, delta: float) -> np.ndarray:
    """Top-`k` probabilities for a (races, n) matrix of win probabilities (rows sum to 1).

    `prefix` holds the probability of each ordered sequence of the first m finishers (zero where
    a runner repeats); runner i's chance of finishing (m+1)th is its strength s_i times the sum,
    over the sequences without i, of prefix / (1 - the sequence's strengths). That sum is the
    total less the sequences holding i in one of their m positions (a runner appears at most
    once in a sequence, so those sets do not overlap).
    """
    tiny = np.finfo(float).tiny
    strengths = [p, _renormalised(p**gamma), _renormalised(p**delta), _renormalised(p**delta)]
    n = p.shape[1]
    result = p.copy()
    prefix = p
    for m in range(1, k):
        s = strengths[m]
        # Axes of `prefix`: races, then one per position already filled.
        taken = sum(_on_axis(s, axis, m) for axis in range(1, m + 1))
        weight = prefix / np.maximum(1.0 - taken, tiny)
        total = weight.reshape(len(p), -1).sum(axis=1)
        holding = sum(
            weight.sum(axis=tuple(a for a in range(1, m + 1) if a != axis)) if m > 1 else weight
            for axis in range(1, m + 1)
        )
        result += s * (total[:, None] - holding)
        if m + 1 < k:
            prefix = weight[..., None] * _on_axis(s, m + 1, m + 1)
            for axis in range(1, m + 1):
                prefix = prefix * _distinct(n, axis, m + 1, m + 1)
    return result


def _renormalised(q: np.ndarray) -> np.ndarray:
    return q / q.sum(axis=1, keepdims=True)


def _on_axis(s: np.ndarray, axis: int, m: int) -> np.ndarray:
    """The (races, n) matrix `s` shaped to broadcast along `axis` of a (races, n, ..., n) array
    with `m` runner axes."""
    shape = [s.shape[0]] + [1] * m
    shape[axis] = s.shape[1]
    return s.reshape(shape)


def _distinct(n: int, a: int, b: int, m: int) -> np.ndarray:
    """1 where the runners on axes `a` and `b` differ, 0 where they are the same runner."""
    shape_a, shape_b = [1] * (m + 1), [1] * (m + 1)
    shape_a[a], shape_b[b] = n, n
    index = np.arange(n)
    return (index.reshape(shape_a) != index.reshape(shape_b)).astype(float)


def starters(frame: pd.DataFrame) -> np.ndarray:
    """Boolean mask of the rows that run: everyone but withdrawn horses (`non_runner`)."""
    if "non_runner" not in frame:
        return np.ones(len(frame), dtype=bool)
    return ~frame["non_runner"].to_numpy(dtype=bool)


def win_shares(frame: pd.DataFrame) -> np.ndarray:
    """Each starter's share of the win: 1 for a sole winner, 1/k for each of k dead heaters.

    Shares sum to 1 in every race with a result, which is what the within-race likelihoods and
    the calibration table expect.
    """
    won = (frame["finish_position"].to_numpy(dtype=float) == 1) & starters(frame)
    codes, n_races = race_codes(frame["race_id"])
    winners = np.bincount(codes, weights=won, minlength=n_races)
    return np.where(won, 1.0 / np.maximum(winners[codes], 1.0), 0.0)


def scored_rows(frame: pd.DataFrame) -> np.ndarray:
    """Boolean mask of the rows that models learn from and are judged on.

    The starters of races with at least one winner and at least two starters; a walkover or an
    unresolved race says nothing about who beats whom.
    """
    run = starters(frame)
    codes, n_races = race_codes(frame["race_id"])
    n_starters = np.bincount(codes, weights=run, minlength=n_races)
    n_winners = np.bincount(codes, weights=win_shares(frame) > 0, minlength=n_races)
    return run & (n_starters[codes] >= 2) & (n_winners[codes] >= 1)


def seasons(dates: pd.Series, gap_days: int = 40) -> pd.Series:
    """Season numbers from 1: runs of race days separated by breaks of more than `gap_days`.

    Hong Kong's dates are shifted, so the calendar year means nothing, but the summer break does.
    Returns int64 aligned with `dates` (same index).
    """
    dates = pd.to_datetime(dates)
    if dates.isna().any():
        raise ValueError("dates must not be missing")
    days = pd.Series(dates.dt.normalize().unique()).sort_values(ignore_index=True)
    new_season = days.diff() > pd.Timedelta(days=gap_days)
    numbers = pd.Series(new_season.cumsum().to_numpy() + 1, index=days.to_numpy())
    return pd.Series(
        numbers.loc[dates.dt.normalize().to_numpy()].to_numpy(dtype="int64"),
        index=dates.index,
        name="season",
    )
