"""A larger Hong Kong set for the scale benchmarks: the shared pair repeated with shifted dates.

    .venv/bin/python benchmarks/hkracing_tenfold.py /tmp/hk10 [--copies 10]

Copy 0 is the shared pair as it is; copy k moves every date back by k times the set's span (plus a
gap longer than a season break, so seasons never overlap) and offsets race, horse, jockey and
trainer ids by k * ID_OFFSET, so each copy is new horses, jockeys and trainers with their own
history. Streams row by row: memory stays flat whatever the number of copies.
"""

import argparse
import csv
import datetime
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ID_OFFSET = 1_000_000
GAP_DAYS = 70  # longer than the 40-day break that separates seasons
RACE_IDS = ("race_id",)
RUN_IDS = ("race_id", "horse_id", "jockey_id", "trainer_id")


def tenfold_write(source: Path, target: Path, *, copies: int = 10) -> tuple[int, int]:
    """Write races.csv and runs.csv with `copies` copies of `source`'s pair into `target`.

    Returns the number of races and runs written.
    """
    target.mkdir(parents=True, exist_ok=True)
    with open(source / "races.csv", newline="", encoding="utf-8-sig") as races:
        dates = [datetime.date.fromisoformat(row["date"]) for row in csv.DictReader(races)]
    shift = (max(dates) - min(dates)).days + GAP_DAYS
    races = _copies_write(
        source / "races.csv", target / "races.csv", copies, RACE_IDS, shift_days=shift
    )
    runs = _copies_write(source / "runs.csv", target / "runs.csv", copies, RUN_IDS, shift_days=0)
    return races, runs


def _copies_write(
    source: Path, target: Path, copies: int, id_columns: tuple[str, ...], *, shift_days: int
) -> int:
    written = 0
    with open(target, "w", newline="", encoding="utf-8") as out:
        writer = None
        for copy in range(copies):
            with open(source, newline="", encoding="utf-8-sig") as rows:
                reader = csv.DictReader(rows)
                if writer is None:
                    writer = csv.DictWriter(out, fieldnames=reader.fieldnames)
                    writer.writeheader()
                for row in reader:
                    if copy:
                        for column in id_columns:
                            row[column] = str(int(row[column]) + copy * ID_OFFSET)
                        if "date" in row:
                            day = datetime.date.fromisoformat(row["date"])
                            row["date"] = (
                                day - datetime.timedelta(days=copy * shift_days)
                            ).isoformat()
                    writer.writerow(row)
                    written += 1
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("target", type=Path)
    parser.add_argument("--copies", type=int, default=10)
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared/data/hkracing")
    args = parser.parse_args()
    races, runs = tenfold_write(args.data, args.target, copies=args.copies)
    print(f"{args.target}: {races:,} races, {runs:,} runs ({args.copies} copies)", file=sys.stderr)


if __name__ == "__main__":
    main()
