"""Queries and server time of each member page, on whatever data the database holds.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/hrp_hk \\
        .venv/bin/python benchmarks/bench_pages.py [--repeat 5]

Reads only (it makes one member login, `bench-member`, if missing). Picks the day with the most
races, its largest field, and the horse, jockey and trainer with the most runs, then requests each
page through Django's test client as a logged-in member: the number of SQL queries (session and
user included) and the median milliseconds over the repeats, after one warm-up request.
"""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hrp_site.settings")
os.environ.setdefault("DJANGO_ALLOWED_HOSTS", "testserver")

import django  # noqa: E402

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.db import connection  # noqa: E402
from django.db.models import Count  # noqa: E402
from django.test import Client, override_settings  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from races.models import Horse, Jockey, Race, Trainer  # noqa: E402


# The manifest storage needs collectstatic (the image build); the pages' static URLs do not matter.
@override_settings(
    STORAGES={
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
)
def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    busiest = Race.objects.values("meeting_date").annotate(n=Count("pk")).order_by("-n").first()
    if busiest is None:
        sys.exit("the database holds no races: import or seed some first")
    day = busiest["meeting_date"]
    biggest = Race.objects.annotate(n=Count("runners")).order_by("-n", "-meeting_date").first()
    horse = Horse.objects.annotate(n=Count("runs")).order_by("-n").first()
    jockey = Jockey.objects.annotate(n=Count("rides")).order_by("-n").first()
    trainer = Trainer.objects.annotate(n=Count("runners")).order_by("-n").first()

    member, created = get_user_model().objects.get_or_create(username="bench-member")
    if created:
        member.set_unusable_password()
        member.save()
    client = Client()
    client.force_login(member)

    pages = [
        ("home (watchlist)", "/"),
        (f"day view {day} ({busiest['n']} races)", f"/racing/{day:%Y-%m-%d}/"),
        (f"race card {biggest} ({biggest.n} runners)", f"/racing/race/{biggest.pk}/"),
        ("  sorted by edge", f"/racing/race/{biggest.pk}/?sort=-edge"),
        (f"horse {horse} ({horse.n} runs)", f"/horses/{horse.pk}/"),
        (f"jockey {jockey} ({jockey.n} rides)", f"/jockeys/{jockey.pk}/"),
        (f"trainer {trainer} ({trainer.n} runners)", f"/trainers/{trainer.pk}/"),
        ("search", "/search/?q=10"),
        ("model performance", "/models/"),
    ]
    print(f"database: {connection.vendor} {connection.settings_dict['NAME']}")
    print(f"{'page':50} {'status':>6} {'queries':>7} {'median ms':>9}")
    for label, path in pages:
        client.get(path)
        times, queries, status = [], 0, 0
        for _ in range(args.repeat):
            with CaptureQueriesContext(connection) as captured:
                started = time.perf_counter()
                response = client.get(path)
                times.append((time.perf_counter() - started) * 1000)
            queries, status = len(captured.captured_queries), response.status_code
        print(f"{label[:50]:50} {status:>6} {queries:>7} {statistics.median(times):>9.0f}")


if __name__ == "__main__":
    main()
