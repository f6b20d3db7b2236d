"""For bench_http.py: the project's settings with a URLconf that adds a bare JSON view, the
yardstick of what the stack (gunicorn, middleware, session) costs before any view's work."""

from hrp_site.settings import *  # noqa: F403

ROOT_URLCONF = "benchmarks.urls_http"
