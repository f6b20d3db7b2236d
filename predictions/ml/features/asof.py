"""As-of sums: each target's history totals over the days before its own (see the package)."""

import numpy as np
import pandas as pd

_DAY_BITS = 22  # (entity code, day) packed into one int64 for the as-of binary search
_DAY_OFFSET = 1 << (_DAY_BITS - 1)


def days(dates: pd.Series) -> np.ndarray:
    """Whole days since 1970-01-01 as int64."""
    return dates.to_numpy().astype("datetime64[D]").astype(np.int64)


def _joint_codes(left: pd.DataFrame, right: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Integer codes for the key tuples of two frames (same columns); -1 where a key is NaN."""
    code = np.zeros(len(left) + len(right), dtype=np.int64)
    missing = np.zeros(len(code), dtype=bool)
    for column in left.columns:
        values = np.concatenate([left[column].to_numpy(), right[column].to_numpy()])
        column_code, uniques = pd.factorize(values)
        missing |= column_code < 0
        code, _ = pd.factorize(code * (len(uniques) + 1) + column_code)
    code = np.where(missing, -1, code)
    return code[: len(left)], code[len(left) :]


def pack(code: np.ndarray, day: np.ndarray) -> np.ndarray:
    return (np.asarray(code, dtype=np.int64) << _DAY_BITS) | (
        np.asarray(day, dtype=np.int64) + _DAY_OFFSET
    )


def asof_positions(packed: np.ndarray, code: np.ndarray, day: np.ndarray) -> np.ndarray:
    """Position in the sorted `packed` keys of each (code, day)'s last key on an earlier day.

    -1 when the code has no earlier key (or is -1 itself).
    """
    code = np.asarray(code)
    if len(packed) == 0:
        return np.full(len(code), -1)
    position = np.searchsorted(packed, pack(np.maximum(code, 0), day), side="left") - 1
    clipped = np.maximum(position, 0)
    found = (code >= 0) & (position >= 0) & ((packed[clipped] >> _DAY_BITS) == code)
    return np.where(found, position, -1)


def cumulative_asof(
    hist_keys: pd.DataFrame,
    hist_day: np.ndarray,
    values: pd.DataFrame,
    target_keys: pd.DataFrame,
    target_day: np.ndarray,
    *,
    lags: tuple[int, ...] = (0,),
) -> list[np.ndarray]:
    """Sums of `values` over each target key's history rows on days before target_day - lag.

    One (n_targets, n_values) array per lag; zeros where there is no such history.
    """
    hist_code, target_code = _joint_codes(hist_keys, target_keys)
    known = hist_code >= 0
    daily = (
        values[known]
        .assign(_code=hist_code[known], _day=np.asarray(hist_day)[known])
        .groupby(["_code", "_day"], sort=True)
        .sum()
    )
    cum = daily.groupby(level="_code", sort=False).cumsum().to_numpy(float)
    packed = pack(daily.index.get_level_values(0), daily.index.get_level_values(1))
    target_day = np.asarray(target_day, dtype=np.int64)
    result = []
    for lag in lags:
        position = asof_positions(packed, target_code, target_day - lag)
        found = position >= 0
        sums = (
            cum[np.maximum(position, 0)] if len(cum) else np.zeros((len(position), values.shape[1]))
        )
        result.append(np.where(found[:, None], sums, 0.0))
    return result
