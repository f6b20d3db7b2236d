"""A liveness endpoint for the Celery worker, which App Platform can only probe over HTTP or TCP.

The worker's own timer records a heartbeat every few seconds from its event loop; a small HTTP
server on a thread of the worker's main process answers `/health/live/` with 200 while that
heartbeat is fresh and 503 once it is stale, so a worker whose loop is wedged gets restarted.
"""

import json
import logging
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from celery import bootsteps

logger = logging.getLogger(__name__)

HEARTBEAT_INTERVAL = 5.0


class _HealthServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], *, step: "WorkerLiveness") -> None:
        super().__init__(address, _HealthHandler)
        self.step = step


class _HealthHandler(BaseHTTPRequestHandler):
    server: _HealthServer

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        if self.path != "/health/live/":
            self._answer(404, {"status": "not found"})
            return
        age = self.server.step.heartbeat_age()
        if age <= self.server.step.stale_after:
            self._answer(200, {"status": "ok"})
        else:
            # The answer is the status alone; why goes to the worker's log.
            logger.warning("not alive: no heartbeat for %.0f s", age)
            self._answer(503, {"status": "unavailable"})

    def _answer(self, status: int, payload: dict) -> None:
        body = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Cache-Control", "no-store")
        self.send_header("Content-Length", str(len(body)))
        for header, value in self.server.step.security_headers.items():
            self.send_header(header, value)
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass  # a probe every few seconds is not worth a log line


class WorkerLiveness(bootsteps.StartStopStep):
    """Heartbeat from the worker's timer, served on HRP_WORKER_HEALTH_PORT (0 turns it off)."""

    requires = {"celery.worker.components:Timer"}

    def __init__(self, worker, **kwargs) -> None:
        from csp.utils import build_policy
        from django.conf import settings

        from hrp_site.middleware import permissions_policy

        super().__init__(worker, **kwargs)
        self.port: int = settings.HRP_WORKER_HEALTH_PORT
        # The headers the web's middlewares put on its probes' answers.
        self.security_headers = {
            "Content-Security-Policy": build_policy(),
            "Permissions-Policy": permissions_policy(),
            "Referrer-Policy": settings.SECURE_REFERRER_POLICY,
            "X-Content-Type-Options": "nosniff",
            "X-Frame-Options": settings.X_FRAME_OPTIONS,
        }
        self.stale_after: float = settings.HRP_WORKER_HEALTH_STALE_SECONDS
        self.last_beat = time.monotonic()
        self.timer_entry = None
        self.server: _HealthServer | None = None

    def include_if(self, worker) -> bool:
        return bool(self.port)

    def heartbeat_age(self) -> float:
        return time.monotonic() - self.last_beat

    def beat(self) -> None:
        self.last_beat = time.monotonic()

    def start(self, worker) -> None:
        self.beat()
        self.timer_entry = worker.timer.call_repeatedly(HEARTBEAT_INTERVAL, self.beat, priority=10)
        self.server = _HealthServer(("0.0.0.0", self.port), step=self)  # noqa: S104 (the probe)
        threading.Thread(
            target=self.server.serve_forever, name="worker-liveness", daemon=True
        ).start()
        logger.info("worker liveness on port %s", self.port)

    def stop(self, worker) -> None:
        if self.timer_entry is not None:
            self.timer_entry.cancel()
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None
