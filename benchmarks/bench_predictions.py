"""Time features + training of each algorithm, and refreshing a 10-race card, on Hong Kong data.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/hrp_bench \\
        .venv/bin/python benchmarks/bench_predictions.py [--algorithms logit lightgbm ...]

The database must hold the shared Hong Kong set (`manage.py import_hkracing`); the script imports
it when the database has none. It trains on seasons 1-5 (up to 2003-03-23, ~57,000 runners), then
refreshes the first ten races of season 6 with those versions, and prints the seconds.
"""

import argparse
import datetime
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hrp_site.settings")
os.environ.setdefault("DATABASE_URL", "sqlite:////tmp/hrp-bench.sqlite3")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402

from predictions import selectors  # noqa: E402
from predictions.ml import features  # noqa: E402
from predictions.models import ModelVersion, Prediction  # noqa: E402
from predictions.services.refresh import predictions_refresh  # noqa: E402
from predictions.services.versions import model_version_train_new  # noqa: E402
from races.models import ExternalRecord, Race  # noqa: E402

TRAIN_UNTIL = datetime.date(2003, 3, 23)
CARD_DAY = datetime.date(2003, 6, 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--algorithms", nargs="+", default=list(ModelVersion.Algorithm.values))
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared/data/hkracing")
    args = parser.parse_args()

    call_command("migrate", verbosity=0)
    if not Race.objects.filter(source=ExternalRecord.Source.HKRACING).exists():
        call_command("import_hkracing", args.data, "--no-progress", verbosity=0)
    print(
        f"database: {connection.vendor} {connection.settings_dict['NAME']}; cores: {os.cpu_count()}"
    )

    started = time.perf_counter()
    frame = selectors.training_frame(train_until=TRAIN_UNTIL)
    read = time.perf_counter() - started
    started = time.perf_counter()
    features.build_features(frame)
    built = time.perf_counter() - started
    print(
        f"training frame: {len(frame):,} runners, read in {read:.2f} s; features in {built:.2f} s"
    )

    versions = []
    for algorithm in args.algorithms:
        started = time.perf_counter()
        version = model_version_train_new(algorithm=algorithm, train_until=TRAIN_UNTIL)
        elapsed = time.perf_counter() - started
        versions.append(version)
        print(f"train {algorithm:<9} (read + features + fit + store): {elapsed:6.1f} s")

    card = list(
        Race.objects.filter(meeting_date__gte=CARD_DAY)
        .order_by("meeting_date", "race_number", "pk")
        .values_list("pk", flat=True)[:10]
    )
    names = [v.algorithm for v in versions]
    for attempt in ("first (loads the artifacts)", "second (artifacts cached)"):
        started = time.perf_counter()
        report = predictions_refresh(race_ids=card, algorithms_to_use=names)
        elapsed = time.perf_counter() - started
        print(
            f"refresh a {report.races}-race card, {len(names)} models, {attempt}: "
            f"{elapsed:.2f} s ({report.predictions} predictions)"
        )
    Prediction.objects.filter(model_version__in=versions).delete()
    ModelVersion.objects.filter(pk__in=[v.pk for v in versions]).delete()


if __name__ == "__main__":
    main()
