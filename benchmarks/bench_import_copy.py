"""The Hong Kong import on PostgreSQL beside its floor, for the shared set and a 12-copy set.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/hrp_bench .venv/bin/python \\
        benchmarks/bench_import_copy.py [--copies 12] [--row-path]

The database is migrated and its race data truncated first: point it at a scratch database.
For each set (the shared pair, then the pair repeated `--copies` times by hkracing_tenfold.py in a
temporary folder) a child process prints: the floor (pandas read_csv of both files, then COPY of
both files into empty tables of the same columns), the first import into an empty database and a
second one with nothing changed, each with its wall time, its ratio to the floor, and the peak
RSS of the child so far. Then the schema's floor: COPY of the races and runners as the import
stored them into empty tables made like the real ones (their indexes and checks, then their
foreign keys, each checked once), which is what writing the import's result costs the database
itself.
`--row-path` also times the row-by-row ORM import (the path before COPY, and SQLite's) on the
shared set, after truncating again.
"""

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hrp_site.settings")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared/data/hkracing")
    parser.add_argument("--copies", type=int, default=12)
    parser.add_argument("--row-path", action="store_true")
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--step", choices=["floor", "import"], help=argparse.SUPPRESS)
    parser.add_argument("--floor-file", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _measure(args.child, step=args.step, floor_file=args.floor_file, row_path=args.row_path)
        return

    from hkracing_tenfold import tenfold_write

    _child(args.data, "shared set", row_path=args.row_path)
    with tempfile.TemporaryDirectory(prefix="hk_bench_") as folder:
        started = time.perf_counter()
        races, runs = tenfold_write(args.data, Path(folder), copies=args.copies)
        print(
            f"\n[{args.copies} copies: {races:,} races, {runs:,} runs, "
            f"written in {time.perf_counter() - started:.1f} s]"
        )
        _child(Path(folder), f"{args.copies}-copy set", row_path=False)


def _child(folder: Path, label: str, *, row_path: bool) -> None:
    # One process for the floor and one for the imports, so that each peak RSS is its own.
    print(f"\n== {label} ({folder})", flush=True)
    with tempfile.NamedTemporaryFile(prefix="hk_floor_") as floor_file:
        for step in ("floor", "import"):
            command = [sys.executable, __file__, "--child", str(folder), "--step", step]
            command += ["--floor-file", floor_file.name, *(["--row-path"] if row_path else [])]
            subprocess.run(command, check=True)


def _measure(folder: Path, *, step: str, floor_file: Path, row_path: bool) -> None:
    import django

    django.setup()
    import pandas as pd
    from django.core.management import call_command
    from django.db import connection

    if connection.vendor != "postgresql":
        sys.exit("DATABASE_URL must name a PostgreSQL database")
    call_command("migrate", verbosity=0)

    def line(what: str, seconds: float, floor: float | None = None, extra: str = "") -> None:
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        ratio = f", {seconds / floor:.1f}x the floor" if floor else ""
        print(
            f"{what}: {seconds:.2f} s{ratio}{extra}, peak RSS of the step's process so far "
            f"{peak:.0f} MiB",
            flush=True,
        )

    if step == "import":
        floor = float(floor_file.read_text())
        _truncate(connection)
        _imports(folder, floor, line, row_path=row_path)
        return
    # The floor: what reading the pair and loading it as it is would cost.
    started = time.perf_counter()
    frames = {name: pd.read_csv(folder / f"{name}.csv") for name in ("races", "runs")}
    read = time.perf_counter() - started
    started = time.perf_counter()
    with connection.cursor() as cursor:
        for name, frame in frames.items():
            columns = ", ".join(f'"{c}" {_floor_type(frame[c].dtype)}' for c in frame.columns)
            cursor.execute(f"CREATE TEMPORARY TABLE floor_{name} ({columns})")
            with open(folder / f"{name}.csv", encoding="utf-8-sig") as handle:
                cursor.copy_expert(
                    f"COPY floor_{name} FROM STDIN WITH (FORMAT csv, HEADER)", handle
                )
            cursor.execute(f"DROP TABLE floor_{name}")
    copied = time.perf_counter() - started
    floor = read + copied
    line("floor (read_csv + COPY)", floor, extra=f" (read_csv {read:.2f} s, COPY {copied:.2f} s)")
    floor_file.write_text(str(floor))


def _imports(folder: Path, floor: float, line, *, row_path: bool) -> None:
    from django.db import connection

    from races.models import Race, Runner
    from races.services import hkracing_import as service

    for what in ("first import (empty database)", "re-import (nothing changed)"):
        started = time.perf_counter()
        report = service.hkracing_folder_import(folder=folder)
        elapsed = time.perf_counter() - started
        counts = report.counts["runners"]
        line(
            what,
            elapsed,
            floor,
            f" [runners {counts.created:,} created, {counts.updated:,} updated, "
            f"{counts.unchanged:,} unchanged; {Race.objects.count():,} races, "
            f"{Runner.objects.count():,} runners stored]",
        )
    _schema_floor(connection, floor, line)

    if row_path:
        _truncate(connection)

        def unplain(**kwargs):
            raise service.hkracing_frames.FramesUnplain

        service._hkracing_frames_check = unplain  # the row check and ORM write, as before COPY
        started = time.perf_counter()
        report = service.hkracing_folder_import(folder=folder)
        line("row path, first import (ORM, as before)", time.perf_counter() - started, floor)


def _schema_floor(connection, floor: float, line) -> None:
    from django.db import transaction

    from races.models import Race, Runner

    copies = {Race: "floor_race", Runner: "floor_runner"}
    # On disk, not in memory: the step's peak RSS stays the imports'.
    with connection.cursor() as cursor, tempfile.TemporaryDirectory() as folder:
        stored = {model: Path(folder) / model._meta.db_table for model in copies}
        for model, path in stored.items():
            with path.open("w", encoding="utf-8") as handle:
                cursor.copy_expert(f"COPY {model._meta.db_table} TO STDOUT", handle)
        for model, table in copies.items():
            cursor.execute(f"CREATE TABLE {table} (LIKE {model._meta.db_table} INCLUDING ALL)")
        keys = {
            "floor_race": [("racecourse_id", "races_racecourse")],
            "floor_runner": [
                ("race_id", "floor_race"),
                ("horse_id", "races_horse"),
                ("jockey_id", "races_jockey"),
                ("trainer_id", "races_trainer"),
            ],
        }
        try:
            # The keys after the rows, each checked once by a join (as a first import does).
            started = time.perf_counter()
            with transaction.atomic():
                for model, table in copies.items():
                    with stored[model].open(encoding="utf-8") as handle:
                        cursor.copy_expert(f"COPY {table} FROM STDIN", handle)
                for table, references in keys.items():
                    for column, target in references:
                        cursor.execute(
                            f"ALTER TABLE {table} ADD FOREIGN KEY ({column}) "
                            f"REFERENCES {target} (id) DEFERRABLE INITIALLY DEFERRED"
                        )
            elapsed = time.perf_counter() - started
        finally:
            cursor.execute("DROP TABLE floor_runner, floor_race")
    line("schema's floor (COPY of the stored rows into tables like the real ones)", elapsed, floor)


def _floor_type(dtype) -> str:
    return {"i": "bigint", "f": "double precision"}.get(dtype.kind, "text")


def _truncate(connection) -> None:
    from races.models import Horse, Jockey, Race, Racecourse, Runner, Trainer

    tables = ", ".join(m._meta.db_table for m in (Runner, Race, Horse, Jockey, Trainer, Racecourse))
    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {tables} CASCADE")
        cursor.execute(f"VACUUM ANALYZE {tables}")


if __name__ == "__main__":
    sys.exit(main())
