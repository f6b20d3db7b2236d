"""The runner frame: the one table every part of `predictions.ml` reads.

One row per runner. `predictions.selectors.runner_frame` builds it from the database; tests and
research build it by hand or from the Hong Kong CSVs. Nothing in `predictions.ml` touches the ORM.

| column | dtype | meaning |
| --- | --- | --- |
| runner_id | int32 | Runner primary key (unique) |
| race_id | int32 | Race primary key |
| meeting_date | datetime64[ns] | the race day (midnight) |
| racecourse_id | int32 | |
| race_number | int16 | |
| distance_m | int32 | |
| surface | category | "turf", "all_weather", "dirt" |
| going | category | upper case, e.g. "GOOD TO FIRM"; "" when unknown |
| race_class | category | provider's class, e.g. "4"; "" when unknown |
| status | category | race status: "declared", "result", "abandoned" |
| horse_id | int32 | |
| jockey_id, trainer_id | float64 | NaN when unknown (float64 keeps every id exact) |
| saddle_number | int16 | |
| draw | float32 | NaN when unknown |
| carried_weight_lb, rating, age | float32 | NaN when unknown |
| declared_weight_lb | float64 | NaN when unknown |
| win_odds | float64 | final (results) or latest (declared) decimal odds; NaN when unknown |
| finish_position | float32 | NaN for declared races and non-finishers |
| lengths_behind, finish_time | float64 | NaN when unknown; finish_time in seconds |
| early_position, late_position | float32 | position at the first / second-last section |
| non_runner | bool | withdrawn: never a starter, never in history |

The dtypes are compact because training reads every settled runner into a 2 GB worker: 800,000
runners take about 90 MB so. float32 holds the small whole numbers (draw, positions, weights
carried) exactly; the decimals stay float64: the odds are money, and a hundredth of a second or
a fraction of a pound must not move one speed figure past another. Code reading the frame must
not rely on the dtypes beyond their kind: a frame joined from two reads (history and a card) has
its string columns as object, and frames built by hand may be wider.

Rows are sorted by (meeting_date, race_id, saddle_number).
"""

FRAME_COLUMNS = {
    "runner_id": "int32",
    "race_id": "int32",
    "meeting_date": "datetime64[ns]",
    "racecourse_id": "int32",
    "race_number": "int16",
    "distance_m": "int32",
    "surface": "category",
    "going": "category",
    "race_class": "category",
    "status": "category",
    "horse_id": "int32",
    "jockey_id": "float64",
    "trainer_id": "float64",
    "saddle_number": "int16",
    "draw": "float32",
    "carried_weight_lb": "float32",
    "declared_weight_lb": "float64",
    "rating": "float32",
    "age": "float32",
    "win_odds": "float64",
    "finish_position": "float32",
    "lengths_behind": "float64",
    "finish_time": "float64",
    "early_position": "float32",
    "late_position": "float32",
    "non_runner": "bool",
}
