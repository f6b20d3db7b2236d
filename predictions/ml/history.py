"""The settled history as a worker keeps it between race-card refreshes.

A card's features read the past races of everyone (standard times, class pars and track variants
are per race, the draw sums per course, trip and stall), the jockeys' and trainers' records up to
any day, and the past runs of its own horses. `KeptHistory` computes the races and the daily sums
once per version of the history and finds the horses' runs by horse, so a warm refresh reads a
few hundred rows whatever the history's size.
`build_features(frame_for(targets), targets=..., kept=...)` gives exactly what `build_features`
gives on the whole history: the sums run over the same rows in the same order. Only the races'
track variants depend on a version's feature priors; the sums are kept without them.
"""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from predictions.ml.features.asof import _joint_codes, asof_positions, days, pack
from predictions.ml.features.common import run_outcomes
from predictions.ml.features.draw import DRAW_KEYS, draw_values
from predictions.ml.features.races import past_races, with_variants

if TYPE_CHECKING:
    from predictions.ml.features.priors import FeaturePriors


class KeptHistory:
    """Every settled starter (`frame`, in `predictions.ml.frame`'s layout and order) with what is
    derived from all of it, each part computed on first use."""

    def __init__(self, frame: pd.DataFrame) -> None:
        self.frame = frame
        self._counts: dict[tuple[str, ...], _DailySums] = {}
        # One per distinct priors a refresh predicted with: a few (the versions in use), and
        # gone with this history when the results change.
        self._races: dict[FeaturePriors, pd.DataFrame] = {}

    @cached_property
    def _past_races(self) -> pd.DataFrame:
        return past_races(self.frame)

    def races(self, priors: FeaturePriors) -> pd.DataFrame:
        """`history_races` of the whole history: a race's figures use races up to its own day,
        so later races change nothing a target reads."""
        if priors not in self._races:
            self._races[priors] = with_variants(self._past_races, priors)
        return self._races[priors]

    @cached_property
    def _day(self) -> np.ndarray:
        return days(self.frame["meeting_date"])

    @cached_property
    def _draw(self) -> _DailySums:
        values = draw_values(self.frame, self._past_races)
        return _DailySums(self.frame[DRAW_KEYS], self._day, values)

    @cached_property
    def _by_horse(self) -> _Positions:
        return _Positions(self.frame["horse_id"].to_numpy())

    def frame_for(self, targets: pd.DataFrame) -> tuple[pd.DataFrame, pd.Series]:
        """The target runners plus their horses' settled runs before the last of their days, as
        `frame_with_history` would give but cut to those horses; and the targets' mask."""
        rows = self._by_horse.rows(targets["horse_id"].to_numpy())
        race_ids = targets["race_id"].unique()
        last_day = days(targets["meeting_date"]).max()
        rows = rows[
            (self._day[rows] < last_day)
            & ~np.isin(self.frame["race_id"].to_numpy()[rows], race_ids)
        ]
        frame = pd.concat([self.frame.iloc[rows], targets], ignore_index=True).sort_values(
            ["meeting_date", "race_id", "saddle_number"], ignore_index=True
        )
        return frame, frame["race_id"].isin(race_ids)

    @cached_property
    def _class_par(self) -> _DailySums:
        races = self._past_races
        return _DailySums(
            races[["race_class"]], races["day"].to_numpy(), races[["class_resid", "class_timed"]]
        )

    def class_par_sums(self, race_class: np.ndarray, day: np.ndarray) -> np.ndarray:
        """The class residuals of the whole history's races summed per class over the days
        before each `day` (as `race_features` sums them for the race's par)."""
        (sums,) = self._class_par.before(pd.DataFrame({"race_class": race_class}), day)
        return sums

    def draw_sums(self, work: pd.DataFrame, day: np.ndarray) -> np.ndarray:
        """`draw_values` of the whole history summed per stall, course and trip over the days
        before each row of `work`'s (as `draw_features` sums them)."""
        (sums,) = self._draw.before(work[DRAW_KEYS], day)
        return sums

    def entity_counts(
        self, keys: pd.DataFrame, day: np.ndarray, lags: tuple[int, ...]
    ) -> list[np.ndarray]:
        """`common.entity_counts` of the whole history: (runs, wins, places) per row of `keys`
        (jockeys, trainers or both) before day - lag, for each lag."""
        columns = tuple(keys.columns)
        if columns not in self._counts:
            self._counts[columns] = _DailySums(
                self.frame[list(columns)], self._day, run_outcomes(self.frame)
            )
        return self._counts[columns].before(keys, day, lags)


class _Positions:
    """Row positions of each value of one id column, in row order."""

    def __init__(self, values: np.ndarray) -> None:
        self._order = np.argsort(values, kind="stable")
        self._sorted = values[self._order]

    def rows(self, wanted: np.ndarray) -> np.ndarray:
        wanted = np.unique(wanted[~pd.isna(wanted)])
        start = np.searchsorted(self._sorted, wanted, side="left")
        end = np.searchsorted(self._sorted, wanted, side="right")
        if not len(wanted):
            return np.zeros(0, dtype=np.int64)
        return np.concatenate([self._order[a:b] for a, b in zip(start, end, strict=True)])


class _DailySums:
    """`cumulative_asof` split in two: the cumulated daily sums of every key, once, then the
    look-up of any targets. The daily sums add each key's rows in row order, as
    `cumulative_asof` does on any frame holding those rows, so the figures are the same."""

    def __init__(self, keys: pd.DataFrame, day: np.ndarray, values: pd.DataFrame) -> None:
        code, _ = _joint_codes(keys, keys.iloc[:0])
        known = code >= 0
        daily = (
            values[known]
            .assign(_code=code[known], _day=day[known])
            .groupby(["_code", "_day"], sort=True)
            .sum()
        )
        self._cum = daily.groupby(level="_code", sort=False).cumsum().to_numpy(float)
        codes = daily.index.get_level_values(0).to_numpy()
        self._packed = pack(codes, daily.index.get_level_values(1))
        # A target's key finds its code by hash: a key with NaN, or never seen, finds none.
        codes, first = np.unique(code[known], return_index=True)
        seen = keys[known].iloc[first].itertuples(index=False, name=None)
        self._code_of = dict(zip(seen, codes.tolist(), strict=True))
        self._width = values.shape[1]

    def before(
        self, keys: pd.DataFrame, day: np.ndarray, lags: tuple[int, ...] = (0,)
    ) -> list[np.ndarray]:
        """Per row of `keys`, the sums over the key's days before `day` - lag, for each lag;
        zeros if none."""
        code = np.array(
            [self._code_of.get(key, -1) for key in keys.itertuples(index=False, name=None)],
            dtype=np.int64,
        )
        day = np.asarray(day, dtype=np.int64)
        if not len(self._cum):
            return [np.zeros((len(keys), self._width)) for _ in lags]
        result = []
        for lag in lags:
            position = asof_positions(self._packed, code, day - lag)
            result.append(
                np.where((position >= 0)[:, None], self._cum[np.maximum(position, 0)], 0.0)
            )
        return result
