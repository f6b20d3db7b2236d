"""Cold and warm refresh of a 10-race card on a large database, this code beside a baseline.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/hrp_bench \\
        .venv/bin/python benchmarks/bench_refresh_scale.py [--baseline-dir /work/main]
        [--algorithms logit] [--train-from 2002-09-01] [--rounds 3]

The database must hold the Hong Kong set, ideally repeated (`benchmarks/hkracing_tenfold.py`,
then `manage.py import_hkracing`): copy 0 keeps its dates, the others move back in time, so the
card (the first ten races from 2003-06-01 on) has every copy before it as history. Trains one
version per algorithm on races from `--train-from` to 2003-03-23 (a short window: the training is
not what is measured), then, in `--rounds` interleaved rounds, starts a fresh process per code
(this checkout, and `--baseline-dir` if given, each first on sys.path) that refreshes the card
three times: the first call reads the settled history (cold), the next two reuse it (warm).
Prints the median seconds per code and call, the warm figure's ratio baseline / this code, and
the new code's warm time per stage. Deletes the versions and their predictions at the end.
"""

import argparse
import datetime
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TRAIN_UNTIL = datetime.date(2003, 3, 23)
CARD_DAY = datetime.date(2003, 6, 1)
CARD_RACES = 10


def django_setup(code_dir: Path) -> None:
    sys.path.insert(0, str(code_dir))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hrp_site.settings")
    import django

    django.setup()


def card() -> list[int]:
    from races.models import Race

    return list(
        Race.objects.filter(meeting_date__gte=CARD_DAY)
        .order_by("meeting_date", "race_number", "pk")
        .values_list("pk", flat=True)[:CARD_RACES]
    )


def measure(algorithms: list[str], stages: bool) -> dict:
    """Three refreshes of the card in this process; with `stages`, the warm one's parts."""
    from predictions.services.refresh import predictions_refresh
    from races.models import Runner

    race_ids = card()
    seconds = []
    for _ in range(3):
        started = time.perf_counter()
        report = predictions_refresh(race_ids=race_ids, algorithms_to_use=algorithms)
        seconds.append(time.perf_counter() - started)
    result = {
        "cold": seconds[0],
        "warm": min(seconds[1:]),
        "races": report.races,
        "predictions": report.predictions,
        "history": Runner.objects.settled_starters().count(),
    }
    if stages:
        result["stages"] = warm_stages(race_ids)
    return result


def warm_stages(race_ids: list[int]) -> dict[str, float]:
    """Seconds of the warm path's parts (the history is already kept)."""
    from predictions import selectors
    from predictions.ml import features
    from races.models import Runner

    parts = {}
    started = time.perf_counter()
    selectors._history_fingerprint()
    parts["fingerprint"] = time.perf_counter() - started
    started = time.perf_counter()
    selectors.runner_frame(Runner.objects.filter(race_id__in=race_ids))
    parts["read the card's runners"] = time.perf_counter() - started
    started = time.perf_counter()
    frame, targets, kept = selectors.frame_with_kept_history(race_ids=race_ids)
    parts["fingerprint + card + kept rows"] = time.perf_counter() - started
    started = time.perf_counter()
    fast = features.build_features(frame, targets=targets & ~frame["non_runner"], kept=kept)
    parts[f"features ({len(frame):,} rows)"] = time.perf_counter() - started

    # The contract: the same features as on the whole history.
    full_frame, full_targets = selectors.frame_with_history(race_ids=race_ids)
    full = features.build_features(full_frame, targets=full_targets & ~full_frame["non_runner"])
    same = full_frame.loc[full.index, "runner_id"].tolist() == frame.loc[
        fast.index, "runner_id"
    ].tolist() and full.reset_index(drop=True).equals(fast.reset_index(drop=True))
    return {"parts": parts, "same_features": same}


def versions_train(algorithms: list[str], train_from: datetime.date) -> list[int]:
    from predictions.services.versions import model_version_train_new

    ids = []
    for algorithm in algorithms:
        started = time.perf_counter()
        version = model_version_train_new(
            algorithm=algorithm, train_until=TRAIN_UNTIL, train_from=train_from
        )
        print(
            f"trained {algorithm} ({train_from} to {TRAIN_UNTIL}) in "
            f"{time.perf_counter() - started:.1f} s"
        )
        ids.append(version.pk)
    return ids


def versions_delete(ids: list[int]) -> None:
    from predictions.models import ModelVersion, Prediction

    Prediction.objects.filter(model_version__in=ids).delete()
    ModelVersion.objects.filter(pk__in=ids).delete()


def run_child(code_dir: Path, algorithms: list[str], stages: bool) -> dict:
    command = [sys.executable, __file__, "--measure", str(code_dir), "--algorithms", *algorithms]
    if stages:
        command.append("--stages")
    out = subprocess.run(command, check=True, capture_output=True, text=True, cwd=code_dir)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline-dir", type=Path)
    parser.add_argument("--algorithms", nargs="+", default=["logit"])
    parser.add_argument(
        "--train-from", type=datetime.date.fromisoformat, default=datetime.date(2002, 9, 1)
    )
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--measure", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--stages", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.measure:
        django_setup(args.measure)
        print(json.dumps(measure(args.algorithms, args.stages)))
        return

    django_setup(ROOT)
    from django.db import connection

    print(
        f"database: {connection.vendor} {connection.settings_dict['NAME']}; cores: {os.cpu_count()}"
    )
    ids = versions_train(args.algorithms, args.train_from)
    codes = {"this code": ROOT}
    if args.baseline_dir:
        codes["baseline"] = args.baseline_dir.resolve()
    results: dict[str, list[dict]] = {name: [] for name in codes}
    try:
        for round_ in range(args.rounds):
            for name, code_dir in codes.items():
                results[name].append(
                    run_child(code_dir, args.algorithms, stages=name == "this code" and round_ == 0)
                )
    finally:
        versions_delete(ids)

    first = results["this code"][0]
    print(
        f"card: {first['races']} races, {first['predictions']} predictions; "
        f"history: {first['history']:,} settled starters; {args.rounds} rounds, medians"
    )
    medians = {}
    for name, runs in results.items():
        medians[name] = {k: statistics.median(r[k] for r in runs) for k in ("cold", "warm")}
        rounds = ", ".join(f"{r['warm']:.3f}" for r in runs)
        print(
            f"{name:<10} cold {medians[name]['cold']:6.2f} s   "
            f"warm {medians[name]['warm']:6.3f} s   (warm per round: {rounds})"
        )
    if "baseline" in medians:
        for key in ("cold", "warm"):
            ratio = medians["baseline"][key] / medians["this code"][key]
            print(f"{key}: baseline / this code = {ratio:.1f}x")
    print(f"features equal to the whole-history build: {first['stages']['same_features']}")
    print("this code's warm refresh by stage (round 1):")
    for stage, seconds in first["stages"]["parts"].items():
        print(f"  {stage:<40} {seconds:.3f} s")


if __name__ == "__main__":
    main()
