"""Time and memory of `import_hkracing` on the whole shared Hong Kong set.

    .venv/bin/python benchmarks/bench_import_hkracing.py            # SQLite in /tmp
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/hrp_bench .venv/bin/python benchmarks/...

The database named by DATABASE_URL is migrated and its race data deleted first: point it at a
scratch database (an empty one, for a clean memory figure: deleting old rows loads them).
Prints the first (empty database) and second (nothing changes) run.
"""

import argparse
import os
import resource
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

from races.models import Horse, Jockey, Race, Racecourse, Runner, Trainer  # noqa: E402
from races.services.hkracing_import import hkracing_folder_import  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared/data/hkracing")
    args = parser.parse_args()

    call_command("migrate", verbosity=0)
    for model in (Runner, Race, Horse, Jockey, Trainer, Racecourse):
        model.objects.all().delete()
    print(f"database: {connection.vendor} {connection.settings_dict['NAME']}")
    print(f"cores: {os.cpu_count()}")
    print(
        f"resident memory before importing (Django and the ML libraries loaded): {_rss_mib()} MiB"
    )
    for label in ("first import (empty database)", "second import (no changes)"):
        started = time.perf_counter()
        report = hkracing_folder_import(folder=args.data)
        elapsed = time.perf_counter() - started
        runners = report.counts["runners"]
        peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(
            f"{label}: {elapsed:.1f} s, {Race.objects.count()} races, "
            f"{Runner.objects.count()} runners ({runners.created} created, "
            f"{runners.updated} updated, {runners.unchanged} unchanged), "
            f"{(runners.created + runners.updated + runners.unchanged) / elapsed:,.0f} runners/s, "
            f"peak RSS of the process so far {peak_mib:.0f} MiB"
        )


def _rss_mib() -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) // 1024
    return -1


if __name__ == "__main__":
    main()
