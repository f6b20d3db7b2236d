"""What the feature families share: places, windows, outcomes, shrunken rates."""

import numpy as np
import pandas as pd

from predictions.ml.features.asof import cumulative_asof, days

LONG_WINDOW_DAYS = 365
SHORT_WINDOW_DAYS = 60  # a yard or rider in or out of form
PLACES = 3


def class_number(race_class: pd.Series) -> np.ndarray:
    return pd.to_numeric(race_class, errors="coerce").to_numpy(float)


def chance_to_place(field: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.minimum(PLACES, field) / field


def shrunk(hits: np.ndarray, n: np.ndarray, prior: np.ndarray, prior_n: float) -> np.ndarray:
    """Empirical-Bayes rate: hits over n, shrunk towards `prior` with `prior_n` pseudo-runs."""
    return (hits + prior_n * prior) / (n + prior_n)


def race_transform(race: np.ndarray, values: np.ndarray, how: str) -> np.ndarray:
    return pd.Series(values).groupby(race).transform(how).to_numpy(float)


def run_outcomes(rows: pd.DataFrame) -> pd.DataFrame:
    """Runs, wins and places per history row (a non-finisher has neither)."""
    pos = rows["finish_position"].to_numpy()
    return pd.DataFrame(
        {"n": np.ones(len(rows)), "won": (pos == 1) * 1.0, "placed": (pos <= PLACES) * 1.0}
    )


def entity_counts(
    history: pd.DataFrame, targets: pd.DataFrame, day: np.ndarray, lags: tuple[int, ...]
) -> list[np.ndarray]:
    """(runs, wins, places) of each target's entity (the key columns of `targets`) before
    day - lag, for each lag; history is cut to the entities asked for first."""
    mine = history
    for key in targets.columns:
        mine = mine[mine[key].isin(targets[key].dropna().unique())]
    return cumulative_asof(
        mine[list(targets.columns)],
        days(mine["meeting_date"]),
        run_outcomes(mine),
        targets,
        day,
        lags=lags,
    )
