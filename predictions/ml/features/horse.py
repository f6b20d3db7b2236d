"""The horse: its record, form, speed figures, running style and changes since its last run."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from predictions.ml.features.asof import asof_positions, cumulative_asof, days, pack
from predictions.ml.features.common import (
    LONG_WINDOW_DAYS,
    PLACES,
    FeatureColumns,
    chance_to_place,
    class_number,
    rows_where,
    run_outcomes,
    shrunk,
)

if TYPE_CHECKING:
    from predictions.ml.features.priors import FeaturePriors

# Rates are shrunk by `FeaturePriors.horse` and `.horse_condition` pseudo-runs at the prior, a
# random runner's chance in today's race (1 / field, 3 / field for a place).
DISTANCE_BUCKET_M = 200  # a horse's record at the trip: within ±100 m of a multiple of 200 m
LENGTHS_CAP = 30.0  # a tailed-off horse beaten 60 lengths tells little more than one beaten 30
SECONDS_PER_LENGTH = 0.17  # for a finisher with lengths_behind but no finish_time
# The handicapper's scale: a pound is worth about 1/15 of a length per furlong run (3 lb a length
# at 5 furlongs, 2 at a mile, 1.5 at 12 furlongs), so 0.17 s x 1000 / 201 / 15 per km at any trip.
SECONDS_PER_KM_PER_LB = 0.056

HORSE_FEATURES = [
    "h_runs",
    "h_wins",
    "h_places",
    "h_win_rate",
    "h_place_rate",
    "h_runs_365",
    "h_pos_last",
    "h_pos_mean3",
    "h_pos_mean5",
    "h_pos_best5",
    "h_pos_ewm10",
    "h_lengths_last",
    "h_lengths_mean3",
    "h_days_since",
    "h_days_since_win",
    "h_runs_since_win",
    "h_rating_change",
    "h_declared_weight_change",
    "h_carried_weight_change",
    "h_class_change",
    "h_distance_change",
    "h_dist_runs",
    "h_dist_win_rate",
    "h_dist_place_rate",
    "h_going_runs",
    "h_going_place_rate",
    "h_course_runs",
    "h_course_place_rate",
    "h_fig_last",
    "h_fig_best5",
    "h_fig_mean3",
    "h_fig_mean5",
    "h_fig_ewm10",
    "h_fig_best5_vs_par",
    "h_fig_mean3_vs_par",
    "h_fig_at_weight_best5",
    "h_fig_at_weight_mean3",
    "h_fig_at_weight_ewm10",
    "h_early_pos_mean5",
    "h_late_pos_mean5",
    "h_jockey_change",
    "h_jockey_rate_change",
]


# The horse's records under today's conditions, each keyed on these columns of `condition_keys`.
CONDITIONS = {
    "dist": ["horse_id", "_bucket"],
    "going": ["horse_id", "going"],
    "course": ["horse_id", "racecourse_id", "surface"],
}


def _horse_runs(history: pd.DataFrame, races: pd.DataFrame) -> pd.DataFrame:
    """The horses' past runs with what each says about the horse, sorted by (horse, day)."""
    at = races.index.get_indexer(history["race_id"].to_numpy())
    field = races["field"].to_numpy(float)[at]
    pos = history["finish_position"].to_numpy(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        pos_rel = np.clip(np.where(field > 1, (pos - 1) / (field - 1), 0.0), 0.0, 1.0)
    # A non-finisher in a race that has a result ran and was beaten: count it as last.
    beaten = races["has_winner"].to_numpy()[at]
    pos_rel = np.where(np.isnan(pos), np.where(beaten, 1.0, np.nan), pos_rel)
    lengths = np.where(pos == 1, 0.0, history["lengths_behind"].to_numpy(float))
    lengths = np.minimum(lengths, LENGTHS_CAP)

    # Speed figure: seconds per km faster than the standard, corrected by the day's variant.
    winner_time = races["winner_time"].to_numpy()[at]
    time = history["finish_time"].to_numpy(float)
    time = np.where(np.isnan(time), winner_time + lengths * SECONDS_PER_LENGTH, time)
    time = np.minimum(time, winner_time + LENGTHS_CAP * SECONDS_PER_LENGTH)
    distance = history["distance_m"].to_numpy(float)
    slower = (time - races["standard"].to_numpy()[at]) / distance * 1000
    figure = races["variant"].to_numpy()[at] - slower

    runs = pd.DataFrame(
        {
            "horse": history["horse_id"].to_numpy(),
            "day": races["day"].to_numpy()[at],
            "won": (pos == 1).astype(float),
            "placed": (pos <= PLACES).astype(float),
            "pos_rel": pos_rel,
            "lengths": lengths,
            "figure": figure,
            # The figure with the weight it carried added back (today's is taken off later).
            "figure_lb": figure
            + SECONDS_PER_KM_PER_LB * history["carried_weight_lb"].to_numpy(float),
            "early_rel": np.minimum(history["early_position"].to_numpy(float) / field, 1.0),
            "late_rel": np.minimum(history["late_position"].to_numpy(float) / field, 1.0),
            "rating": history["rating"].to_numpy(float),
            "declared_weight_lb": history["declared_weight_lb"].to_numpy(float),
            "carried_weight_lb": history["carried_weight_lb"].to_numpy(float),
            "race_class": class_number(history["race_class"]),
            "distance_m": distance,
            "jockey": history["jockey_id"].to_numpy(float),
        }
    )
    order = np.lexsort((runs["day"].to_numpy(), runs["horse"].to_numpy()))
    return runs.iloc[order].reset_index(drop=True)


def horse_features(
    work: pd.DataFrame,
    day: np.ndarray,
    field: np.ndarray,
    history: pd.DataFrame,
    races: pd.DataFrame,
    feats: FeatureColumns,
    priors: FeaturePriors,
) -> np.ndarray:
    """Add the horse's features; return the jockey of its last run (NaN for a debutant)."""
    horse = work["horse_id"].to_numpy()
    history = rows_where(history, history["horse_id"].isin(np.unique(horse)).to_numpy())
    runs = _horse_runs(history, races)
    group = runs["horse"].to_numpy()

    # The horse's state after each run; a target reads the state after its last run before D.
    counts = runs[["won", "placed"]].assign(n=1.0).groupby(group, sort=False).cumsum()
    won = runs["won"].to_numpy() == 1
    pos_rel = runs["pos_rel"].to_numpy()
    figure = runs["figure"].to_numpy()
    figure_lb = runs["figure_lb"].to_numpy()
    state = {
        "runs": counts["n"].to_numpy(),
        "wins": counts["won"].to_numpy(),
        "places": counts["placed"].to_numpy(),
        "pos_mean3": _tail(pos_rel, group, 3, "mean"),
        "pos_mean5": _tail(pos_rel, group, 5, "mean"),
        "pos_best5": -_tail(-pos_rel, group, 5, "max"),
        "pos_ewm10": _tail(pos_rel, group, 10, "mean", decay=0.8),
        "lengths_mean3": _tail(runs["lengths"].to_numpy(), group, 3, "mean"),
        "fig_best5": _tail(figure, group, 5, "max"),
        "fig_mean3": _tail(figure, group, 3, "mean"),
        "fig_mean5": _tail(figure, group, 5, "mean"),
        "fig_ewm10": _tail(figure, group, 10, "mean", decay=0.8),
        "fig_lb_best5": _tail(figure_lb, group, 5, "max"),
        "fig_lb_mean3": _tail(figure_lb, group, 3, "mean"),
        "fig_lb_ewm10": _tail(figure_lb, group, 10, "mean", decay=0.8),
        "early_mean5": _tail(runs["early_rel"].to_numpy(), group, 5, "mean"),
        "late_mean5": _tail(runs["late_rel"].to_numpy(), group, 5, "mean"),
        "last_win_day": _last_where(won, runs["day"].to_numpy(float), group),
        "last_win_runs": _last_where(won, counts["n"].to_numpy(), group),
    }
    last = asof_positions(pack(group, runs["day"].to_numpy()), horse, day)

    def at_last(values: np.ndarray, missing: float = np.nan) -> np.ndarray:
        if len(values) == 0:  # no horse of the targets has run before
            return np.full(len(last), missing)
        return np.where(last >= 0, values[np.maximum(last, 0)], missing)

    n_runs = at_last(state["runs"], 0.0)
    feats["h_runs"] = n_runs
    feats["h_wins"] = at_last(state["wins"], 0.0)
    feats["h_places"] = at_last(state["places"], 0.0)
    win_chance, place_chance = 1 / field, chance_to_place(field)
    k_win, k_place = priors.horse
    feats["h_win_rate"] = shrunk(feats["h_wins"], n_runs, win_chance, k_win)
    feats["h_place_rate"] = shrunk(feats["h_places"], n_runs, place_chance, k_place)
    feats["h_pos_last"] = at_last(pos_rel)
    for name in ("pos_mean3", "pos_mean5", "pos_best5", "pos_ewm10", "lengths_mean3"):
        feats[f"h_{name}"] = at_last(state[name])
    feats["h_lengths_last"] = at_last(runs["lengths"].to_numpy())
    feats["h_days_since"] = day - at_last(runs["day"].to_numpy(float))
    feats["h_days_since_win"] = day - at_last(state["last_win_day"])
    feats["h_runs_since_win"] = n_runs - at_last(state["last_win_runs"])
    for name in ("rating", "declared_weight_lb", "carried_weight_lb", "distance_m"):
        change = f"h_{name.removesuffix('_lb').removesuffix('_m')}_change"
        feats[change] = work[name].to_numpy(float) - at_last(runs[name].to_numpy())
    feats["h_class_change"] = class_number(work["race_class"]) - at_last(
        runs["race_class"].to_numpy()
    )
    feats["h_fig_last"] = at_last(figure)
    for name in ("fig_best5", "fig_mean3", "fig_mean5", "fig_ewm10"):
        feats[f"h_{name}"] = at_last(state[name])
    # The same figures as run at today's weight: a figure run under 133 lb is worth a second per
    # km more than one under 113 lb, which the raw figures and today's weight alone don't say.
    today_lb = SECONDS_PER_KM_PER_LB * work["carried_weight_lb"].to_numpy(float)
    for name in ("best5", "mean3", "ewm10"):
        feats[f"h_fig_at_weight_{name}"] = at_last(state[f"fig_lb_{name}"]) - today_lb
    feats["h_fig_best5_vs_par"] = feats["h_fig_best5"] - feats["race_par"]
    feats["h_fig_mean3_vs_par"] = feats["h_fig_mean3"] - feats["race_par"]
    feats["h_early_pos_mean5"] = at_last(state["early_mean5"])
    feats["h_late_pos_mean5"] = at_last(state["late_mean5"])
    last_jockey = at_last(runs["jockey"].to_numpy())
    feats["h_jockey_change"] = np.where(
        np.isnan(last_jockey), np.nan, (last_jockey != work["jockey_id"].to_numpy()).astype(float)
    )

    # Runs in the last year, and the record under today's conditions: distance (±100 m), going,
    # course.
    hist_day = days(history["meeting_date"])
    values = run_outcomes(history)
    recent, year_ago = cumulative_asof(
        history[["horse_id"]], hist_day, values, work[["horse_id"]], day, lags=(0, LONG_WINDOW_DAYS)
    )
    feats["h_runs_365"] = recent[:, 0] - year_ago[:, 0]
    k_win, k_place = priors.horse_condition
    hist_keys, work_keys = condition_keys(history), condition_keys(work)
    for prefix, keys in CONDITIONS.items():
        (cum,) = cumulative_asof(hist_keys[keys], hist_day, values, work_keys[keys], day)
        feats[f"h_{prefix}_runs"] = cum[:, 0]
        feats[f"h_{prefix}_place_rate"] = shrunk(cum[:, 2], cum[:, 0], place_chance, k_place)
        if prefix == "dist":
            feats["h_dist_win_rate"] = shrunk(cum[:, 1], cum[:, 0], win_chance, k_win)
    return last_jockey


def condition_keys(rows: pd.DataFrame) -> pd.DataFrame:
    """The columns the horse's records under conditions are keyed on, and the distance bucket."""
    # Buckets centred on multiples of 200 m: [1100, 1300) is the 1200 m bucket.
    half = DISTANCE_BUCKET_M / 2
    bucket = np.floor((rows["distance_m"].to_numpy(float) + half) / DISTANCE_BUCKET_M)
    return rows[["horse_id", "going", "racecourse_id", "surface"]].assign(_bucket=bucket)


def _last_where(condition: np.ndarray, values: np.ndarray, group: np.ndarray) -> np.ndarray:
    """Per row, `values` at the group's latest row up to it where `condition` holds, else NaN."""
    return (
        pd.Series(np.where(condition, values, np.nan)).groupby(group, sort=False).ffill().to_numpy()
    )


def _tail(
    values: np.ndarray, group: np.ndarray, n: int, how: str, decay: float = 1.0
) -> np.ndarray:
    """Mean or max of the last n values up to each row within its group (rows sorted by group).

    NaN values are skipped; the result is NaN when all n are NaN. With decay < 1 the mean weighs
    the k-th last value by decay**k. The sums run in a fixed order per row, so cutting the frame
    to some of the groups gives bit-identical results.
    """
    total = np.zeros(len(values))
    weight = np.zeros(len(values))
    best = np.full(len(values), np.nan)
    for k in range(n):
        if k == 0:
            shifted = values.astype(float)
        else:
            shifted = np.full(len(values), np.nan)
            shifted[k:] = np.where(group[k:] == group[:-k], values[:-k], np.nan)
        valid = ~np.isnan(shifted)
        total += np.where(valid, shifted, 0.0) * decay**k
        weight += valid * decay**k
        best = np.fmax(best, shifted)
    if how == "max":
        return best
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(weight > 0, total / weight, np.nan)
