"""Throttles on creating an API token, run before the password is checked.

DRF checks throttles after authentication, so every failed HTTP Basic log-in on /api/v1/tokens/
was answered (401) before any throttle ran, each after a full Argon2 hash. These count every
attempt, failed or not, per client address and per username, and refuse the one over the limit
before any password is looked at (TokenListCreateApi.initial).
"""

import hashlib

from hrp_site.throttling import RateThrottle

from .authentication import basic_username


class TokenAddressRateThrottle(RateThrottle):
    """Token creations per client address (DJANGO_API_THROTTLE_LOGIN_ADDRESS)."""

    scope = "login_address"

    def get_cache_key(self, request, view) -> str:
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


class TokenUsernameRateThrottle(RateThrottle):
    """Token creations per username asked for with HTTP Basic, from any address
    (DJANGO_API_THROTTLE_LOGIN_USERNAME): a guesser spread over many addresses."""

    scope = "login_username"

    def get_cache_key(self, request, view) -> str | None:
        username = basic_username(request)
        if username is None:
            return None
        # Hashed: a username may be long and hold any character, a cache key may not.
        ident = hashlib.sha256(username.encode()).hexdigest()[:32]
        return self.cache_format % {"scope": self.scope, "ident": ident}
