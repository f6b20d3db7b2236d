"""The baseline for bench_throttle.py: the project's settings with DRF's stock throttles, which
keep a request history in the cache and rewrite it without a lock."""

from hrp_site.settings import *  # noqa: F403
from hrp_site.settings import REST_FRAMEWORK

REST_FRAMEWORK = {
    **REST_FRAMEWORK,
    "DEFAULT_THROTTLE_CLASSES": [
        "rest_framework.throttling.AnonRateThrottle",
        "rest_framework.throttling.UserRateThrottle",
    ],
}
