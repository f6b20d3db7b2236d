"""Estimation shared by the algorithms: date-ordered folds and the conditional logit."""

import numpy as np
import pandas as pd
from scipy.optimize import minimize
from threadpoolctl import threadpool_limits

from predictions.ml.probability import race_codes


def time_folds(
    race_ids: np.ndarray | pd.Series, dates: np.ndarray | pd.Series, n_folds: int
) -> np.ndarray:
    """Fold numbers 0..k-1 per row: races in date order cut into `n_folds` contiguous blocks.

    Blocks hold about equal numbers of races and never split a race day (runners of one day
    share the going and the track, which would leak across folds), so all rows of a race share
    a fold and every race of fold i is run before every race of fold i + 1. Fewer than
    `n_folds` folds come back when there are fewer race days; the numbering is dense.
    """
    races = pd.DataFrame({"race_id": np.asarray(race_ids), "date": pd.to_datetime(dates)})
    race_dates = races.drop_duplicates("race_id")
    per_day = race_dates.groupby("date").size().sort_index()
    before = per_day.cumsum().to_numpy() - per_day.to_numpy()
    day_fold = (before * n_folds) // len(race_dates)
    day_fold = pd.Series(pd.factorize(day_fold)[0], index=per_day.index)
    return day_fold.loc[races["date"].to_numpy()].to_numpy()


def conditional_logit(
    design: np.ndarray,
    codes: np.ndarray,
    n_races: int,
    targets: np.ndarray,
    l2: float,
    start: np.ndarray | None = None,
) -> tuple[np.ndarray, float]:
    """Coefficients and mean loss of a conditional logit; see `fit_conditional_logit`.

    Takes dense race codes (`race_codes`) so that callers fitting many times on the same races
    code them once, and an optional starting point. A float32 design stays float32 (see
    `_product`): the logit's design for 800,000 runners would not fit the worker in float64.
    """
    if design.dtype != np.float32:
        design = np.asarray(design, dtype=float)
    race_weight = np.bincount(codes, weights=targets, minlength=n_races)

    def objective(beta: np.ndarray) -> tuple[float, np.ndarray]:
        scores = _product(design, beta)
        race_max = np.full(n_races, -np.inf)
        np.maximum.at(race_max, codes, scores)
        exps = np.exp(scores - race_max[codes])
        totals = np.bincount(codes, weights=exps, minlength=n_races)
        log_norm = race_max + np.log(totals)
        loss = (race_weight @ log_norm - targets @ scores) / n_races + 0.5 * l2 * beta @ beta
        probs = exps / totals[codes]
        residual = probs * race_weight[codes] - targets
        grad = _product(design, residual, transposed=True) / n_races + l2 * beta
        return loss, grad

    # The products are bound by memory, not arithmetic: more BLAS threads only wait for each
    # other, and on busy cores they spin (a 57,000-runner design: 13 times slower with two).
    with threadpool_limits(limits=1, user_api="blas"):
        result = minimize(
            objective,
            np.zeros(design.shape[1]) if start is None else start,
            jac=True,
            method="L-BFGS-B",
            options={"maxiter": 1000, "gtol": 1e-7},
        )
    return result.x, float(result.fun - 0.5 * l2 * result.x @ result.x)


# Rows of a float32 design turned into float64 at a time (about 18 MB for the logit's design).
_BLOCK_ROWS = 16_384


def _product(design: np.ndarray, vector: np.ndarray, *, transposed: bool = False) -> np.ndarray:
    """design @ vector (or design.T @ vector) in float64.

    A float32 design is converted a block of rows at a time: float32 products would lose the
    precision L-BFGS needs near the optimum, and a float64 copy of the whole design is what
    must not exist.
    """
    if design.dtype != np.float32:
        return design.T @ vector if transposed else design @ vector
    if transposed:
        total = np.zeros(design.shape[1])
        for start in range(0, len(design), _BLOCK_ROWS):
            block = slice(start, start + _BLOCK_ROWS)
            total += vector[block] @ design[block].astype(float)
        return total
    out = np.empty(len(design))
    for start in range(0, len(design), _BLOCK_ROWS):
        block = slice(start, start + _BLOCK_ROWS)
        out[block] = design[block].astype(float) @ vector
    return out


def fit_conditional_logit(
    design: np.ndarray,
    race_ids: np.ndarray | pd.Series,
    targets: np.ndarray,
    *,
    l2: float = 0.0,
) -> np.ndarray:
    """Coefficients of p_i = exp(x_i . beta) / sum over i's race of exp(x_j . beta).

    Minimises the mean over races of -sum_i target_i * log p_i, plus l2 / 2 * |beta|^2, by
    L-BFGS with the analytic gradient. `targets` are the win shares (1/k on dead heats).
    There is no intercept: anything common to a race cancels within it.
    """
    codes, n_races = race_codes(race_ids)
    return conditional_logit(design, codes, n_races, np.asarray(targets, dtype=float), l2)[0]
