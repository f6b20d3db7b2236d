"""The API throttles: a fixed window counted atomically, by the client address of
hrp_site.client_address, letting requests through while their cache (Redis) is unreachable.

DRF's stock throttles read a request history from the cache, append to it and write it back;
concurrent requests read the same history and each writes its own, so 20 connections got 1,094
requests through a 600/minute limit in 15 s. Here each request is one atomic INCR of a counter
per scope, client and window (`throttle:<scope>:<ident>:<window>`), which expires with its
window: exactly `num_requests` get through per window, however many workers ask at once. A client
may spend a whole window's allowance at the end of one window and again at the start of the
next; a rate limit that allows a burst of twice the rate at the turn is still a bound.

In Redis the count is a Lua script (INCR, and EXPIRE on the first hit), one round trip, sent by
its SHA1 (EVALSHA) once Redis has it. With
another cache (the in-process one `make run` and the tests use without REDIS_URL) it is the
cache's add() and incr(), atomic within the process.

DRF's throttles and so these use the default cache on every API request; with Redis down each
call would raise and every API answer, the public status page included, would be a 500. A rate
limit is a guard against abuse, not a reason to refuse all service, so while the cache fails
the throttles allow the request.
"""

import logging
import math
import time

from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache
from redis.exceptions import RedisError
from rest_framework import throttling

from .client_address import client_address

logger = logging.getLogger(__name__)

# After a failure the throttles leave the cache alone for this long: a hung Redis (not refusing
# connections, just silent) would otherwise cost every request the client's socket time-out.
RETRY_AFTER_SECONDS = 10.0

_skip_until = 0.0

# KEYS[1] the window's counter, ARGV[1] its lifetime in ms. Returns the count, this request in.
_COUNT_SCRIPT = """
local count = redis.call('INCR', KEYS[1])
if count == 1 then
    redis.call('PEXPIRE', KEYS[1], ARGV[1])
end
return count
"""
# redis-py's Script, made on first use: EVALSHA, loading the script again if Redis lost it.
_count_script = None


class FailOpenThrottleMixin:
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


def count_hit(key: str, *, lifetime: float, cache_alias: str = "default") -> int:
    """Add one to the counter `key` (made and expiring after `lifetime` seconds on the first
    hit) in the cache `cache_alias`, atomically; the count with this hit."""
    cache = caches[cache_alias]
    if isinstance(cache, RedisCache):
        full_key = cache.make_and_validate_key(key)
        # Django's cache has no atomic "increment, creating with an expiry"; its redis-py client
        # (a private attribute, stable since Django 4.0) runs the script.
        client = cache._cache.get_client(full_key, write=True)
        global _count_script
        if _count_script is None:
            _count_script = client.register_script(_COUNT_SCRIPT)
        return int(
            _count_script(keys=[full_key], args=[math.ceil(lifetime * 1000)], client=client),
        )
    timeout = math.ceil(lifetime)
    cache.add(key, 0, timeout)
    try:
        return cache.incr(key)
    except ValueError:
        # It expired between add() and incr(): this hit starts the next one.
        cache.add(key, 0, timeout)
        return cache.incr(key)


class FixedWindowThrottleMixin:
    """Replaces SimpleRateThrottle's history with one atomic counter per window."""

    cache_alias = "default"

    def get_ident(self, request) -> str | None:
        return client_address(request)

    def allow_request(self, request, view) -> bool:
        if self.rate is None:
            return True
        self.key = self.get_cache_key(request, view)
        if self.key is None:
            return True
        now = self.timer()
        window = int(now // self.duration)
        self.window_ends = (window + 1) * self.duration
        # Kept a second past its window, so a slow clock elsewhere does not restart the count.
        count = count_hit(
            f"{self.key}:{window}",
            lifetime=self.window_ends - now + 1,
            cache_alias=self.cache_alias,
        )
        self.now = now
        return count <= self.num_requests

    def wait(self) -> float:
        """Seconds until the window that refused the request ends."""
        return max(self.window_ends - self.now, 0.0)


class RateThrottle(FailOpenThrottleMixin, FixedWindowThrottleMixin, throttling.SimpleRateThrottle):
    """A base for throttles of our own: `scope` names the rate, get_cache_key() the bucket."""

    cache_format = "throttle:%(scope)s:%(ident)s"


class AnonRateThrottle(
    FailOpenThrottleMixin, FixedWindowThrottleMixin, throttling.AnonRateThrottle
):
    cache_format = "throttle:%(scope)s:%(ident)s"


class UserRateThrottle(
    FailOpenThrottleMixin, FixedWindowThrottleMixin, throttling.UserRateThrottle
):
    cache_format = "throttle:%(scope)s:%(ident)s"
