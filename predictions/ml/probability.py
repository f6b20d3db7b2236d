"""Probabilities within races: normalising, the market's view, place (top-three) chances, seasons.

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
    gamma: float = 0.81,
    delta: float = 0.65,
) -> np.ndarray:
    """Each runner's probability of finishing in the first three.

    Harville's model with Benter's correction: the winner is drawn from p; the second from the
    remaining runners with probabilities proportional to p**gamma; the third from those left with
    probabilities proportional to p**delta. The exponents below 1 flatten the later places, where
    favourites do less well than plain Harville (gamma = delta = 1) says. Exact: every ordered
    (first, second, third) triple is counted, in O(n^2) per race. Pass starters only; a race of
    three or fewer runners gives everyone 1.0. The input is renormalised within each race.
    """
    p_all = normalise_within(win_probs, race_ids)
    codes, n_races = race_codes(race_ids)
    sizes = np.bincount(codes, minlength=n_races)
    result = np.ones(len(p_all))

    # Races of one field size are stacked into an (races, n) matrix and computed together.
    order = np.argsort(codes, kind="stable")
    starts = np.concatenate(([0], np.cumsum(sizes)[:-1]))
    for n in np.unique(sizes[sizes > 3]):
        races = np.flatnonzero(sizes == n)
        rows = order[starts[races][:, None] + np.arange(n)]
        result[rows] = _top_three(p_all[rows], gamma, delta)
    return result


def _top_three(p: np.ndarray, gamma: float, delta: float) -> np.ndarray:
    """Top-three probabilities for a (races, n) matrix of win probabilities (rows sum to 1)."""
    tiny = np.finfo(float).tiny
    q = p**gamma
    q /= q.sum(axis=1, keepdims=True)
    r = p**delta
    r /= r.sum(axis=1, keepdims=True)
    n = p.shape[1]
    off_diagonal = ~np.eye(n, dtype=bool)

    # first_second[:, j, k] = P(j wins, k second) = p_j * q_k / (1 - q_j), zero when j == k.
    first_second = p[:, :, None] * q[:, None, :] / np.maximum(1.0 - q, tiny)[:, :, None]
    first_second *= off_diagonal
    # P(j, k first two, i third) = first_second[j, k] * r_i / (1 - r_j - r_k); `pair` holds all
    # but the r_i factor. Summing it over pairs that exclude i: the total minus row i and
    # column i (they do not overlap, the diagonal being zero).
    pair = first_second / np.maximum(1.0 - r[:, :, None] - r[:, None, :], tiny)
    pair_total = pair.sum(axis=(1, 2))
    third = r * (pair_total[:, None] - pair.sum(axis=2) - pair.sum(axis=1))
    second = first_second.sum(axis=1)
    return p + second + third


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
