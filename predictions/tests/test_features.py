import numpy as np
import pandas as pd
import pytest

from predictions.ml.features import FEATURE_COLUMNS, build_features
from predictions.ml.features.priors import FIXED_PRIORS
from predictions.ml.frame import FRAME_COLUMNS

RESULT_FIELDS = [
    "finish_position",
    "finish_time",
    "lengths_behind",
    "early_position",
    "late_position",
]


def make_frame(races: list[dict]) -> pd.DataFrame:
    """A runner frame from compact race dicts; every runner field has a plain default."""
    rows = []
    for race in races:
        for saddle, runner in enumerate(race["runners"], start=1):
            rows.append(
                {
                    "runner_id": len(rows) + 1,
                    "race_id": race["race_id"],
                    "meeting_date": pd.Timestamp(race["date"]),
                    "racecourse_id": race.get("course", 1),
                    "race_number": race.get("number", 1),
                    "distance_m": race.get("distance", 1200),
                    "surface": race.get("surface", "turf"),
                    "going": race.get("going", "GOOD"),
                    "race_class": race.get("race_class", "4"),
                    "status": race.get("status", "result"),
                    "horse_id": runner["horse"],
                    "jockey_id": runner.get("jockey", np.nan),
                    "trainer_id": runner.get("trainer", np.nan),
                    "saddle_number": saddle,
                    "draw": runner.get("draw", float(saddle)),
                    "carried_weight_lb": runner.get("weight", 126.0),
                    "declared_weight_lb": runner.get("body", 1100.0),
                    "rating": runner.get("rating", 60.0),
                    "age": runner.get("age", 4.0),
                    "win_odds": runner.get("odds", 10.0),
                    "finish_position": runner.get("pos", np.nan),
                    "lengths_behind": runner.get("lengths", np.nan),
                    "finish_time": runner.get("time", np.nan),
                    "early_position": runner.get("early", np.nan),
                    "late_position": runner.get("late", np.nan),
                    "non_runner": runner.get("non_runner", False),
                }
            )
    # Every status is a category, so that a test may turn results into declared cards.
    statuses = pd.CategoricalDtype(["declared", "result", "abandoned"])
    dtypes = {**FRAME_COLUMNS, "status": statuses}
    frame = pd.DataFrame(rows, columns=list(FRAME_COLUMNS)).astype(dtypes)
    return frame.sort_values(["meeting_date", "race_id", "saddle_number"], ignore_index=True)


def random_frame(seed: int = 7, days: int = 6, races_per_day: int = 3) -> pd.DataFrame:
    """A small season: 30 horses, 6 jockeys, 5 trainers, two courses, results with times."""
    rng = np.random.default_rng(seed)
    races = []
    for d in range(days):
        date = pd.Timestamp("2024-01-01") + pd.Timedelta(days=10 * d)
        horses = rng.permutation(30)[: 8 * races_per_day] + 1
        for r in range(races_per_day):
            distance = int(rng.choice([1200, 1400]))
            winner_time = distance / 1000 * 58 + rng.normal(0, 0.5)
            runners = []
            for pos, horse in enumerate(horses[8 * r : 8 * r + 8], start=1):
                runners.append(
                    {
                        "horse": int(horse),
                        "jockey": float(rng.integers(1, 7)),
                        "trainer": float(rng.integers(1, 6)),
                        "weight": float(rng.integers(115, 134)),
                        "body": float(rng.integers(1000, 1200)),
                        "rating": float(rng.integers(40, 90)),
                        "age": float(rng.integers(3, 7)),
                        "pos": float(pos),
                        "lengths": 0.0 if pos == 1 else 0.75 * (pos - 1),
                        "time": winner_time + 0.12 * (pos - 1),
                        "early": float(rng.integers(1, 9)),
                        "late": float(rng.integers(1, 9)),
                    }
                )
            races.append(
                {
                    "race_id": 100 * d + r,
                    "date": date,
                    "number": r + 1,
                    "course": 1 + d % 2,
                    "distance": distance,
                    "going": str(rng.choice(["GOOD", "GOOD TO FIRM"])),
                    "race_class": str(rng.integers(3, 6)),
                    "runners": runners,
                }
            )
    return make_frame(races)


def two_runners(pos: tuple[float, float] | None = None) -> list[dict]:
    runners = [{"horse": 1, "jockey": 1.0, "trainer": 1.0}, {"horse": 2, "jockey": 2.0}]
    if pos is not None:
        for runner, position in zip(runners, pos, strict=True):
            runner["pos"] = float(position)
    return runners


def test_feature_columns_are_unique_and_market_free():
    assert len(FEATURE_COLUMNS) == len(set(FEATURE_COLUMNS))
    assert not [name for name in FEATURE_COLUMNS if "odds" in name]


def test_build_features_shape_dtype_and_index():
    # given a frame with a non-default index
    frame = random_frame()
    frame.index = frame.index + 1000

    # when
    result = build_features(frame)

    # then
    assert list(result.columns) == FEATURE_COLUMNS
    assert result.index.equals(frame.index)
    assert (result.dtypes == "float32").all()


def test_a_compact_frame_gives_the_features_of_a_float64_one_to_float32_precision():
    # given the compact frame, and the same rows with float64 numbers and object strings (as
    # the frame was before, and as a frame joined from two reads still has its strings)
    frame = random_frame()
    wide = frame.astype(
        {
            column: "float64" if dtype == "float32" else "object"
            for column, dtype in FRAME_COLUMNS.items()
            if dtype in ("float32", "category")
        }
    )

    # when
    compact, reference = build_features(frame), build_features(wide)

    # then: the same features but for float32 rounding (figures of tenths of seconds per km)
    np.testing.assert_allclose(compact.to_numpy(), reference.to_numpy(), rtol=1e-5, atol=1e-4)
    assert (compact.isna() == reference.isna()).all().all()


# ---------------------------------------------------------------------------------------------
# Point in time


def test_features_of_a_day_ignore_results_from_that_day_on():
    # given features built on a full frame
    frame = random_frame()
    day = frame["meeting_date"].sort_values().unique()[3]
    before = build_features(frame)
    target = (frame["meeting_date"] == day).to_numpy()
    earlier = (frame["meeting_date"] < day).to_numpy()

    # when the results on and after that day change or vanish, later ratings change, the day's
    # races become declared cards, and new races appear that day and later
    rng = np.random.default_rng(0)
    changed = frame.copy()
    on_or_after = (changed["meeting_date"] >= day).to_numpy()
    after = (changed["meeting_date"] > day).to_numpy()
    changed.loc[on_or_after, "finish_position"] = rng.permutation(
        changed.loc[on_or_after, "finish_position"].to_numpy()
    )
    changed.loc[on_or_after, "finish_time"] += rng.normal(0, 2, on_or_after.sum())
    changed.loc[on_or_after, "lengths_behind"] = np.nan
    changed.loc[on_or_after, "early_position"] = 1.0
    changed.loc[after, "rating"] += 9
    changed.loc[target, RESULT_FIELDS] = np.nan
    changed.loc[target, "status"] = "declared"
    extra = make_frame(
        [
            {
                "race_id": 9000 + k,
                "date": date,
                "number": 9,
                "runners": [
                    {"horse": h, "jockey": 1.0, "trainer": 1.0, "pos": float(i + 1), "time": 70.0}
                    for i, h in enumerate(range(1, 9))
                ],
            }
            for k, date in enumerate([day, day + pd.Timedelta(days=1)])
        ]
    )
    extra["runner_id"] += 10_000
    extra.index = extra.index + 10_000
    changed = pd.concat([changed, extra]).sort_values(["meeting_date", "race_id", "saddle_number"])
    after_change = build_features(changed)

    # then the day's features and every earlier day's are exactly the same
    pd.testing.assert_frame_equal(after_change.loc[frame.index[target]], before[target])
    pd.testing.assert_frame_equal(after_change.loc[frame.index[earlier]], before[earlier])
    # and the change did reach the later days, so the comparison above is not vacuous
    later = frame.index[(frame["meeting_date"] > day).to_numpy()]
    assert not after_change.loc[later].equals(before.loc[later])


def test_win_odds_change_nothing():
    frame = random_frame()
    shuffled = frame.assign(win_odds=np.random.default_rng(1).uniform(1.5, 50, len(frame)))

    pd.testing.assert_frame_equal(build_features(shuffled), build_features(frame))


def test_targets_give_the_same_values_as_the_full_build():
    # given one whole race and a single runner of another race (its field still counts)
    frame = random_frame()
    last_day = frame["meeting_date"] == frame["meeting_date"].max()
    race_ids = frame.loc[last_day, "race_id"].unique()
    targets = frame["race_id"] == race_ids[0]
    targets |= frame.index == frame.index[(frame["race_id"] == race_ids[1]).to_numpy()][2]

    # when
    card = build_features(frame, targets=targets)

    # then
    assert len(card) == 9
    pd.testing.assert_frame_equal(card, build_features(frame)[targets.to_numpy()])


def test_no_targets_give_an_empty_frame():
    frame = random_frame()

    result = build_features(frame, targets=pd.Series(False, index=frame.index))

    assert result.empty
    assert list(result.columns) == FEATURE_COLUMNS


def test_declared_abandoned_and_non_runner_rows_get_features_and_add_no_history():
    # given horse 1 ran (and won) on day 1; on day 2 it is declared in a card, also appears in an
    # abandoned race with a result and is a non-runner in a third race; it runs again on day 3
    frame = make_frame(
        [
            {"race_id": 1, "date": "2024-01-01", "runners": two_runners(pos=(1, 2))},
            {"race_id": 2, "date": "2024-01-08", "status": "declared", "runners": two_runners()},
            {
                "race_id": 3,
                "date": "2024-01-08",
                "status": "abandoned",
                "runners": two_runners(pos=(1, 2)),
            },
            {
                "race_id": 4,
                "date": "2024-01-08",
                "runners": [
                    {"horse": 1, "jockey": 1.0, "non_runner": True},
                    {"horse": 3, "jockey": 2.0, "pos": 1.0},
                    {"horse": 4, "jockey": 3.0, "pos": 2.0},
                ],
            },
            {"race_id": 5, "date": "2024-01-15", "runners": two_runners(pos=(2, 1))},
        ]
    )

    # when
    result = build_features(frame)

    # then the card and the non-runner have features from day 1
    card = result[(frame["race_id"] == 2).to_numpy()]
    assert card["h_runs"].tolist() == [1.0, 1.0]
    assert card["h_wins"].tolist() == [1.0, 0.0]
    assert card["j_rides"].tolist() == [1.0, 1.0]
    non_runner = result[((frame["race_id"] == 4) & frame["non_runner"]).to_numpy()]
    assert non_runner["h_runs"].tolist() == [1.0]
    assert result.loc[(frame["race_id"] == 4).to_numpy(), "field_size"].tolist() == [2.0] * 3
    # and on day 3 only the day-1 run counts
    day3 = result[(frame["race_id"] == 5).to_numpy()]
    assert day3["h_runs"].tolist() == [1.0, 1.0]
    assert day3["h_days_since"].tolist() == [14.0, 14.0]
    assert day3["j_rides"].tolist() == [1.0, 2.0]  # jockey 2 also rode in race 4


# ---------------------------------------------------------------------------------------------
# Hand-computed cases


def past_race(race_id: int, date: str, horse_1: dict, others_pos: tuple, **race) -> dict:
    """A result of horse 1 (`horse_1`: its run) against horses 2, 3 and 4 at `others_pos`."""
    others = [{"horse": h, "pos": float(p)} for h, p in zip((2, 3, 4), others_pos, strict=True)]
    return {"race_id": race_id, "date": date, **race, "runners": [{"horse": 1, **horse_1}, *others]}


def form_frame() -> pd.DataFrame:
    """Horse 1: won a 4-runner class-4 race, then 3rd of 4 in class 3, then today's race."""
    won = dict(pos=1.0, lengths=0.0, rating=52.0, weight=120.0, body=1100.0, early=1.0, late=1.0)
    third = dict(pos=3.0, lengths=2.5, rating=58.0, weight=124.0, body=1090.0, early=3.0, late=2.0)
    return make_frame(
        [
            past_race(1, "2024-01-01", won, (2, 3, 4), distance=1200),
            past_race(2, "2024-01-21", third, (1, 2, 4), distance=1400, race_class="3",
                      going="GOOD TO FIRM"),
            {
                "race_id": 3,
                "date": "2024-02-01",
                "distance": 1300,
                "race_class": "3",
                "status": "declared",
                "runners": [
                    {"horse": 1, "rating": 61.0, "weight": 127.0, "body": 1095.0},
                    *[{"horse": h} for h in (2, 3, 4)],
                ],
            },
        ]
    )  # fmt: skip


def test_horse_form_hand_computed():
    frame = form_frame()

    row = build_features(frame).iloc[-4]  # horse 1 in race 3

    assert row["h_runs"] == 2.0
    assert row["h_wins"] == 1.0
    assert row["h_places"] == 2.0
    assert row["h_pos_last"] == pytest.approx(2 / 3)  # (3 - 1) / (4 - 1)
    assert row["h_pos_mean3"] == pytest.approx(1 / 3)  # mean of 0 and 2/3
    assert row["h_pos_best5"] == 0.0
    assert row["h_pos_ewm10"] == pytest.approx((2 / 3 + 0.8 * 0) / 1.8)
    assert row["h_lengths_last"] == 2.5
    assert row["h_lengths_mean3"] == 1.25
    assert row["h_days_since"] == 11.0
    assert row["h_days_since_win"] == 31.0
    assert row["h_runs_since_win"] == 1.0
    assert row["h_rating_change"] == 3.0
    assert row["h_carried_weight_change"] == 3.0
    assert row["h_declared_weight_change"] == 5.0
    assert row["h_class_change"] == 0.0
    assert row["h_distance_change"] == -100.0
    assert row["h_early_pos_mean5"] == pytest.approx((1 / 4 + 3 / 4) / 2)
    assert row["h_late_pos_mean5"] == pytest.approx((1 / 4 + 2 / 4) / 2)
    # 1300 m is in the 1400 m bucket, [1300, 1500): the 3rd place in race 2
    assert row["h_dist_runs"] == 1.0
    assert row["h_going_runs"] == 1.0  # GOOD today, once before on GOOD
    assert row["h_course_runs"] == 2.0


def test_first_run_has_counts_and_priors_but_no_form():
    frame = form_frame()

    row = build_features(frame).iloc[0]  # horse 1 in race 1

    assert row["h_runs"] == 0.0
    assert row["h_win_rate"] == pytest.approx(1 / 4)  # the prior: a 4-runner field
    assert row["h_place_rate"] == pytest.approx(3 / 4)
    assert np.isnan(row[["h_pos_last", "h_days_since", "h_rating_change", "h_fig_last"]]).all()


def test_shrunken_rates_hand_computed():
    frame = form_frame()
    k_win, k_place = FIXED_PRIORS.horse
    k_cond_win, k_cond_place = FIXED_PRIORS.horse_condition

    row = build_features(frame).iloc[-4]

    # 1 win and 2 places from 2 runs, shrunk towards a 4-runner field's 1/4 and 3/4
    assert row["h_win_rate"] == pytest.approx((1 + k_win / 4) / (2 + k_win))
    assert row["h_place_rate"] == pytest.approx((2 + k_place * 3 / 4) / (2 + k_place))
    # at the distance (1300 m today): the 1400 m 3rd place only
    assert row["h_dist_win_rate"] == pytest.approx((0 + k_cond_win / 4) / (1 + k_cond_win))
    assert row["h_dist_place_rate"] == pytest.approx(
        (1 + k_cond_place * 3 / 4) / (1 + k_cond_place)
    )


def test_jockey_and_trainer_rates_count_earlier_days_only():
    # given jockey 1 won on day 1 (366 days before day 3), won race 2 on day 2 and rides again
    # in race 3 later on day 2, and in race 4 on day 3
    frame = make_frame(
        [
            {"race_id": 1, "date": "2023-01-01", "runners": [
                {"horse": 1, "jockey": 1.0, "trainer": 5.0, "pos": 1.0},
                {"horse": 2, "jockey": 2.0, "trainer": 6.0, "pos": 2.0}]},
            {"race_id": 2, "date": "2023-12-20", "number": 1, "runners": [
                {"horse": 3, "jockey": 1.0, "trainer": 6.0, "pos": 1.0},
                {"horse": 4, "jockey": 2.0, "trainer": 6.0, "pos": 2.0}]},
            {"race_id": 3, "date": "2023-12-20", "number": 2, "runners": [
                {"horse": 5, "jockey": 1.0, "trainer": 5.0, "pos": 2.0},
                {"horse": 6, "jockey": 2.0, "trainer": 6.0, "pos": 1.0}]},
            {"race_id": 4, "date": "2024-01-02", "runners": [
                {"horse": 7, "jockey": 1.0, "trainer": 5.0},
                {"horse": 8, "jockey": 3.0, "trainer": 6.0}]},
        ]
    )  # fmt: skip
    k_win, k_place = FIXED_PRIORS.jockey
    t_win, t_place = FIXED_PRIORS.trainer
    jt_win, _ = FIXED_PRIORS.jockey_trainer

    result = build_features(frame)

    # then race 3 sees day 1 only, not race 2 run earlier the same day
    race3 = result.iloc[4]
    assert race3["j_rides"] == 1.0
    assert race3["j_win_rate"] == pytest.approx((1 + k_win / 2) / (1 + k_win))
    assert race3["j_rides_365"] == 1.0  # 353 days before
    assert race3["t_runs"] == 1.0
    # race 4: two days of rides; the day-1 win is 366 days back, out of the 365-day window
    race4 = result.iloc[6]
    assert race4["j_rides"] == 3.0
    assert race4["j_win_rate"] == pytest.approx((2 + k_win / 2) / (3 + k_win))
    assert race4["j_rides_365"] == 2.0
    assert race4["j_win_rate_365"] == pytest.approx((1 + k_win / 2) / (2 + k_win))
    assert race4["j_place_rate_365"] == pytest.approx((2 + k_place) / (2 + k_place))
    assert race4["j_win_rate_60"] == pytest.approx((1 + k_win / 2) / (2 + k_win))
    assert race4["t_runs"] == 2.0
    assert race4["t_win_rate"] == pytest.approx((1 + t_win / 2) / (2 + t_win))
    assert race4["t_place_rate_365"] == pytest.approx((1 + t_place) / (1 + t_place))
    assert race4["jt_runs"] == 2.0  # jockey 1 with trainer 5: races 1 and 3
    assert race4["jt_win_rate"] == pytest.approx((1 + jt_win / 2) / (2 + jt_win))
    # a jockey with no rides gets the prior
    assert result.iloc[7]["j_rides"] == 0.0
    assert result.iloc[7]["j_win_rate"] == pytest.approx(1 / 2)


def test_jockey_change_hand_computed():
    frame = make_frame(
        [
            {"race_id": 1, "date": "2024-01-01", "runners": [
                {"horse": 1, "jockey": 1.0, "pos": 1.0}, {"horse": 2, "jockey": 2.0, "pos": 2.0}]},
            {"race_id": 2, "date": "2024-01-08", "runners": [
                {"horse": 1, "jockey": 2.0}, {"horse": 2, "jockey": 2.0}]},
        ]
    )  # fmt: skip
    k_win, _ = FIXED_PRIORS.jockey

    result = build_features(frame).iloc[2:]

    assert result["h_jockey_change"].tolist() == [1.0, 0.0]
    # horse 1 swaps jockey 1 (1 win from 1 ride) for jockey 2 (0 from 1)
    rate_1 = (1 + k_win / 2) / (1 + k_win)
    rate_2 = (0 + k_win / 2) / (1 + k_win)
    assert result["h_jockey_rate_change"].tolist() == pytest.approx([rate_2 - rate_1, 0.0])


def test_speed_figures_hand_computed():
    # given three 1200 m winners on day 1 (70, 71, 72 s: a standard of 71 s) and one race on day 2
    # won in 73.5 s, horse 1 second in 74.1 s; horse 1 runs again on day 3
    # (horse 1 carries 133 lb on day 1, 120 lb on day 2 and 126 lb on day 3; all others 126 lb)
    def race(race_id: int, date: str, times: list[float], horses: list[int], lb=None) -> dict:
        lb = lb or [126.0] * len(horses)
        runners = [
            {"horse": h, "pos": float(p), "time": t, "weight": w}
            for p, (h, t, w) in enumerate(zip(horses, times, lb, strict=True), start=1)
        ]
        return {"race_id": race_id, "date": date, "number": race_id, "runners": runners}

    frame = make_frame(
        [
            race(1, "2024-01-01", [70.0, 70.6], [11, 12]),
            race(2, "2024-01-01", [71.0, 71.5], [13, 14]),
            race(3, "2024-01-01", [72.0, 72.2], [1, 15], lb=[133.0, 126.0]),
            race(4, "2024-01-08", [73.5, 74.1], [16, 1], lb=[126.0, 120.0]),
            {"race_id": 5, "date": "2024-01-15", "status": "declared",
             "runners": [{"horse": 1}, {"horse": 11}]},
        ]
    )  # fmt: skip
    par_prior = FIXED_PRIORS.class_par
    variant_prior = FIXED_PRIORS.variant

    result = build_features(frame).iloc[-2:]

    # then day 1: residuals -1/1.2, 0, +1/1.2 s/km, class par 0, variant 0; horse 1 won race 3
    # 1 s slower than standard: a figure of -1/1.2 s/km. Horse 11 won race 1: +1/1.2.
    fig_day1 = -(72.0 - 71.0) / 1.2
    # day 2: standard (70 + 71 + 72 + 73.5) / 4, race residual, class par over 4 races (day 1's
    # residuals cancel), the day's variant after the par; horse 1's 74.1 s against it
    standard = (70 + 71 + 72 + 73.5) / 4
    resid = (73.5 - standard) / 1.2
    par = resid / (4 + par_prior)
    variant = (resid - par) / (1 + variant_prior)
    fig_day2 = variant - (74.1 - standard) / 1.2
    horse1, horse11 = result.iloc[0], result.iloc[1]
    assert horse1["h_fig_last"] == pytest.approx(fig_day2)
    assert horse1["h_fig_best5"] == pytest.approx(max(fig_day1, fig_day2))
    assert horse1["h_fig_mean3"] == pytest.approx((fig_day1 + fig_day2) / 2)
    assert horse11["h_fig_last"] == pytest.approx(1 / 1.2)
    # class 4's par as a figure, from days 1 and 2
    assert horse1["race_par"] == pytest.approx(-par)
    assert horse1["h_fig_best5_vs_par"] == pytest.approx(max(fig_day1, fig_day2) + par)
    assert horse1["h_fig_last_rel"] == pytest.approx((fig_day2 - 1 / 1.2) / 2)
    # at today's 126 lb: day 1's figure was run under 7 lb more (worth 7 x 0.056 s/km), day 2's
    # under 6 lb less
    at_weight_day1, at_weight_day2 = fig_day1 + 7 * 0.056, fig_day2 - 6 * 0.056
    assert horse1["h_fig_at_weight_best5"] == pytest.approx(max(at_weight_day1, at_weight_day2))
    assert horse1["h_fig_at_weight_mean3"] == pytest.approx((at_weight_day1 + at_weight_day2) / 2)
    assert horse1["h_fig_at_weight_ewm10"] == pytest.approx(
        (at_weight_day2 + 0.8 * at_weight_day1) / 1.8
    )
    assert horse11["h_fig_at_weight_mean3"] == pytest.approx(1 / 1.2)
    assert horse1["h_fig_at_weight_mean3_rel"] == pytest.approx(
        ((at_weight_day1 + at_weight_day2) / 2 - 1 / 1.2) / 2
    )


def test_no_speed_figure_before_three_winners_at_the_trip():
    frame = make_frame(
        [
            {"race_id": 1, "date": "2024-01-01", "runners": [
                {"horse": 1, "pos": 1.0, "time": 70.0}, {"horse": 2, "pos": 2.0, "time": 70.5}]},
            {"race_id": 2, "date": "2024-01-08", "runners": [{"horse": 1}, {"horse": 2}]},
        ]
    )  # fmt: skip

    result = build_features(frame).iloc[2:]

    assert result["h_fig_last"].isna().all()
    assert result["h_pos_last"].tolist() == [0.0, 1.0]


def test_field_relative_features_hand_computed():
    # given three runners at 120, 124 and 128 lb and a non-runner at 140 lb
    frame = make_frame(
        [
            {
                "race_id": 1,
                "date": "2024-01-01",
                "runners": [
                    {"horse": 1, "weight": 120.0, "rating": 50.0, "draw": 3.0},
                    {"horse": 2, "weight": 124.0, "rating": 70.0, "draw": 1.0},
                    {"horse": 3, "weight": 128.0, "rating": 60.0, "draw": 2.0},
                    {"horse": 4, "weight": 140.0, "rating": 99.0, "non_runner": True},
                ],
            }
        ]
    )

    result = build_features(frame)

    assert result["field_size"].tolist() == [3.0] * 4
    assert result["carried_weight_lb_rel"].tolist() == [-4.0, 0.0, 4.0, 16.0]
    assert result["carried_weight_lb_rank"].tolist()[:3] == [3.0, 2.0, 1.0]
    assert np.isnan(result["carried_weight_lb_rank"].iloc[3])
    assert result["rating_rel"].tolist() == [-10.0, 10.0, 0.0, 39.0]
    assert result["rating_rank"].tolist()[:3] == [3.0, 1.0, 2.0]
    assert result["draw_pct"].tolist()[:3] == np.float32([1.0, 1 / 3, 2 / 3]).tolist()
    assert result["race_class"].tolist() == [4.0] * 4
    assert result["distance_m"].tolist() == [1200.0] * 4
    # one starter of three on the default mark 60; the non-runner does not count
    assert result["rating_placeholder_share"].tolist() == pytest.approx([1 / 3] * 4)


def test_a_field_mostly_on_the_default_rating_says_so():
    # given a race where three of four starters show the Hong Kong default 60, and one where none do
    frame = make_frame(
        [
            {"race_id": 1, "date": "2024-01-01", "runners": [
                {"horse": 1, "rating": 60.0}, {"horse": 2, "rating": 60.0},
                {"horse": 3, "rating": 60.0}, {"horse": 4, "rating": 72.0}]},
            {"race_id": 2, "date": "2024-01-01", "runners": [
                {"horse": 5, "rating": 61.0}, {"horse": 6, "rating": 59.0}]},
        ]
    )  # fmt: skip

    result = build_features(frame)

    # the ratings stay as given; the share tells a model how far to believe them
    assert result["rating_placeholder_share"].tolist() == [0.75] * 4 + [0.0] * 2
    assert result["rating"].tolist() == [60.0, 60.0, 60.0, 72.0, 61.0, 59.0]


def test_draw_bias_hand_computed():
    # given stall 1 won a 4-runner 1200 m race at course 1 and stall 2 ran second
    past = [{"horse": h, "draw": float(h), "pos": float(h)} for h in (1, 2, 3, 4)]
    frame = make_frame(
        [
            {"race_id": 1, "date": "2024-01-01", "runners": past},
            {"race_id": 2, "date": "2024-01-08", "runners": [
                {"horse": 5, "draw": 1.0}, {"horse": 6, "draw": 2.0}, {"horse": 7, "draw": 9.0}]},
            {"race_id": 3, "date": "2024-01-08", "course": 2, "runners": [
                {"horse": 8, "draw": 1.0}]},
        ]
    )  # fmt: skip
    k_win, k_place = FIXED_PRIORS.draw

    result = build_features(frame).iloc[4:]

    # actual over expected, shrunk towards 1 by k runs at a 12-runner field's chance
    assert result["draw_win_ae"].tolist() == pytest.approx(
        [(1 + k_win / 12) / (1 / 4 + k_win / 12), (0 + k_win / 12) / (1 / 4 + k_win / 12), 1, 1]
    )
    assert result["draw_place_ae"].iloc[1] == pytest.approx(
        (1 + k_place * 3 / 12) / (3 / 4 + k_place * 3 / 12)
    )
