"""How many requests get through a 600/minute user limit under 20 concurrent connections for
15 s: DRF's stock UserRateThrottle (benchmarks/settings_stock_throttles.py) against ours
(hrp_site.throttling), one after the other in the same run, each on gunicorn started as the image
starts it (two workers of four threads) over a private PostgreSQL and Redis.

    .venv/bin/python benchmarks/bench_throttle.py [--connections 20] [--seconds 15] [--limit 600]

Uses wrk when it is installed, else Python threads. Each run starts early in a minute, so it falls
in one of the fixed windows of ours. Prints, for each, the requests made, how many got a 200, and
that number over the limit (1.00 is exact).
"""

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from hrp_site.testing import processes  # noqa: E402

MAKE_TOKENS = """
import json
from django.contrib.auth import get_user_model
from knox.models import AuthToken

User = get_user_model()
tokens = {}
for name in ("stock", "ours"):
    user = User.objects.create_user(username=f"bench-{name}", password="a-long-bench-password")
    tokens[name] = AuthToken.objects.create(user)[1]
print(json.dumps(tokens))
"""

PATH = "/api/v1/racecourses/"


def wait_for_a_window(seconds: float) -> None:
    """Sleep until a minute starts if fewer than `seconds` (+ 2) are left of this one."""
    into = time.time() % 60
    if into > 58 - seconds:
        time.sleep(60 - into + 0.2)


def load_wrk(url: str, token: str, connections: int, seconds: int) -> tuple[int, int]:
    output = subprocess.run(
        [
            "wrk",
            f"-t{min(4, connections)}",
            f"-c{connections}",
            f"-d{seconds}s",
            "-H",
            f"Authorization: Token {token}",
            url + PATH,
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    total = int(re.search(r"(\d+) requests in", output).group(1))
    refused = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    return total, total - (int(refused.group(1)) if refused else 0)


def load_threads(url: str, token: str, connections: int, seconds: int) -> tuple[int, int]:
    headers = {"Authorization": f"Token {token}"}
    counts = {"total": 0, "ok": 0}
    lock = threading.Lock()
    deadline = time.monotonic() + seconds

    def client() -> None:
        while time.monotonic() < deadline:
            status = processes.http_get(url + PATH, headers=headers, timeout=30)[0]
            with lock:
                counts["total"] += 1
                counts["ok"] += status == 200

    threads = [threading.Thread(target=client) for _ in range(connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return counts["total"], counts["ok"]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--connections", type=int, default=20)
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--limit", type=int, default=600)
    args = parser.parse_args()
    load = load_wrk if shutil.which("wrk") else load_threads

    with processes.private_site(DJANGO_API_THROTTLE_USER=f"{args.limit}/minute") as env:
        tokens = json.loads(processes.manage("shell", "-c", MAKE_TOKENS, env=env).splitlines()[-1])
        results = {}
        for name, settings_module in (
            ("stock", "benchmarks.settings_stock_throttles"),
            ("ours", "hrp_site.settings"),
        ):
            web = processes.Gunicorn(env={**env, "DJANGO_SETTINGS_MODULE": settings_module})
            try:
                web.start()
                wait_for_a_window(args.seconds)
                results[name] = load(web.url, tokens[name], args.connections, args.seconds)
            finally:
                web.close()

    print(
        f"\n{args.connections} connections for {args.seconds} s, user limit {args.limit}/minute "
        f"({load.__name__.removeprefix('load_')}, {os.cpu_count()} CPUs)"
    )
    print(f"{'throttle':<34} {'requests':>9} {'got through':>12} {'/ limit':>8}")
    names = {
        "stock": "DRF UserRateThrottle (stock)",
        "ours": "hrp_site.throttling (atomic)",
    }
    for name, (total, through) in results.items():
        print(f"{names[name]:<34} {total:>9} {through:>12} {through / args.limit:>8.2f}")
    stock, ours = results["stock"][1], results["ours"][1]
    print(f"\nstock lets through {stock / max(ours, 1):.2f}x as many as ours")


if __name__ == "__main__":
    main()
