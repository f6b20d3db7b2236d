"""The race as declared; past races' standard times, class pars and track variants; field-relative
versions of the other features."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from predictions.ml.features.asof import cumulative_asof, days
from predictions.ml.features.common import FeatureColumns, class_number, race_transform

if TYPE_CHECKING:
    from predictions.ml.features.priors import FeaturePriors

# Standard times need a few past winners at the course and distance before they mean anything.
MIN_STANDARD_WINNERS = 3
# The daily variant is the mean of the day's class-adjusted race residuals, shrunk towards zero by
# `FeaturePriors.variant` races; a class par is the mean residual of the class, shrunk likewise
# by `FeaturePriors.class_par`.

# The Hong Kong set's default mark: about 99 % of runs in 1997-99 show it, 35 % in 2003 and 8 %
# in 2004, where most are real marks.
PLACEHOLDER_RATING = 60.0

RACE_FEATURES = [
    "field_size",
    "race_class",
    "race_par",
    "distance_m",
    "draw",
    "draw_pct",
    "carried_weight_lb",
    "declared_weight_lb",
    "rating",
    "age",
    "rating_placeholder_share",
]
# Field-relative versions: `_rel` is the value minus the mean of the race's runners, `_rank` the
# rank within the race (1 = highest value, ties averaged).
RELATIVE_MEAN = [
    "carried_weight_lb",
    "rating",
    "declared_weight_lb",
    "age",
    "h_win_rate",
    "h_pos_mean3",
    "h_pos_ewm10",
    "h_fig_last",
    "h_fig_best5",
    "h_fig_mean3",
    "h_fig_ewm10",
    "h_lengths_mean3",
    "h_early_pos_mean5",
    "j_win_rate_365",
    "j_place_rate_365",
    "t_win_rate_365",
    "h_fig_at_weight_best5",
    "h_fig_at_weight_mean3",
    "h_fig_at_weight_ewm10",
]
RELATIVE_RANK = ["carried_weight_lb", "rating", "h_fig_best5", "h_fig_mean3", "j_win_rate_365"]
RELATIVE_FEATURES = [f"{name}_rel" for name in RELATIVE_MEAN] + [
    f"{name}_rank" for name in RELATIVE_RANK
]


def history_races(history: pd.DataFrame, priors: FeaturePriors) -> pd.DataFrame:
    """One row per past race, indexed by race_id: `past_races` with the track `variant` (the
    day's seconds per km slower than standard at the course and surface, after class pars)."""
    return with_variants(past_races(history), priors)


def past_races(history: pd.DataFrame) -> pd.DataFrame:
    """One row per past race, indexed by race_id; what no shrinkage strength changes.

    Columns: day, field (starters), has_winner, winner_time, standard (mean winning time at the
    course, surface and distance), class_resid (the winner's seconds per km slower than standard,
    0 when unknown), class_timed (1 when known). Each uses races up to its own day only.
    """
    first = ~history["race_id"].duplicated().to_numpy()
    h = history[first]
    races = pd.DataFrame(
        {
            "day": days(h["meeting_date"]),
            "course": h["racecourse_id"].to_numpy(),
            "surface": h["surface"].to_numpy(),
            "distance_m": h["distance_m"].to_numpy(float),
            "race_class": class_number(h["race_class"]),
        },
        index=pd.Index(h["race_id"].to_numpy(), name="race_id"),
    )
    races["field"] = history.groupby("race_id", sort=False).size().reindex(races.index).to_numpy()
    won = history["finish_position"].to_numpy() == 1
    winner_time = history[won].groupby("race_id", sort=False)["finish_time"].min()
    races["winner_time"] = winner_time.reindex(races.index).to_numpy(float)
    races["has_winner"] = races.index.isin(history["race_id"].to_numpy()[won])
    day = races["day"].to_numpy()

    # The standard uses winners up to and including the race's own day: all before any day that
    # looks it up, and it lets the first day at a new trip have figures too.
    timed = ~np.isnan(races["winner_time"].to_numpy())
    keys = races[["course", "surface", "distance_m"]]
    values = pd.DataFrame(
        {"time": np.where(timed, races["winner_time"].to_numpy(), 0.0), "n": timed.astype(float)}
    )
    (cum,) = cumulative_asof(keys, day, values, keys, day + 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        standard = np.where(cum[:, 1] >= MIN_STANDARD_WINNERS, cum[:, 0] / cum[:, 1], np.nan)
    races["standard"] = standard
    resid = (races["winner_time"].to_numpy() - standard) / races["distance_m"].to_numpy() * 1000

    # Better classes run faster: without a class par a day of good races looks like a fast track.
    timed = ~np.isnan(resid)
    races["class_resid"] = np.where(timed, resid, 0.0)
    races["class_timed"] = timed.astype(float)
    return races


def day_residuals(races: pd.DataFrame, class_par: float) -> np.ndarray:
    """Per `past_races` race, its winner's residual less its class par (each class's residuals
    up to the race's day summed over their count + `class_par`); NaN when untimed."""
    class_keys = races[["race_class"]]
    day = races["day"].to_numpy()
    (cum,) = cumulative_asof(
        class_keys, day, races[["class_resid", "class_timed"]], class_keys, day + 1
    )
    par = cum[:, 0] / (cum[:, 1] + class_par)
    timed = races["class_timed"].to_numpy() == 1
    return np.where(timed, races["class_resid"].to_numpy() - par, np.nan)


def variant_groups(races: pd.DataFrame) -> list[pd.Series]:
    """The keys of a track variant: the day, course and surface."""
    return [races["day"], races["course"], races["surface"]]


def with_variants(races: pd.DataFrame, priors: FeaturePriors) -> pd.DataFrame:
    """`past_races` and their day's track variant, shrunk by `priors`."""
    by_day = pd.Series(day_residuals(races, priors.class_par), index=races.index, name="r").groupby(
        variant_groups(races), sort=False
    )
    count = by_day.transform("count").to_numpy()
    variant = by_day.transform("sum").to_numpy() / (count + priors.variant)
    return races.assign(variant=np.where(count > 0, variant, np.nan))


def race_features(
    work: pd.DataFrame,
    day: np.ndarray,
    field: np.ndarray,
    races: pd.DataFrame,
    feats: FeatureColumns,
    priors: FeaturePriors,
    *,
    par_sums: Callable[[np.ndarray, np.ndarray], np.ndarray] | None = None,
) -> None:
    """`par_sums(race_class, day)` gives the class residuals of `races` summed before `day` when
    the caller keeps them (`predictions.ml.history`); else they are summed here."""
    race_class = class_number(work["race_class"])
    feats["field_size"] = field
    feats["race_class"] = race_class
    # The class par as a figure: how much faster than standard this class's winners run.
    if par_sums is None:
        (cum,) = cumulative_asof(
            races[["race_class"]],
            races["day"].to_numpy(),
            races[["class_resid", "class_timed"]],
            pd.DataFrame({"race_class": race_class}),
            day,
        )
    else:
        cum = par_sums(race_class, day)
    feats["race_par"] = -cum[:, 0] / (cum[:, 1] + priors.class_par)
    feats["distance_m"] = work["distance_m"].to_numpy(float)
    draw = work["draw"].to_numpy(float)
    feats["draw"] = draw
    with np.errstate(divide="ignore", invalid="ignore"):
        feats["draw_pct"] = np.where(field > 0, draw / field, np.nan)
    for name in ("carried_weight_lb", "declared_weight_lb", "rating", "age"):
        feats[name] = work[name].to_numpy(float)
    # How far the ratings can be believed: in the Hong Kong set most of a field at the default
    # mark means the marks are not real yet. Storing those ratings as unknown (NaN) where half
    # a field shows it made the residual model worse on the last training season (its
    # early-stopping log loss 2.00069 against 1.99844); telling the model the share made it
    # better (1.99627), so the rating stays and the share says how much to trust it.
    starter_placeholder = (feats["rating"] == PLACEHOLDER_RATING) & ~work["non_runner"].to_numpy(
        bool
    )
    placeholders = race_transform(work["race_id"].to_numpy(), starter_placeholder, "sum")
    with np.errstate(divide="ignore", invalid="ignore"):
        feats["rating_placeholder_share"] = np.where(field > 0, placeholders / field, np.nan)


def relative_features(race: np.ndarray, runner: np.ndarray, feats: FeatureColumns) -> None:
    for name in RELATIVE_MEAN:
        # Non-runners stay out of the field's mean and ranks but get their own difference.
        values = feats[name]
        mean = race_transform(race, np.where(runner, values, np.nan), "mean")
        feats[f"{name}_rel"] = values - mean
    for name in RELATIVE_RANK:
        values = pd.Series(np.where(runner, feats[name], np.nan))
        feats[f"{name}_rank"] = (
            values.groupby(race).rank(ascending=False, method="average").to_numpy()
        )
