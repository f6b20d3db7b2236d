"""Point-in-time features per runner, computed from the runner frame (see `frame.py`).

A runner's features in a race on day D use only the frame's history rows: meeting_date < D,
status "result" and non_runner False. Nothing from day D counts, not even races run earlier that
day, so a race card has the same features before and after its results come in, and declared
races add nothing to anyone's history.

How: history rows are aggregated per (entity, day), cumulated within the entity in day order and
looked up "as of" the day before D by a binary search on sorted (entity, day) keys. Jockeys ride
several races a day, so history is counted by day, never by row. For a race card (`targets`) only
the entities the targets need are aggregated; standard times and track variants are per race, so
they are computed over the whole history, which is cheap.

No feature uses `win_odds`: the features feed a fundamental model, which is combined with the
market afterwards. Counts and shrunken rates are never NaN; form, speed, running-style and
"change since last run" columns are NaN before a horse's first run and wherever an input is
unknown. Boosters take NaN as is. For a linear or conditional-logit model fill NaN with the
training set's column median (`h_runs` == 0 already tells the model why a debutant's form is
missing) and the `_rel` columns with 0 (the field's mean).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

# Shrinkage strengths in pseudo-runs at the prior, rate = (hits + k * prior) / (runs + k), the
# prior being a random runner's chance in today's race (1 / field, 3 / field for a place).
# Beta-binomial method-of-moments estimates on Hong Kong 1997-06..2003-03, rounded: (win, place).
HORSE_PRIOR_RUNS = (35.0, 15.0)
HORSE_CONDITION_PRIOR_RUNS = (40.0, 15.0)  # the horse at a distance, going, course
JOCKEY_PRIOR_RUNS = (45.0, 25.0)
TRAINER_PRIOR_RUNS = (130.0, 65.0)
JOCKEY_TRAINER_PRIOR_RUNS = (45.0, 20.0)
# The draw is an actual-over-expected ratio, shrunk towards 1 by this many runs' worth of chance.
DRAW_PRIOR_RUNS = (240.0, 90.0)

LONG_WINDOW_DAYS = 365
SHORT_WINDOW_DAYS = 60  # a yard or rider in or out of form
DISTANCE_BUCKET_M = 200  # a horse's record at the trip: within ±100 m of a multiple of 200 m
LENGTHS_CAP = 30.0  # a tailed-off horse beaten 60 lengths tells little more than one beaten 30
PLACES = 3
# Standard times need a few past winners at the course and distance before they mean anything.
MIN_STANDARD_WINNERS = 3
# The daily variant is the mean of the day's class-adjusted race residuals, shrunk towards zero by
# this many races; a class par is the mean residual of the class, shrunk likewise.
VARIANT_PRIOR_RACES = 3.0
CLASS_PAR_PRIOR_RACES = 5.0
SECONDS_PER_LENGTH = 0.17  # for a finisher with lengths_behind but no finish_time

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
]
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
    "h_early_pos_mean5",
    "h_late_pos_mean5",
    "h_jockey_change",
    "h_jockey_rate_change",
]
JOCKEY_TRAINER_FEATURES = [
    "j_rides",
    "j_win_rate",
    "j_rides_365",
    "j_win_rate_365",
    "j_place_rate_365",
    "j_win_rate_60",
    "t_runs",
    "t_win_rate",
    "t_runs_365",
    "t_win_rate_365",
    "t_place_rate_365",
    "t_win_rate_60",
    "jt_runs",
    "jt_win_rate",
]
DRAW_FEATURES = ["draw_win_ae", "draw_place_ae"]
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
]
RELATIVE_RANK = ["carried_weight_lb", "rating", "h_fig_best5", "h_fig_mean3", "j_win_rate_365"]
RELATIVE_FEATURES = [f"{name}_rel" for name in RELATIVE_MEAN] + [
    f"{name}_rank" for name in RELATIVE_RANK
]

FEATURE_COLUMNS: list[str] = (
    RACE_FEATURES + HORSE_FEATURES + JOCKEY_TRAINER_FEATURES + DRAW_FEATURES + RELATIVE_FEATURES
)

_DAY_BITS = 22  # (entity code, day) packed into one int64 for the as-of binary search
_DAY_OFFSET = 1 << (_DAY_BITS - 1)


def build_features(frame: pd.DataFrame, *, targets: pd.Series | None = None) -> pd.DataFrame:
    """Features for the rows of `frame`, or only for the rows where boolean `targets` is True.

    Returns a float64 frame indexed like those rows, with columns FEATURE_COLUMNS. The whole frame
    is the history: a target's features use only rows from earlier days (see the module docstring).
    """
    if targets is None:
        work = frame
    else:
        wanted = targets.reindex(frame.index, fill_value=False).to_numpy(dtype=bool)
        # Field-relative features need every runner of a target's race, targets or not.
        work = frame[frame["race_id"].isin(frame["race_id"].to_numpy()[wanted])]
    is_history = (frame["status"].to_numpy() == "result") & ~frame["non_runner"].to_numpy(bool)
    history = frame[is_history]

    day = _days(work["meeting_date"])
    runner = ~work["non_runner"].to_numpy(bool)
    field = _race_transform(work["race_id"].to_numpy(), runner.astype(float), "sum")
    races = _history_races(history)

    feats: dict[str, np.ndarray] = {}
    _race_features(work, day, field, races, feats)
    last_jockey = _horse_features(work, day, field, history, races, feats)
    _jockey_trainer_features(work, day, field, history, last_jockey, feats)
    _draw_features(work, day, history, races, feats)
    out = pd.DataFrame(feats, index=work.index)
    _relative_features(work["race_id"].to_numpy(), runner, out)

    out = out[FEATURE_COLUMNS].astype("float64")
    if targets is not None:
        out = out[targets.reindex(out.index, fill_value=False).to_numpy(dtype=bool)]
    return out


# ---------------------------------------------------------------------------------------------
# Past races: field sizes, winners' times, standard times, class pars and daily track variants


def _history_races(history: pd.DataFrame) -> pd.DataFrame:
    """One row per past race, indexed by race_id.

    Columns: day, field (starters), has_winner, winner_time, standard (mean winning time at the
    course, surface and distance), class_resid (the winner's seconds per km slower than standard,
    0 when unknown), class_timed (1 when known), variant (the day's seconds per km slower than
    standard at the course and surface, after class pars). Each uses races up to its own day only.
    """
    first = ~history["race_id"].duplicated().to_numpy()
    h = history[first]
    races = pd.DataFrame(
        {
            "day": _days(h["meeting_date"]),
            "course": h["racecourse_id"].to_numpy(),
            "surface": h["surface"].to_numpy(),
            "distance_m": h["distance_m"].to_numpy(float),
            "race_class": _class_number(h["race_class"]),
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
    (cum,) = _cumulative_asof(keys, day, values, keys, day + 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        standard = np.where(cum[:, 1] >= MIN_STANDARD_WINNERS, cum[:, 0] / cum[:, 1], np.nan)
    races["standard"] = standard
    resid = (races["winner_time"].to_numpy() - standard) / races["distance_m"].to_numpy() * 1000

    # Better classes run faster: without a class par a day of good races looks like a fast track.
    timed = ~np.isnan(resid)
    races["class_resid"] = np.where(timed, resid, 0.0)
    races["class_timed"] = timed.astype(float)
    class_keys = races[["race_class"]]
    (cum,) = _cumulative_asof(
        class_keys, day, races[["class_resid", "class_timed"]], class_keys, day + 1
    )
    par = cum[:, 0] / (cum[:, 1] + CLASS_PAR_PRIOR_RACES)

    by_day = pd.DataFrame(
        {"day": day, "course": races["course"], "surface": races["surface"], "r": resid - par}
    ).groupby(["day", "course", "surface"], sort=False)["r"]
    count = by_day.transform("count").to_numpy()
    variant = by_day.transform("sum").to_numpy() / (count + VARIANT_PRIOR_RACES)
    races["variant"] = np.where(count > 0, variant, np.nan)
    return races


# ---------------------------------------------------------------------------------------------
# The race and the runner as declared


def _race_features(
    work: pd.DataFrame,
    day: np.ndarray,
    field: np.ndarray,
    races: pd.DataFrame,
    feats: dict[str, np.ndarray],
) -> None:
    race_class = _class_number(work["race_class"])
    feats["field_size"] = field
    feats["race_class"] = race_class
    # The class par as a figure: how much faster than standard this class's winners run.
    class_keys = races[["race_class"]]
    (cum,) = _cumulative_asof(
        class_keys,
        races["day"].to_numpy(),
        races[["class_resid", "class_timed"]],
        pd.DataFrame({"race_class": race_class}),
        day,
    )
    feats["race_par"] = -cum[:, 0] / (cum[:, 1] + CLASS_PAR_PRIOR_RACES)
    feats["distance_m"] = work["distance_m"].to_numpy(float)
    draw = work["draw"].to_numpy(float)
    feats["draw"] = draw
    with np.errstate(divide="ignore", invalid="ignore"):
        feats["draw_pct"] = np.where(field > 0, draw / field, np.nan)
    for name in ("carried_weight_lb", "declared_weight_lb", "rating", "age"):
        feats[name] = work[name].to_numpy(float)


def _relative_features(race: np.ndarray, runner: np.ndarray, out: pd.DataFrame) -> None:
    for name in RELATIVE_MEAN:
        # Non-runners stay out of the field's mean and ranks but get their own difference.
        values = out[name].to_numpy(float)
        mean = _race_transform(race, np.where(runner, values, np.nan), "mean")
        out[f"{name}_rel"] = values - mean
    for name in RELATIVE_RANK:
        values = pd.Series(np.where(runner, out[name].to_numpy(float), np.nan), index=out.index)
        out[f"{name}_rank"] = values.groupby(race).rank(ascending=False, method="average")


# ---------------------------------------------------------------------------------------------
# The horse


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
            "early_rel": np.minimum(history["early_position"].to_numpy(float) / field, 1.0),
            "late_rel": np.minimum(history["late_position"].to_numpy(float) / field, 1.0),
            "rating": history["rating"].to_numpy(float),
            "declared_weight_lb": history["declared_weight_lb"].to_numpy(float),
            "carried_weight_lb": history["carried_weight_lb"].to_numpy(float),
            "race_class": _class_number(history["race_class"]),
            "distance_m": distance,
            "jockey": history["jockey_id"].to_numpy(float),
        }
    )
    order = np.lexsort((runs["day"].to_numpy(), runs["horse"].to_numpy()))
    return runs.iloc[order].reset_index(drop=True)


def _horse_features(
    work: pd.DataFrame,
    day: np.ndarray,
    field: np.ndarray,
    history: pd.DataFrame,
    races: pd.DataFrame,
    feats: dict[str, np.ndarray],
) -> np.ndarray:
    """Add the horse's features; return the jockey of its last run (NaN for a debutant)."""
    horse = work["horse_id"].to_numpy()
    history = history[history["horse_id"].isin(np.unique(horse))]
    runs = _horse_runs(history, races)
    group = runs["horse"].to_numpy()

    # The horse's state after each run; a target reads the state after its last run before D.
    counts = runs[["won", "placed"]].assign(n=1.0).groupby(group, sort=False).cumsum()
    won = runs["won"].to_numpy() == 1
    pos_rel = runs["pos_rel"].to_numpy()
    figure = runs["figure"].to_numpy()
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
        "early_mean5": _tail(runs["early_rel"].to_numpy(), group, 5, "mean"),
        "late_mean5": _tail(runs["late_rel"].to_numpy(), group, 5, "mean"),
        "last_win_day": _last_where(won, runs["day"].to_numpy(float), group),
        "last_win_runs": _last_where(won, counts["n"].to_numpy(), group),
    }
    last = _asof_positions(_pack(group, runs["day"].to_numpy()), horse, day)

    def at_last(values: np.ndarray, missing: float = np.nan) -> np.ndarray:
        if len(values) == 0:  # no horse of the targets has run before
            return np.full(len(last), missing)
        return np.where(last >= 0, values[np.maximum(last, 0)], missing)

    n_runs = at_last(state["runs"], 0.0)
    feats["h_runs"] = n_runs
    feats["h_wins"] = at_last(state["wins"], 0.0)
    feats["h_places"] = at_last(state["places"], 0.0)
    win_chance, place_chance = 1 / field, _place_chance(field)
    k_win, k_place = HORSE_PRIOR_RUNS
    feats["h_win_rate"] = _shrunk(feats["h_wins"], n_runs, win_chance, k_win)
    feats["h_place_rate"] = _shrunk(feats["h_places"], n_runs, place_chance, k_place)
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
    feats["h_class_change"] = _class_number(work["race_class"]) - at_last(
        runs["race_class"].to_numpy()
    )
    feats["h_fig_last"] = at_last(figure)
    for name in ("fig_best5", "fig_mean3", "fig_mean5", "fig_ewm10"):
        feats[f"h_{name}"] = at_last(state[name])
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
    hist_day = _days(history["meeting_date"])
    values = _outcomes(history)
    recent, year_ago = _cumulative_asof(
        history[["horse_id"]], hist_day, values, work[["horse_id"]], day, lags=(0, LONG_WINDOW_DAYS)
    )
    feats["h_runs_365"] = recent[:, 0] - year_ago[:, 0]
    k_win, k_place = HORSE_CONDITION_PRIOR_RUNS
    for prefix, keys in (
        ("dist", ["horse_id", "_bucket"]),
        ("going", ["horse_id", "going"]),
        ("course", ["horse_id", "racecourse_id", "surface"]),
    ):
        (cum,) = _cumulative_asof(
            _with_bucket(history)[keys], hist_day, values, _with_bucket(work)[keys], day
        )
        feats[f"h_{prefix}_runs"] = cum[:, 0]
        feats[f"h_{prefix}_place_rate"] = _shrunk(cum[:, 2], cum[:, 0], place_chance, k_place)
        if prefix == "dist":
            feats["h_dist_win_rate"] = _shrunk(cum[:, 1], cum[:, 0], win_chance, k_win)
    return last_jockey


# ---------------------------------------------------------------------------------------------
# Jockey, trainer, their combination; the draw


def _jockey_trainer_features(
    work: pd.DataFrame,
    day: np.ndarray,
    field: np.ndarray,
    history: pd.DataFrame,
    last_jockey: np.ndarray,
    feats: dict[str, np.ndarray],
) -> None:
    win_chance, place_chance = 1 / field, _place_chance(field)
    windows = (0, LONG_WINDOW_DAYS, SHORT_WINDOW_DAYS)

    # Today's jockeys and, for the rate change, the ones who rode each horse last time.
    jockeys = pd.DataFrame(
        {"jockey_id": np.concatenate([work["jockey_id"].to_numpy(float), last_jockey])}
    )
    career, year_ago, recent_ago = _entity_counts(
        history, jockeys, np.concatenate([day, day]), windows
    )
    k_win, k_place = JOCKEY_PRIOR_RUNS
    year = career - year_ago
    recent = career - recent_ago
    chance = np.concatenate([win_chance, win_chance])
    year_rate = _shrunk(year[:, 1], year[:, 0], chance, k_win)
    n = len(work)
    feats["j_rides"] = career[:n, 0]
    feats["j_win_rate"] = _shrunk(career[:n, 1], career[:n, 0], win_chance, k_win)
    feats["j_rides_365"] = year[:n, 0]
    feats["j_win_rate_365"] = year_rate[:n]
    feats["j_place_rate_365"] = _shrunk(year[:n, 2], year[:n, 0], place_chance, k_place)
    feats["j_win_rate_60"] = _shrunk(recent[:n, 1], recent[:n, 0], win_chance, k_win)
    # A better (or worse) jockey booked than last time.
    feats["h_jockey_rate_change"] = np.where(
        np.isnan(last_jockey), np.nan, year_rate[:n] - year_rate[n:]
    )

    career, year_ago, recent_ago = _entity_counts(history, work[["trainer_id"]], day, windows)
    k_win, k_place = TRAINER_PRIOR_RUNS
    year = career - year_ago
    recent = career - recent_ago
    feats["t_runs"] = career[:, 0]
    feats["t_win_rate"] = _shrunk(career[:, 1], career[:, 0], win_chance, k_win)
    feats["t_runs_365"] = year[:, 0]
    feats["t_win_rate_365"] = _shrunk(year[:, 1], year[:, 0], win_chance, k_win)
    feats["t_place_rate_365"] = _shrunk(year[:, 2], year[:, 0], place_chance, k_place)
    feats["t_win_rate_60"] = _shrunk(recent[:, 1], recent[:, 0], win_chance, k_win)

    (career,) = _entity_counts(history, work[["jockey_id", "trainer_id"]], day, (0,))
    k_win, _ = JOCKEY_TRAINER_PRIOR_RUNS
    feats["jt_runs"] = career[:, 0]
    feats["jt_win_rate"] = _shrunk(career[:, 1], career[:, 0], win_chance, k_win)


def _draw_features(
    work: pd.DataFrame,
    day: np.ndarray,
    history: pd.DataFrame,
    races: pd.DataFrame,
    feats: dict[str, np.ndarray],
) -> None:
    """Draw bias: wins and places from this stall at this course and trip over their chance."""
    keys = ["racecourse_id", "surface", "distance_m", "draw"]
    mine = history[
        history["racecourse_id"].isin(work["racecourse_id"].unique())
        & history["distance_m"].isin(work["distance_m"].unique())
    ]
    field = races["field"].to_numpy(float)[races.index.get_indexer(mine["race_id"].to_numpy())]
    outcomes = _outcomes(mine)
    values = pd.DataFrame(
        {
            "won": outcomes["won"].to_numpy(),
            "placed": outcomes["placed"].to_numpy(),
            "win_chance": 1 / field,
            "place_chance": _place_chance(field),
        }
    )
    (cum,) = _cumulative_asof(mine[keys], _days(mine["meeting_date"]), values, work[keys], day)
    # The prior's weight in chance: k runs at an average Hong Kong field's 1/12 and 3/12.
    k_win, k_place = DRAW_PRIOR_RUNS
    feats["draw_win_ae"] = (cum[:, 0] + k_win / 12) / (cum[:, 2] + k_win / 12)
    feats["draw_place_ae"] = (cum[:, 1] + k_place * PLACES / 12) / (
        cum[:, 3] + k_place * PLACES / 12
    )


# ---------------------------------------------------------------------------------------------
# Helpers


def _days(dates: pd.Series) -> np.ndarray:
    """Whole days since 1970-01-01 as int64."""
    return dates.to_numpy().astype("datetime64[D]").astype(np.int64)


def _class_number(race_class: pd.Series) -> np.ndarray:
    return pd.to_numeric(race_class, errors="coerce").to_numpy(float)


def _place_chance(field: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.minimum(PLACES, field) / field


def _shrunk(hits: np.ndarray, n: np.ndarray, prior: np.ndarray, prior_n: float) -> np.ndarray:
    """Empirical-Bayes rate: hits over n, shrunk towards `prior` with `prior_n` pseudo-runs."""
    return (hits + prior_n * prior) / (n + prior_n)


def _race_transform(race: np.ndarray, values: np.ndarray, how: str) -> np.ndarray:
    return pd.Series(values).groupby(race).transform(how).to_numpy(float)


def _outcomes(rows: pd.DataFrame) -> pd.DataFrame:
    """Runs, wins and places per history row (a non-finisher has neither)."""
    pos = rows["finish_position"].to_numpy()
    return pd.DataFrame(
        {"n": np.ones(len(rows)), "won": (pos == 1) * 1.0, "placed": (pos <= PLACES) * 1.0}
    )


def _with_bucket(rows: pd.DataFrame) -> pd.DataFrame:
    # Buckets centred on multiples of 200 m: [1100, 1300) is the 1200 m bucket.
    half = DISTANCE_BUCKET_M / 2
    bucket = np.floor((rows["distance_m"].to_numpy(float) + half) / DISTANCE_BUCKET_M)
    return rows.assign(_bucket=bucket)


def _entity_counts(
    history: pd.DataFrame, targets: pd.DataFrame, day: np.ndarray, lags: tuple[int, ...]
) -> list[np.ndarray]:
    """(runs, wins, places) of each target's entity (the key columns of `targets`) before
    day - lag, for each lag; history is cut to the entities asked for first."""
    mine = history
    for key in targets.columns:
        mine = mine[mine[key].isin(targets[key].dropna().unique())]
    return _cumulative_asof(
        mine[list(targets.columns)],
        _days(mine["meeting_date"]),
        _outcomes(mine),
        targets,
        day,
        lags=lags,
    )


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


def _pack(code: np.ndarray, day: np.ndarray) -> np.ndarray:
    return (np.asarray(code, dtype=np.int64) << _DAY_BITS) | (
        np.asarray(day, dtype=np.int64) + _DAY_OFFSET
    )


def _asof_positions(packed: np.ndarray, code: np.ndarray, day: np.ndarray) -> np.ndarray:
    """Position in the sorted `packed` keys of each (code, day)'s last key on an earlier day.

    -1 when the code has no earlier key (or is -1 itself).
    """
    code = np.asarray(code)
    if len(packed) == 0:
        return np.full(len(code), -1)
    position = np.searchsorted(packed, _pack(np.maximum(code, 0), day), side="left") - 1
    clipped = np.maximum(position, 0)
    found = (code >= 0) & (position >= 0) & ((packed[clipped] >> _DAY_BITS) == code)
    return np.where(found, position, -1)


def _cumulative_asof(
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
    packed = _pack(daily.index.get_level_values(0), daily.index.get_level_values(1))
    target_day = np.asarray(target_day, dtype=np.int64)
    result = []
    for lag in lags:
        position = _asof_positions(packed, target_code, target_day - lag)
        found = position >= 0
        sums = (
            cum[np.maximum(position, 0)] if len(cum) else np.zeros((len(position), values.shape[1]))
        )
        result.append(np.where(found[:, None], sums, 0.0))
    return result
