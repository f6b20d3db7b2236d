"""What the feature families share: places, windows, outcomes, shrunken rates."""

from collections.abc import Iterable

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


class FeatureColumns:
    """The feature matrix being filled: float32, column-major, one column per feature name.

    A family computes a column in float64 and stores it here at once (as float32), so no
    family's float64 columns pile up: at 800,000 runners each is 6.4 MB, and there are dozens.
    Reading a column back gives its float32 values, but for the `float64` names, which keep a
    float64 copy: field-relative features rank them, and float32 rounding would tie values
    that differ. Columns never stored stay NaN.
    """

    def __init__(self, n_rows: int, names: list[str], *, float64: Iterable[str] = ()) -> None:
        self.matrix = np.full((n_rows, len(names)), np.nan, dtype=np.float32, order="F")
        self._position = {name: i for i, name in enumerate(names)}
        self._float64 = dict.fromkeys(float64)

    def __setitem__(self, name: str, values: np.ndarray) -> None:
        self.matrix[:, self._position[name]] = values
        if name in self._float64:
            self._float64[name] = np.broadcast_to(values, len(self.matrix)).astype(float)

    def __getitem__(self, name: str) -> np.ndarray:
        exact = self._float64.get(name)
        return self.matrix[:, self._position[name]] if exact is None else exact


def rows_where(rows: pd.DataFrame, keep: np.ndarray) -> pd.DataFrame:
    """rows[keep], without copying the rows when `keep` keeps them all (a training frame's
    history is the whole frame, and a copy of it is hundreds of MB at scale)."""
    return rows if keep.all() else rows[keep]


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
        mine = rows_where(mine, mine[key].isin(targets[key].dropna().unique()).to_numpy())
    return cumulative_asof(
        mine[list(targets.columns)],
        days(mine["meeting_date"]),
        run_outcomes(mine),
        targets,
        day,
        lags=lags,
    )
