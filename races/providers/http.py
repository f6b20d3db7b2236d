"""A small JSON-over-HTTP client on urllib: time-outs, retries on transient failures only."""

from __future__ import annotations

import http.client
import json
import logging
import time
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

from .base import ProviderError, ProviderTransientError

logger = logging.getLogger(__name__)

BODY_EXCERPT = 200
# Query parameters that may carry a secret; they are masked in messages and logs.
SECRET_PARAMS = {"key", "api_key", "apikey", "token", "password", "secret", "session"}


def safe_url(url: str) -> str:
    """The URL without user info, and with secret-looking query values masked."""
    parts = urllib.parse.urlsplit(url)
    netloc = parts.netloc.rpartition("@")[2]
    query = [
        (name, "***" if name.lower() in SECRET_PARAMS else value)
        for name, value in urllib.parse.parse_qsl(parts.query, keep_blank_values=True)
    ]
    return urllib.parse.urlunsplit(
        (parts.scheme, netloc, parts.path, urllib.parse.urlencode(query), "")
    )


class JsonClient:
    """Sends JSON requests for one provider.

    `headers` may carry credentials (an Authorization header, an app key); they go on the wire
    only, never into an error message or a log line.
    """

    def __init__(
        self,
        *,
        provider: str,
        base_url: str,
        headers: dict[str, str] | None = None,
        timeout: float = 10.0,
        retries: int = 3,
        backoff: float = 0.5,
    ) -> None:
        self.provider = provider
        self.base_url = base_url.rstrip("/")
        self.headers = {"Accept": "application/json", **(headers or {})}
        self.timeout = timeout
        self.retries = max(retries, 1)
        self.backoff = backoff

    def get(self, path: str, params: dict[str, Any] | None = None) -> Any:
        url = f"{self.base_url}{path}"
        if params:
            url = f"{url}?{urllib.parse.urlencode(params)}"
        return self._send("GET", url, None)

    def post(self, path: str, payload: Any) -> Any:
        return self._send("POST", f"{self.base_url}{path}", json.dumps(payload).encode())

    def _send(self, method: str, url: str, data: bytes | None) -> Any:
        request_label = f"{method} {safe_url(url)}"
        headers = dict(self.headers)
        if data is not None:
            headers["Content-Type"] = "application/json"
        for attempt in range(1, self.retries + 1):
            request = urllib.request.Request(url, data=data, method=method)
            for name, value in headers.items():
                # Unredirected: a redirect to another host must not carry the credentials.
                request.add_unredirected_header(name, value)
            try:
                with urllib.request.urlopen(request, timeout=self.timeout) as response:
                    body = response.read()
                    status = response.status
            except urllib.error.HTTPError as exc:
                body = _read(exc)
                message = self._message(request_label, f"HTTP {exc.code}", body)
                if exc.code < 500:
                    raise ProviderError(message) from None
                failure = ProviderTransientError(message)
            except TimeoutError as exc:
                failure = ProviderTransientError(
                    self._message(request_label, f"no answer within {self.timeout}s", b"")
                )
                failure.__cause__ = exc
            except urllib.error.URLError as exc:
                if isinstance(exc.reason, TimeoutError):
                    what = f"no answer within {self.timeout}s"
                else:
                    what = f"connection failed ({exc.reason})"
                failure = ProviderTransientError(self._message(request_label, what, b""))
            except (ConnectionError, http.client.HTTPException) as exc:
                what = f"connection failed ({exc.__class__.__name__})"
                failure = ProviderTransientError(self._message(request_label, what, b""))
            else:
                try:
                    return json.loads(body)
                except ValueError:
                    message = self._message(request_label, f"HTTP {status}, not JSON", body)
                    raise ProviderError(message) from None
            if attempt == self.retries:
                raise failure
            delay = self.backoff * 2 ** (attempt - 1)
            logger.warning(
                "%s (try %d of %d); retrying in %.1fs", failure, attempt, self.retries, delay
            )
            time.sleep(delay)
        raise AssertionError("unreachable")  # pragma: no cover

    def _message(self, request_label: str, what: str, body: bytes) -> str:
        text = body[:BODY_EXCERPT].decode("utf-8", errors="replace")
        excerpt = f": {text}" if text else ""
        return f"{self.provider}: {request_label} -> {what}{excerpt}"


def _read(exc: urllib.error.HTTPError) -> bytes:
    try:
        return exc.read()
    except OSError:
        return b""
