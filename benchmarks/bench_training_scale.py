"""Seconds and peak memory of training each algorithm at scale, beside a baseline checkout.

    python benchmarks/hkracing_tenfold.py /tmp/hk12 --copies 12      # 799,644 runners
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/hrp_scale python manage.py migrate
    DATABASE_URL=... python manage.py import_hkracing /tmp/hk12 --no-progress
    DATABASE_URL=... python benchmarks/bench_training_scale.py [--baseline-dir /work/main]
        [--algorithms logit lightgbm ...]

Each step runs in a fresh Python process, so its peak resident memory (the child's VmHWM) is its
own: "features" reads the training frame and builds the features; each algorithm runs what
`train_model` runs (`model_version_train_new`: read, features, fit, store the artifact) on every
settled race, and its version is deleted afterwards. With `--baseline-dir` the same step runs
right after (or with `--side-by-side` at the same time) on that checkout's code (its own process,
its directory first on sys.path) against the same database, and the ratios new / baseline are
printed. The worker has 2 GB; the target is
a peak under 1.5 GB.
"""

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET_MIB = 1536


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--algorithms", nargs="+", help="default: every ModelVersion.Algorithm")
    parser.add_argument("--baseline-dir", type=Path, help="a checkout to compare with (main)")
    parser.add_argument("--skip-features", action="store_true", help="only the algorithms")
    parser.add_argument(
        "--side-by-side",
        action="store_true",
        help="run the baseline's step at the same time as the new one (same contention, half "
        "the wall time), not after it",
    )
    parser.add_argument(
        "--trees",
        type=int,
        help="boosted trees (LightGBM, XGBoost, Benter's first stage) with this many trees "
        "instead of 800, a checkpoint every trees/32: the same out-of-fold matrix, so about the "
        "same peak memory, in a fraction of the time",
    )
    parser.add_argument("--child", nargs=2, metavar=("CODE_DIR", "STEP"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child(Path(args.child[0]), args.child[1], args.trees)
        return
    algorithms = args.algorithms or _algorithms()

    checkouts = [("new", ROOT)]
    if args.baseline_dir:
        checkouts.append(("baseline", args.baseline_dir.resolve()))
    steps = ([] if args.skip_features else ["features"]) + algorithms
    database = os.environ.get("DATABASE_URL", "(the settings' default)")
    print(f"database: {database}; cores: {os.cpu_count()}")
    print(f"checkouts: {', '.join(f'{label} {path}' for label, path in checkouts)}")
    print(f"{'step':<10} {'checkout':<9} {'runners':>9} {'seconds':>9} {'peak MiB':>9}  target")
    for step in steps:
        if args.side_by_side:
            children = [
                (label, _start_child(code_dir, step, args.trees)) for label, code_dir in checkouts
            ]
            results = {label: _result(child) for label, child in children}
        else:
            results = {
                label: _result(_start_child(code_dir, step, args.trees))
                for label, code_dir in checkouts
            }
        for label, result in results.items():
            if "error" in result:
                print(f"{step:<10} {label:<9} failed: {result['error']}")
                continue
            verdict = "ok" if result["peak_mib"] < TARGET_MIB else "OVER"
            print(
                f"{step:<10} {label:<9} {result['runners']:>9,} {result['seconds']:>9.1f} "
                f"{result['peak_mib']:>9,.0f}  {verdict}",
                flush=True,
            )
        new, base = results.get("new", {}), results.get("baseline", {})
        if "seconds" in new and "seconds" in base:
            print(
                f"{step:<10} {'ratio':<9} {'':>9} {new['seconds'] / base['seconds']:>9.2f} "
                f"{new['peak_mib'] / base['peak_mib']:>9.2f}  (new / baseline)",
                flush=True,
            )


def _algorithms() -> list[str]:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hrp_site.settings")
    import django

    django.setup()
    from predictions.models import ModelVersion

    return list(ModelVersion.Algorithm.values)


def _start_child(code_dir: Path, step: str, trees: int | None) -> subprocess.Popen:
    """Start one step in a fresh interpreter on `code_dir`'s code."""
    command = [sys.executable, str(Path(__file__).resolve()), "--child", str(code_dir), step]
    if trees:
        command += ["--trees", str(trees)]
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "hrp_site.settings"}
    return subprocess.Popen(
        command, cwd=code_dir, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def _result(child: subprocess.Popen) -> dict:
    """The child's result: its last stdout line is JSON."""
    stdout, stderr = child.communicate()
    if child.returncode != 0:
        return {"error": (stderr.strip().splitlines() or ["no output"])[-1]}
    return json.loads(stdout.strip().splitlines()[-1])


def _child(code_dir: Path, step: str, trees: int | None) -> None:
    """One step on `code_dir`'s code: read + features, or read + features + fit + store."""
    sys.path.insert(0, str(code_dir))
    import django

    django.setup()
    from predictions import selectors
    from predictions.ml import features
    from predictions.models import ModelVersion
    from predictions.services.versions import model_version_train_new

    train_until = selectors.last_settled_day()
    started = time.perf_counter()
    if step == "features":
        frame = selectors.training_frame(train_until=train_until)
        features.build_features(frame)
        runners = len(frame)
    else:
        version = model_version_train_new(
            algorithm=step, train_until=train_until, hyperparameters=_hyperparameters(step, trees)
        )
        runners = version.metrics["training"]["runners"]
        ModelVersion.objects.filter(pk=version.pk).delete()
    seconds = time.perf_counter() - started
    result = {"runners": runners, "seconds": seconds, "peak_mib": _peak_mib()}
    print(json.dumps(result))


def _hyperparameters(step: str, trees: int | None) -> dict:
    if not trees:
        return {}
    boosted = {"n_estimators": trees, "tree_step": max(1, trees // 32)}
    if step in ("lightgbm", "xgboost"):
        return boosted
    if step == "benter":
        return {"first_stage_params": boosted}
    return {}


def _peak_mib() -> float:
    """This process's peak resident memory (VmHWM), in MiB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM in /proc/self/status")


if __name__ == "__main__":
    main()
