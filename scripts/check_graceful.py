"""SIGTERM to gunicorn under load, as a deploy sends it: count the requests that fail.

Starts private PostgreSQL and Redis, then the web service exactly as the Dockerfile's CMD starts
it, loads it with five keep-alive clients, sends SIGTERM to the master after a few seconds and
counts, per request: sent and answered, sent and never answered (the connection closed or reset
under it), answered with a 5xx, and connections refused (no request sent: the listener is gone).
A failed request is one sent and not answered, or answered 5xx; the script exits 1 if any.

Then the same with wrk (-c5) when it is installed, whose figures are printed for comparison
only: wrk retries a refused connection in a tight loop and counts each refusal as a socket error
("write", and a few as "read"), though no request was sent on it. Against a server that never
drops a request but closes its listener, wrk reports the same pattern (read 3-4, write ~20000).

    .venv/bin/python scripts/check_graceful.py [--rounds N]
"""

import argparse
import http.client
import json
import re
import shutil
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from hrp_site.testing import processes  # noqa: E402

CLIENTS = 5
LOAD_BEFORE_TERM = 3.0
PATH = "/"  # the landing page: a database read and a template, as most pages are


def load_client(port: int, stop: threading.Event, counts: Counter, lock: threading.Lock):
    """One client that keeps a connection alive and reopens it whenever the server closes it."""
    connection = None
    while not stop.is_set():
        if connection is None:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            try:
                connection.connect()
            except ConnectionRefusedError:
                with lock:
                    counts["refused (nothing sent)"] += 1
                connection = None
                time.sleep(0.05)
                continue
            reused = False
        else:
            reused = True
        try:
            connection.request("GET", PATH)
        except OSError:
            # The write itself failed: the server had closed the connection, nothing was read.
            with lock:
                counts["closed before the request could be written"] += 1
            connection.close()
            connection = None
            continue
        with lock:
            counts["sent"] += 1
        try:
            response = connection.getresponse()
            response.read()
        except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError) as error:
            kind = "reused keep-alive connection" if reused else "new connection"
            with lock:
                counts[f"FAILED: sent, not answered ({type(error).__name__}, {kind})"] += 1
            connection.close()
            connection = None
            continue
        with lock:
            counts["answered"] += 1
            if response.status >= 500:
                counts[f"FAILED: answered {response.status}"] += 1
        if response.getheader("Connection", "").lower() == "close":
            with lock:
                counts["answered with Connection: close"] += 1
            connection.close()
            connection = None


def warm_up(web: processes.Gunicorn) -> None:
    # The first requests of a fresh worker load the URLconf, views and templates; slow ones
    # would only blur the figures (wrk reports answers slower than its time-out as errors).
    for _ in range(20):
        processes.http_get(f"{web.url}{PATH}", timeout=60)


def python_round(web: processes.Gunicorn) -> tuple[Counter, float, int]:
    counts: Counter = Counter()
    lock = threading.Lock()
    stop = threading.Event()
    threads = [
        threading.Thread(target=load_client, args=(web.port, stop, counts, lock), daemon=True)
        for _ in range(CLIENTS)
    ]
    for thread in threads:
        thread.start()
    time.sleep(LOAD_BEFORE_TERM)
    with lock:
        before = counts["answered"]
    started = time.monotonic()
    code = web.terminate(timeout=90)
    stopped = time.monotonic() - started
    stop.set()
    for thread in threads:
        thread.join(timeout=70)
    counts["answered before SIGTERM"] = before
    return counts, stopped, code


def served_count(log) -> int:
    """Requests for PATH answered 200, from the app's JSON request lines (gunicorn's own access
    log is off: the app logs every request with its id)."""
    served = 0
    for line in log:
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if entry.get("logger") == "hrp.request" and entry.get("path") == PATH:
            served += entry.get("status") == 200
    return served


def wrk_round(web: processes.Gunicorn) -> tuple[str, float, int]:
    wrk = subprocess.Popen(
        ["wrk", "-t1", "-c5", "-d10s", "--timeout", "30s", f"{web.url}{PATH}"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    time.sleep(LOAD_BEFORE_TERM)
    started = time.monotonic()
    code = web.terminate(timeout=90)
    stopped = time.monotonic() - started
    output, _ = wrk.communicate(timeout=60)
    return output, stopped, code


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=1, help="SIGTERMs under the Python client")
    arguments = parser.parse_args()

    missing = processes.missing_binaries()
    if missing:
        print(f"check_graceful: missing {missing}", file=sys.stderr)
        return 2
    failed = 0
    with processes.private_site() as env:
        command = " ".join(processes.dockerfile_web_command()[2:])
        print(f"gunicorn as the Dockerfile starts it: {command}")

        for round_number in range(1, arguments.rounds + 1):
            web = processes.Gunicorn(env=env)
            try:
                web.start()
                warm_up(web)
                counts, stopped, code = python_round(web)
            finally:
                web.close()
            failures = sum(n for key, n in counts.items() if key.startswith("FAILED"))
            failed += failures
            print(
                f"\n== Python client, round {round_number}: {CLIENTS} keep-alive clients, "
                f"SIGTERM after {LOAD_BEFORE_TERM:.0f} s; master exited {code} "
                f"{stopped:.2f} s after SIGTERM"
            )
            for key, value in sorted(counts.items()):
                print(f"   {key}: {value}")
            print(f"   failed requests: {failures}")

        if shutil.which("wrk"):
            # INFO, so the app writes its request lines, which the count below reads.
            web = processes.Gunicorn(env={**env, "DJANGO_LOG_LEVEL": "INFO"})
            try:
                web.start()
                warm_up(web)
                warm_log = web.log.stat().st_size
                output, stopped, code = wrk_round(web)
                with web.log.open() as log:
                    log.seek(warm_log)
                    served = served_count(log)
            finally:
                web.close()
            print(
                f"\n== wrk -c5, SIGTERM after {LOAD_BEFORE_TERM:.0f} s; master exited {code} "
                f"{stopped:.2f} s after SIGTERM"
            )
            print("   " + "\n   ".join(output.strip().splitlines()))
            errors = re.search(r"Socket errors: (.*)", output)
            non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
            completed = re.search(r"(\d+) requests in", output)
            received = int(completed.group(1)) if completed else 0
            print(
                f"   wrk socket errors: {errors.group(1) if errors else 'none'}; "
                f"non-2xx/3xx: {non_2xx.group(1) if non_2xx else 0}; "
                f"completed by wrk: {received}, answered 200 by the app (request log): {served}"
            )
            # A request the app answered that wrk never received is a failed one; wrk counts
            # refused reconnects as socket errors, which are not.
            lost = max(served - received, 0) + int(non_2xx.group(1) if non_2xx else 0)
            print(f"   failed requests: {lost}")
            failed += lost if served else 1  # no request line at all: the count cannot be trusted
        else:
            print("\nwrk is not installed; its round is skipped")

    print(f"\ncheck_graceful: {failed} failed request(s)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
