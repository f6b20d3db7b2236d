"""What the provider tests share: the recorded days, the credentials, and a local HTTP server's
handler that answers each path with a route."""

import base64
import datetime
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler

from races.providers.http import JsonClient

DAY = datetime.date(2025, 12, 17)
EMPTY_DAY = datetime.date(2025, 12, 18)
BETFAIR_DAY = datetime.date(2017, 5, 13)
RECORDED_STATUS_DAY = datetime.date(2016, 8, 4)
USERNAME, PASSWORD = "hrp-user", "s3cret-pa55word"
BASIC = "Basic " + base64.b64encode(f"{USERNAME}:{PASSWORD}".encode()).decode()
NO_RESULTS = {
    "races_settled": 0,
    "races_abandoned": 0,
    "results_unchanged": 0,
    "results_without_placings": 0,
    "results_unmatched": 0,
}


class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        self._answer()

    def do_POST(self):
        self._answer()

    def _answer(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        self.server.requests.append(
            {"method": self.command, "path": self.path, "headers": dict(self.headers)}
        )
        route = self.server.routes.get(urllib.parse.urlsplit(self.path).path)
        status, payload = route(self, body) if route else (404, b'{"detail": "Not found"}')
        if status is None:
            return
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)
        except OSError:
            pass  # the client gave up waiting (the time-out tests)

    def log_message(self, format, *args):
        pass


def scripted(*answers):
    """A route answering in turn with each (status, body), then repeating the last; a number
    instead of a status sleeps that many seconds before answering 200."""
    remaining = list(answers)

    def route(handler, body):
        status, payload = remaining.pop(0) if len(remaining) > 1 else remaining[0]
        if isinstance(status, float):
            time.sleep(status)
            return 200, payload
        return status, payload

    return route


def client_for(server, **options):
    options = {"timeout": 2.0, "retries": 3, "backoff": 0, **options}
    return JsonClient(
        provider="testprovider",
        base_url=server.url,
        headers={"Authorization": BASIC},
        **options,
    )
