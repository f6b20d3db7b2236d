"""What one request's log line costs: RequestLogMiddleware around a view that does nothing,
against the bare view, with the JSON formatter writing to a discarded stream.

    .venv/bin/python benchmarks/bench_request_log.py [--requests 20000]

Prints microseconds per request for each, and the difference (the middleware's overhead).
"""

import argparse
import io
import logging
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hrp_site.settings")

import django  # noqa: E402

django.setup()

from django.contrib.auth.models import AnonymousUser  # noqa: E402
from django.http import HttpResponse  # noqa: E402
from django.test import RequestFactory  # noqa: E402

from hrp_site.logs import JsonFormatter, RequestIdFilter, RequestLogMiddleware  # noqa: E402


def per_request_us(handler, requests, count: int) -> float:
    started = time.perf_counter()
    for request in requests[:count]:
        handler(request)
    return (time.perf_counter() - started) / count * 1e6


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=20000)
    count = parser.parse_args().requests

    sink = logging.StreamHandler(io.StringIO())
    sink.setFormatter(JsonFormatter())
    sink.addFilter(RequestIdFilter())
    request_logger = logging.getLogger("hrp.request")
    request_logger.handlers = [sink]
    request_logger.propagate = False

    def view(request):
        return HttpResponse("ok")

    factory = RequestFactory()
    requests = []
    for n in range(count):
        request = factory.get(f"/races/{n}/")
        request.user = AnonymousUser()
        requests.append(request)

    logged = RequestLogMiddleware(view)
    per_request_us(logged, requests, min(count, 2000))  # warm up
    bare = per_request_us(view, requests, count)
    with_log = per_request_us(logged, requests, count)
    lines = sink.stream.getvalue().count("\n")
    print(f"{count} requests: bare view {bare:.1f} us, with the request log {with_log:.1f} us")
    print(f"overhead per request: {with_log - bare:.1f} us ({lines} JSON lines written)")


if __name__ == "__main__":
    main()
