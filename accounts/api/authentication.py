"""The API's authentication.

- HTTP Basic for creating an API token: the username bounded before anything is written, and a
  locked-out account told so (429, for how long) instead of a plain "Invalid username/password".
- knox's token authentication reading one row (the token, with its user) per request.
"""

import base64
import binascii
import math

from axes.helpers import get_cool_off
from django.contrib.auth import get_user_model
from django.utils import timezone
from drf_spectacular.contrib.knox_auth_token import KnoxTokenScheme
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from knox import auth as knox_auth
from knox.signals import token_expired
from rest_framework import authentication, exceptions, status
from rest_framework.authentication import get_authorization_header


def basic_username(request) -> str | None:
    """The username of an HTTP Basic Authorization header, decoded as DRF decodes it, or None if
    there is no such header or it cannot be read."""
    auth = get_authorization_header(request).split()
    if len(auth) != 2 or auth[0].lower() != b"basic":
        return None
    try:
        raw = base64.b64decode(auth[1])
    except (TypeError, ValueError, binascii.Error):
        return None
    try:
        decoded = raw.decode("utf-8")
    except UnicodeDecodeError:
        decoded = raw.decode("latin-1")
    username, separator, _ = decoded.partition(":")
    return username if separator else None


def username_max_length() -> int:
    user_model = get_user_model()
    return user_model._meta.get_field(user_model.USERNAME_FIELD).max_length


class AccountLocked(exceptions.APIException):
    """Too many failed log-ins for this username from this address: 429, with Retry-After."""

    status_code = status.HTTP_429_TOO_MANY_REQUESTS
    default_code = "account_locked"

    def __init__(self, wait: float) -> None:
        # DRF's exception handler writes `wait` into the Retry-After header.
        self.wait = max(math.ceil(wait), 1)
        minutes = math.ceil(self.wait / 60)
        super().__init__(
            f"Too many failed log-ins: this account is locked for {minutes} "
            f"minute{'s' if minutes != 1 else ''} from where you are ({self.wait} s). "
            "Forgotten your password? Reset it at /accounts/password/reset/."
        )


class BasicAuthentication(authentication.BasicAuthentication):
    def authenticate_credentials(self, userid, password, request=None):
        max_length = username_max_length()
        if len(userid) > max_length:
            # No account has it, and django-axes could not record it (a 255-character column).
            raise exceptions.AuthenticationFailed(
                f"Invalid username: a username has at most {max_length} characters."
            )
        if "\x00" in userid:
            # PostgreSQL cannot store a NUL, and django-axes would try to record this one.
            raise exceptions.AuthenticationFailed("Invalid username: it contains a NUL character.")
        try:
            return super().authenticate_credentials(userid, password, request)
        except exceptions.AuthenticationFailed:
            # Set by django-axes on the request it was given (DRF's, which AxesMiddleware never
            # sees) when this attempt was refused for, or brought about, a lock-out.
            if getattr(request, "axes_locked_out", False):
                raise AccountLocked(wait=cool_off_left(request)) from None
            raise


def cool_off_left(request) -> float:
    """Seconds until the lock-out ends. Every refused attempt restarts the cool-off
    (AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT), this one included."""
    # AXES_COOLOFF_TIME is always set here (DJANGO_AXES_COOLOFF_MINUTES); axes' own default,
    # None, would lock out until staff unlock the account.
    ends = request.axes_attempt_time + get_cool_off(request)
    return (ends - timezone.now()).total_seconds()


class BasicAuthenticationScheme(OpenApiAuthenticationExtension):
    """The schema's HTTP Basic, as drf-spectacular gives DRF's own class."""

    target_class = BasicAuthentication
    name = "basicAuth"

    def get_security_definition(self, auto_schema):
        return {"type": "http", "scheme": "basic"}


class TokenAuthentication(knox_auth.TokenAuthentication):
    """knox's token authentication without its sweep of the user's other tokens.

    On every request knox also reads all the caller's tokens to delete their expired ones: a second
    query per API call, and a longer one the more tokens a client has made. Here a request reads
    its own token (with the user) and refuses and deletes it when it has expired, as knox does;
    the other expired tokens are deleted by a periodic task (accounts.tasks) and whenever the user
    creates a token. An expired token is refused either way: knox checks the expiry of the one
    presented, and so does this."""

    def _cleanup_token(self, auth_token) -> bool:
        if auth_token.expiry is None or auth_token.expiry >= timezone.now():
            return False
        username = auth_token.user.get_username()
        auth_token.delete()
        token_expired.send(sender=self.__class__, username=username, source="auth_token")
        return True


class TokenAuthenticationScheme(KnoxTokenScheme):
    """The schema's knox token, as drf-spectacular gives knox's own class."""

    target_class = TokenAuthentication
