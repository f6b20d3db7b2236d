"""Requests per second and latency of the race detail API and the race card page under load,
beside a bare Django JSON view on the same stack (the yardstick), on gunicorn started as the image
starts it (two workers of four threads) over a private PostgreSQL and Redis.

    .venv/bin/python benchmarks/bench_http.py [--versions 500] [--seconds 5] [--rounds 3]
        [--connections 20] [--baseline-dir DIR]

Seeds the demo race days (30 days of history, today and tomorrow declared), takes the declared
race with the most runners, and adds `--versions` ready model versions spread over the five
algorithms, each with evaluation-sized metrics (12 windows of calibration and day-by-day
returns), and the predictions of the versions its day shows. Then wrk, with `--connections`
connections for `--seconds`, against (a) /bench/bare/ (benchmarks/urls_http.py, not a product
URL), (b) /api/v1/races/<id>/ with a token and (c) the race card page with a member's session,
in `--rounds` interleaved rounds. With `--baseline-dir` (a checkout of other code, e.g. a git
worktree of main), (b) and (c) are also run against gunicorn started from there, in the same
rounds and on the same database. Prints req/s, p50 and p99 (medians over the rounds) per target
and its req/s as a share of the bare view's.
"""

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from hrp_site.testing import processes  # noqa: E402

SEED = """
import datetime, json
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import Count
from django.test import Client
from django.utils import timezone
from knox.models import AuthToken

from predictions.models import ModelVersion, Prediction
from races.demo import demo_data_seed
from races.models import Race

VERSIONS = {versions}
today = timezone.localdate()
demo_data_seed(today=today, days_ahead=1, history_days=30)
race = (
    Race.objects.filter(meeting_date__gte=today, status=Race.Status.DECLARED)
    .annotate(n=Count("runners"))
    .order_by("-n", "pk")
    .first()
)
day = race.meeting_date


def metrics(seed):
    evaluations = {{}}
    for window in range(12):
        start = day - datetime.timedelta(400 - 30 * window)
        days = [(start + datetime.timedelta(d)).isoformat() for d in range(30)]
        by_day = [
            {{"day": d, "bets": 3, "staked": 3.0, "returned": 2.5, "profit": -0.5,
              "cumulative_profit": -0.5 * (i + 1)}}
            for i, d in enumerate(days)
        ]
        evaluations[f"window-{{window}}"] = {{
            "from": days[0], "to": days[-1], "races": 40, "runners": 480,
            "log_loss": 2.0 + seed / 10000, "market_log_loss": 2.05, "pseudo_r2": 0.1,
            "calibration": [
                {{"bin": b, "count": 48, "lower": b / 10, "upper": (b + 1) / 10,
                  "mean_predicted": b / 10 + 0.05, "observed_win_rate": b / 10 + 0.04}}
                for b in range(10)
            ],
            "returns": {{
                "top_pick": {{"bets": 90, "roi": -0.05, "by_day": by_day}},
                "value": {{"bets": 90, "roi": 0.02, "by_day": by_day}},
            }},
        }}
    return {{"log_loss": 2.0, "evaluations": evaluations}}


algorithms = list(ModelVersion.Algorithm.values)
versions = ModelVersion.objects.bulk_create(
    ModelVersion(
        algorithm=algorithms[i % len(algorithms)],
        train_until=day - datetime.timedelta(1 + i // len(algorithms)),
        status=ModelVersion.Status.READY,
        is_active=i < len(algorithms),
        metrics=metrics(i),
    )
    for i in range(VERSIONS)
)
runners = list(race.runners.all())
Prediction.objects.bulk_create(
    Prediction(
        runner=runner, model_version=version, win_probability=1 / len(runners),
        place_probability=3 / len(runners), rank=rank, fair_odds=len(runners), edge=0.05,
    )
    for version in versions[: len(algorithms)]
    for rank, runner in enumerate(runners, start=1)
)
user = get_user_model().objects.create_user(username="bench-member", password="a-long-bench-pw")
client = Client()
client.force_login(user)
name = settings.SESSION_COOKIE_NAME
metrics_kb = len(json.dumps(versions[0].metrics)) // 1024
print(json.dumps({{
    "race": race.pk, "runners": len(runners), "versions": ModelVersion.objects.count(),
    "metrics_kb": metrics_kb, "token": AuthToken.objects.create(user)[1],
    "cookie": f"{{name}}={{client.cookies[name].value}}",
}}))
"""

UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}


class GunicornFrom(processes.Gunicorn):
    """gunicorn started as the image starts it, from another checkout of the code."""

    def __init__(self, *, env: dict[str, str], directory: Path) -> None:
        super().__init__(env=env)
        self.directory = directory

    def start(self, *, timeout: float = 60) -> None:
        self.process = subprocess.Popen(
            processes.dockerfile_web_command(),
            cwd=self.directory,
            env=self.env,
            stdin=subprocess.DEVNULL,
            stdout=self.log.open("ab"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        processes.wait_for(self._answers, timeout=timeout, what="gunicorn start")


def wrk(url: str, header: str, connections: int, seconds: int) -> dict[str, float]:
    output = subprocess.run(
        ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", "-H", header, url],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    if errors:
        sys.exit(f"{url}: {errors.group(1)} answers were not 2xx/3xx:\n{output}")

    def latency(percent: str) -> float:
        found = re.search(rf"^\s+{percent}%\s+([\d.]+)(us|ms|s|m)\s*$", output, re.M)
        if found is None:
            sys.exit(f"{url}: no {percent}% latency in wrk's output:\n{output}")
        return float(found.group(1)) * UNITS[found.group(2)]

    return {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1)),
        "p50": latency("50"),
        "p99": latency("99"),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--versions", type=int, default=500)
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=20)
    parser.add_argument("--baseline-dir", type=Path, help="another checkout to compare with")
    args = parser.parse_args()

    servers = []
    # The limit is not what is measured: far above what the load can reach.
    with processes.private_site(DJANGO_API_THROTTLE_USER="100000000/minute") as env:
        try:
            seed = processes.manage(
                "shell", "-c", SEED.format(versions=args.versions), env=env, timeout=600
            )
            data = json.loads(seed.splitlines()[-1])
            token = f"Authorization: Token {data['token']}"
            cookie = f"Cookie: {data['cookie']}"
            current = processes.Gunicorn(
                env={**env, "DJANGO_SETTINGS_MODULE": "benchmarks.settings_http"}
            )
            servers.append(current)
            targets = [
                ("bare Django JSON view", current, "/bench/bare/", cookie),
                ("race detail API", current, f"/api/v1/races/{data['race']}/", token),
                ("race card page", current, f"/racing/race/{data['race']}/", cookie),
            ]
            if args.baseline_dir:
                baseline = GunicornFrom(env=env, directory=args.baseline_dir.resolve())
                # Its pages need its own hashed static files' manifest, as the image build makes it.
                subprocess.run(
                    [sys.executable, "manage.py", "collectstatic", "--no-input"],
                    cwd=baseline.directory,
                    env=env,
                    capture_output=True,
                    check=True,
                    timeout=300,
                )
                servers.append(baseline)
                targets += [
                    ("race detail API (baseline)", baseline, targets[1][2], token),
                    ("race card page (baseline)", baseline, targets[2][2], cookie),
                ]
            for server in servers:
                server.start()
            for _, server, path, header in targets:  # warm-up: connections, imports, caches
                wrk(server.url + path, header, args.connections, 1)
            results = {label: [] for label, *_ in targets}
            for _ in range(args.rounds):
                for label, server, path, header in targets:
                    results[label].append(
                        wrk(server.url + path, header, args.connections, args.seconds)
                    )
        finally:
            for server in servers:
                server.close()

    print(
        f"\n{data['versions']} model versions ({data['metrics_kb']} KB of metrics each), race "
        f"{data['race']} with {data['runners']} runners; wrk {args.connections} connections, "
        f"{args.rounds} interleaved rounds of {args.seconds} s, {os.cpu_count()} CPUs; "
        "medians over the rounds"
    )
    print(f"{'target':<30} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'/ bare':>7}")
    bare = statistics.median(r["rps"] for r in results["bare Django JSON view"])
    for label, rounds in results.items():
        rps = statistics.median(r["rps"] for r in rounds)
        p50 = statistics.median(r["p50"] for r in rounds)
        p99 = statistics.median(r["p99"] for r in rounds)
        print(f"{label:<30} {rps:>8.1f} {p50:>8.1f} {p99:>8.1f} {rps / bare:>7.2f}")


if __name__ == "__main__":
    main()
