"""The runner frame: the one table every part of `predictions.ml` reads.

One row per runner. `predictions.selectors.runner_frame` builds it from the database; tests and
research build it by hand or from the Hong Kong CSVs. Nothing in `predictions.ml` touches the ORM.

| column | dtype | meaning |
| --- | --- | --- |
| runner_id | int64 | Runner primary key (unique) |
| race_id | int64 | Race primary key |
| meeting_date | datetime64[ns] | the race day (midnight) |
| racecourse_id | int64 | |
| race_number | int64 | |
| distance_m | int64 | |
| surface | str | "turf", "all_weather", "dirt" |
| going | str | upper case, e.g. "GOOD TO FIRM"; "" when unknown |
| race_class | str | provider's class, e.g. "4"; "" when unknown |
| status | str | race status: "declared", "result", "abandoned" |
| horse_id | int64 | |
| jockey_id, trainer_id | float64 | NaN when unknown |
| saddle_number | int64 | |
| draw | float64 | NaN when unknown |
| carried_weight_lb, declared_weight_lb, rating, age | float64 | NaN when unknown |
| win_odds | float64 | final (results) or latest (declared) decimal odds; NaN when unknown |
| finish_position | float64 | NaN for declared races and non-finishers |
| lengths_behind, finish_time | float64 | NaN when unknown; finish_time in seconds |
| early_position, late_position | float64 | position at the first / second-last section |
| non_runner | bool | withdrawn: never a starter, never in history |

Rows are sorted by (meeting_date, race_id, saddle_number).
"""

FRAME_COLUMNS = {
    "runner_id": "int64",
    "race_id": "int64",
    "meeting_date": "datetime64[ns]",
    "racecourse_id": "int64",
    "race_number": "int64",
    "distance_m": "int64",
    "surface": "object",
    "going": "object",
    "race_class": "object",
    "status": "object",
    "horse_id": "int64",
    "jockey_id": "float64",
    "trainer_id": "float64",
    "saddle_number": "int64",
    "draw": "float64",
    "carried_weight_lb": "float64",
    "declared_weight_lb": "float64",
    "rating": "float64",
    "age": "float64",
    "win_odds": "float64",
    "finish_position": "float64",
    "lengths_behind": "float64",
    "finish_time": "float64",
    "early_position": "float64",
    "late_position": "float64",
    "non_runner": "bool",
}
