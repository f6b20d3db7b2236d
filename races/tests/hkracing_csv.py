"""Small CSV pairs in the exact column layout of ../shared/data/hkracing, for import tests."""

from __future__ import annotations

import csv
import io

RACE_HEADER = [
    "race_id",
    "date",
    "venue",
    "race_no",
    "config",
    "surface",
    "distance",
    "going",
    "horse_ratings",
    "prize",
    "race_class",
    "sec_time1",
    "sec_time2",
    "sec_time3",
    "sec_time4",
    "sec_time5",
    "sec_time6",
    "sec_time7",
    "time1",
    "time2",
    "time3",
    "time4",
    "time5",
    "time6",
    "time7",
    "place_combination1",
    "place_combination2",
    "place_combination3",
    "place_combination4",
    "place_dividend1",
    "place_dividend2",
    "place_dividend3",
    "place_dividend4",
    "win_combination1",
    "win_dividend1",
    "win_combination2",
    "win_dividend2",
]

RUN_HEADER = [
    "race_id",
    "horse_no",
    "horse_id",
    "result",
    "won",
    "lengths_behind",
    "horse_age",
    "horse_country",
    "horse_type",
    "horse_rating",
    "horse_gear",
    "declared_weight",
    "actual_weight",
    "draw",
    "position_sec1",
    "position_sec2",
    "position_sec3",
    "position_sec4",
    "position_sec5",
    "position_sec6",
    "behind_sec1",
    "behind_sec2",
    "behind_sec3",
    "behind_sec4",
    "behind_sec5",
    "behind_sec6",
    "time1",
    "time2",
    "time3",
    "time4",
    "time5",
    "time6",
    "finish_time",
    "win_odds",
    "place_odds",
    "trainer_id",
    "jockey_id",
]


def race_row(race_id: int, **values: object) -> dict[str, object]:
    row: dict[str, object] = dict.fromkeys(RACE_HEADER, "")
    row.update(
        race_id=race_id,
        date="1997-06-02",
        venue="ST",
        race_no=race_id + 1,
        config="A",
        surface=0,
        distance=1200,
        going="GOOD",
        horse_ratings="60-40",
        prize="485000.0",
        race_class=4,
        sec_time1="24.05",
        sec_time2="22.64",
        sec_time3="23.7",
    )
    row.update(values)
    return row


def run_row(race_id: int, horse_no: int, result: int, **values: object) -> dict[str, object]:
    row: dict[str, object] = dict.fromkeys(RUN_HEADER, "")
    row.update(
        race_id=race_id,
        horse_no=horse_no,
        horse_id=1000 + horse_no,
        result=result,
        won="1.0" if result == 1 else "0.0",
        lengths_behind="0.0" if result == 1 else f"{result}.5",
        horse_age=3,
        horse_country="AUS",
        horse_type="Gelding",
        horse_rating=60,
        horse_gear="--",
        declared_weight="1020.0",
        actual_weight=126,
        draw=horse_no,
        position_sec1=result,
        position_sec2=result,
        position_sec3=result,
        behind_sec1="1.5",
        behind_sec2="1.25",
        behind_sec3="0.5",
        time1="24.1",
        time2="22.7",
        time3="23.8",
        finish_time=f"70.{result}",
        win_odds=f"{result + 2}.5",
        place_odds="1.5",
        trainer_id=10 + horse_no % 2,
        jockey_id=20 + horse_no,
    )
    row.update(values)
    return row


def to_csv(header: list[str], rows: list[dict[str, object]]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=header, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def small_pair() -> tuple[str, str]:
    """Two races of four runners with a dead heat for third, and a race with no runners."""
    races = [race_row(0), race_row(1, venue="HV", surface=1, prize=""), race_row(2)]
    runs = [
        run_row(0, 1, 1),
        run_row(0, 2, 2, lengths_behind="999", time3="999"),
        run_row(0, 3, 3, horse_gear="B/TT"),
        run_row(0, 4, 3),
        run_row(1, 1, 2, horse_id=1002, place_odds=""),
        run_row(1, 2, 1, horse_id=1001, win_odds="1.0", place_odds="1.0"),
    ]
    return to_csv(RACE_HEADER, races), to_csv(RUN_HEADER, runs)
