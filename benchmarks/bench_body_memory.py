"""What large anonymous POSTs cost a web worker's memory: gunicorn started as the Dockerfile
starts it, but with one worker, on a private port and a SQLite database of its own; eight
concurrent 30 MB form posts to the log-in page (each with the CSRF cookie and token a visitor
gets from the page, so the body is read); the worker's peak and current resident memory
(VmHWM, VmRSS from /proc/<pid>/status) before and after.

Run once with benchmarks/settings_32mb_bodies.py (the 32 MB body limits the settings had) as the
baseline, then with the project's settings (Django's 2.5 MB).

    HRP_TEST_PORTS=62100-62199 .venv/bin/python benchmarks/bench_body_memory.py \
        [--mb 30] [--posts 8]
"""

import argparse
import concurrent.futures
import contextlib
import http.client
import re
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from hrp_site.testing.processes import Gunicorn, app_environment, deploy, wait_for  # noqa: E402

SETTINGS = [
    ("32 MB limits (baseline)", "benchmarks.settings_32mb_bodies"),
    ("Django's limits (now)", "hrp_site.settings"),
]


def memory_mb(pid: int) -> dict[str, float]:
    status = Path(f"/proc/{pid}/status").read_text()
    return {
        key: int(re.search(rf"^{key}:\s+(\d+) kB", status, re.MULTILINE).group(1)) / 1024
        for key in ("VmHWM", "VmRSS")
    }


def worker_pid(master: int) -> int:
    children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    return int(children[0]) if len(children) == 1 else 0


def csrf_cookie(port: int) -> str:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    connection.request("GET", "/accounts/login/")
    response = connection.getresponse()
    response.read()
    cookie = response.getheader("Set-Cookie")
    connection.close()
    return re.search(r"csrftoken=([A-Za-z0-9]+)", cookie).group(1)


def post(port: int, token: str, size: int) -> str:
    """One anonymous log-in with `size` bytes of padding; the status, or how the server ended it."""
    fields = f"csrfmiddlewaretoken={token}&username=bench&password=not-the-password&padding="
    body = fields.encode() + b"x" * (size - len(fields))
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    # Refused before the body is read, the server closes the connection under the sender; its
    # answer may still be waiting.
    with contextlib.suppress(BrokenPipeError, ConnectionResetError):
        connection.request(
            "POST",
            "/accounts/login/",
            body=body,
            headers={
                "Content-Type": "application/x-www-form-urlencoded",
                "Cookie": f"csrftoken={token}",
            },
        )
    try:
        response = connection.getresponse()
        response.read()
        return str(response.status)
    except (ConnectionResetError, http.client.HTTPException) as error:
        return f"closed unanswered ({type(error).__name__})"
    finally:
        connection.close()


def measure(label: str, settings_module: str, *, database_url: str, size: int, posts: int):
    env = app_environment(
        database_url=database_url,
        redis_url="",
        DJANGO_SETTINGS_MODULE=settings_module,
        WEB_CONCURRENCY="1",
        CELERY_TASK_ALWAYS_EAGER="true",
    )
    env["PYTHONPATH"] = str(ROOT)
    web = Gunicorn(env=env)
    try:
        web.start()
        pid = wait_for(lambda: worker_pid(web.process.pid), timeout=30, what="the worker")
        token = csrf_cookie(web.port)
        before = memory_mb(pid)
        started = time.perf_counter()
        with concurrent.futures.ThreadPoolExecutor(posts) as pool:
            statuses = list(pool.map(lambda _: post(web.port, token, size), range(posts)))
        seconds = time.perf_counter() - started
        time.sleep(1)
        after = memory_mb(pid)
    finally:
        web.close()
    print(f"{label} ({settings_module})")
    answers = ", ".join(f"{status} x{n}" for status, n in sorted(Counter(statuses).items()))
    print(f"  answers: {answers} ({seconds:.1f} s for {posts})")
    print(f"  before: VmHWM {before['VmHWM']:7.1f} MB  VmRSS {before['VmRSS']:7.1f} MB")
    print(f"  after:  VmHWM {after['VmHWM']:7.1f} MB  VmRSS {after['VmRSS']:7.1f} MB")
    return after


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mb", type=int, default=30, help="size of each POST body, in MB")
    parser.add_argument("--posts", type=int, default=8, help="concurrent POSTs")
    args = parser.parse_args()
    size = args.mb * 1024 * 1024

    with tempfile.TemporaryDirectory(prefix="hrp-bench-body-") as folder:
        database_url = f"sqlite:///{folder}/db.sqlite3"
        env = app_environment(database_url=database_url, redis_url="")
        deploy(env=env)  # migrate, and collectstatic as the image build runs it
        print(
            f"{args.posts} concurrent anonymous {args.mb} MB POSTs to /accounts/login/, one worker"
        )
        baseline, now = (
            measure(label, module, database_url=database_url, size=size, posts=args.posts)
            for label, module in SETTINGS
        )
    print(
        f"peak (VmHWM) baseline / now: {baseline['VmHWM'] / now['VmHWM']:.1f}x; "
        f"resident after (VmRSS): {baseline['VmRSS'] / now['VmRSS']:.1f}x"
    )


if __name__ == "__main__":
    main()
