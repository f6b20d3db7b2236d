"""The features' shrinkage strengths, estimated from a training window's own settled history.

A rate feature is (hits + k * prior) / (runs + k), the prior being a random runner's chance in
today's race; a track variant or class par is a sum of residuals over (count + k). A model version
estimates every k from the races it trains on (`priors_estimate`), keeps them with its fitted
model and builds every later feature with them, so no season it is scored on ever chose them.

Rates: beta-binomial method of moments. An entity (a jockey, a horse at a trip, a stall at a
course...) with n runs at chances p_i has H hits; if its true rate spreads around its chance with
variance tau², E[(H - sum p)²] = sum p(1 - p) + n(n - 1) tau², so, pooled over entities,
tau² = (sum (H - E)² / n - sum V / n) / sum (n - 1) with E = sum p and V = sum p(1 - p) per
entity, and k + 1 = rho / tau², rho being a run's mean binomial variance V / n (a beta prior
with mean mu and alpha + beta = k has variance mu(1 - mu) / (k + 1)).
Means shrunk towards zero (variants, class pars): normal-normal, k = sigma² / tau², sigma² the
pooled variance within a group, tau² the spread of the groups' true means around zero.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from predictions.ml.features.common import chance_to_place, rows_where, run_outcomes
from predictions.ml.features.draw import DRAW_KEYS
from predictions.ml.features.horse import CONDITIONS, condition_keys
from predictions.ml.features.races import day_residuals, past_races, variant_groups

# Where the method of moments finds no spread at all (or too little data to see one) the rate is
# the prior: k this large means exactly that at any count a feature sees.
STRENGTH_MAX = 1000.0
STRENGTH_MIN = 1.0


@dataclass(frozen=True)
class FeaturePriors:
    """Shrinkage strengths of the features, in pseudo-runs (win, place) or pseudo-races.

    Equal strengths build equal features whatever window they came from, so the window
    (`first_day`, `last_day`, ISO: the days that chose them) takes no part in comparing them.
    """

    horse: tuple[float, float]
    horse_condition: tuple[float, float]  # the horse at a distance, going, course
    jockey: tuple[float, float]
    trainer: tuple[float, float]
    jockey_trainer: tuple[float, float]
    draw: tuple[float, float]
    variant: float
    class_par: float
    first_day: str | None = field(default=None, compare=False)
    last_day: str | None = field(default=None, compare=False)

    def summary(self) -> dict[str, Any]:
        """JSON-ready: the strengths and the window they were estimated on."""
        values = asdict(self)
        window = {"from": values.pop("first_day"), "to": values.pop("last_day")}
        # As stored: JSON has lists, not tuples.
        strengths = {name: list(v) if isinstance(v, tuple) else v for name, v in values.items()}
        return {**window, "strengths": strengths}


# The strengths every version used before they were estimated per training window: estimated by
# hand on the Hong Kong races of these days and rounded. Versions stored then still build with
# them, and are not scored on those days (`model_version_evaluate`): the days chose them.
FIXED_PRIORS = FeaturePriors(
    horse=(35.0, 15.0),
    horse_condition=(40.0, 15.0),
    jockey=(45.0, 25.0),
    trainer=(130.0, 65.0),
    jockey_trainer=(45.0, 20.0),
    draw=(240.0, 90.0),
    variant=3.0,
    class_par=5.0,
    first_day="1997-06-02",
    last_day="2003-03-23",
)


def priors_estimate(frame: pd.DataFrame) -> FeaturePriors:
    """The strengths the settled starters of `frame` (a training window) show, with its first
    and last day: only those results choose them."""
    history = rows_where(
        frame, (frame["status"].to_numpy() == "result") & ~frame["non_runner"].to_numpy(bool)
    )
    races = past_races(history)
    field = races["field"].to_numpy(float)[races.index.get_indexer(history["race_id"].to_numpy())]
    outcomes = run_outcomes(history)
    win = (outcomes["won"].to_numpy(), 1 / field)
    place = (outcomes["placed"].to_numpy(), chance_to_place(field))

    def rates(*groupings: pd.DataFrame) -> tuple[float, float]:
        return _rate_strength(groupings, *win), _rate_strength(groupings, *place)

    # Each strength from the entities whose rates it shrinks: the horse's win rate under
    # conditions is the one at the trip; its place rates are at the trip, going and course.
    conditions = condition_keys(history)
    condition_win = _rate_strength((conditions[CONDITIONS["dist"]],), *win)
    condition_place = _rate_strength(tuple(conditions[k] for k in CONDITIONS.values()), *place)
    timed = races["class_timed"].to_numpy() == 1
    class_par = _mean_strength(
        races["class_resid"].to_numpy()[timed], [races["race_class"].to_numpy()[timed]]
    )
    dates = history["meeting_date"]
    return FeaturePriors(
        horse=rates(history[["horse_id"]]),
        horse_condition=(condition_win, condition_place),
        jockey=rates(history[["jockey_id"]]),
        trainer=rates(history[["trainer_id"]]),
        jockey_trainer=rates(history[["jockey_id", "trainer_id"]]),
        draw=rates(history[DRAW_KEYS]),
        variant=_mean_strength(day_residuals(races, class_par), variant_groups(races)),
        class_par=class_par,
        first_day=dates.min().date().isoformat() if len(dates) else None,
        last_day=dates.max().date().isoformat() if len(dates) else None,
    )


def _rate_strength(
    groupings: tuple[pd.DataFrame, ...], hits: np.ndarray, chance: np.ndarray
) -> float:
    """k of the beta-binomial prior of the entities' rates (see the module docstring), pooled
    over the entities of every grouping (each the key columns, rows like `hits`)."""
    values = pd.DataFrame({"n": 1.0, "h": hits, "e": chance, "v": chance * (1 - chance)})
    excess = pairs = variance = runs = 0.0
    for keys in groupings:
        entity = values.groupby([keys[column].to_numpy() for column in keys.columns]).sum()
        n, h, e, v = (entity[column].to_numpy() for column in ("n", "h", "e", "v"))
        excess += float(np.sum(((h - e) ** 2 - v) / n))
        pairs += float(np.sum(n - 1))
        variance += float(v.sum())
        runs += float(n.sum())
    if pairs == 0 or excess <= 0:
        return STRENGTH_MAX
    return _bounded(variance / runs / (excess / pairs) - 1)


def _mean_strength(values: np.ndarray, groups: list) -> float:
    """k of normal-normal shrinkage of the groups' means towards zero: the pooled variance
    within a group over the spread of the true means (see the module docstring). NaN values
    and NaN keys are left out."""
    series = pd.Series(values)
    known = series.notna().to_numpy()
    by_group = series[known].groupby([np.asarray(g)[known] for g in groups])
    n = by_group.count().to_numpy(float)
    mean = by_group.mean().to_numpy()
    deviation = series[known] - by_group.transform("mean")
    within_pairs = float(np.sum(n - 1))
    if within_pairs == 0:
        return STRENGTH_MAX
    within = float((deviation**2).sum()) / within_pairs
    between = (float(np.sum(n * mean**2)) - len(n) * within) / float(n.sum())
    if between <= 0:
        return STRENGTH_MAX
    return _bounded(within / between)


def _bounded(strength: float) -> float:
    """Rounded to a tenth, so that windows differing by a few races share features."""
    return round(min(max(strength, STRENGTH_MIN), STRENGTH_MAX), 1)
