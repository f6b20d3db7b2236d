"""API throttles that let requests through while their cache (Redis) is unreachable.

DRF's throttles read and write the default cache on every API request; with Redis down each call
would raise and every API answer, the public status page included, would be a 500. A rate limit
is a guard against abuse, not a reason to refuse all service, so while the cache fails the
throttles allow the request.
"""

import logging
import time

from redis.exceptions import RedisError
from rest_framework import throttling

from .client_address import client_address

logger = logging.getLogger(__name__)

# After a failure the throttles leave the cache alone for this long: a hung Redis (not refusing
# connections, just silent) would otherwise cost every request the client's socket time-out.
RETRY_AFTER_SECONDS = 10.0

_skip_until = 0.0


class FailOpenThrottleMixin:
    def get_ident(self, request) -> str | None:
        # As django-axes takes it: the header only as far as proxies in front wrote it.
        return client_address(request)

    def allow_request(self, request, view) -> bool:
        global _skip_until
        if time.monotonic() < _skip_until:
            return True
        try:
            return super().allow_request(request, view)
        except RedisError as error:
            # One warning per window and process, not one per request.
            _skip_until = time.monotonic() + RETRY_AFTER_SECONDS
            logger.warning(
                "API throttles off for %.0f s: the cache is unreachable (%s: %s)",
                RETRY_AFTER_SECONDS,
                type(error).__name__,
                error,
            )
            return True


class AnonRateThrottle(FailOpenThrottleMixin, throttling.AnonRateThrottle):
    pass


class UserRateThrottle(FailOpenThrottleMixin, throttling.UserRateThrottle):
    pass
