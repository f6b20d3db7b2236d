"""The site's answer when a request fails: 503 while the database is unreachable, 500 otherwise.

Django's handler500 runs inside the `except` block of whichever middleware wrapper caught the
error (the view, the session or the authentication middleware alike), so `sys.exc_info()` still
names the error here; a try/except in an outer middleware would only ever see a finished 500.
"""

import sys

from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template import loader
from django.views import defaults

# What a client is told to wait before trying again: about a managed database's fail-over.
RETRY_AFTER_SECONDS = 30

# Connection refused, server gone, connection closed under a request: the database is out of
# reach rather than the request wrong.
DATABASE_UNAVAILABLE = (OperationalError, InterfaceError)


def server_error(request: HttpRequest) -> HttpResponse:
    """handler500: a 503 for an unreachable database, JSON under /api/ like DRF's own errors."""
    if isinstance(sys.exc_info()[1], DATABASE_UNAVAILABLE):
        return service_unavailable(request)
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": "A server error occurred."}, status=500)
    return defaults.server_error(request)


def service_unavailable(request: HttpRequest) -> HttpResponse:
    """The 503 answer. Rendered without the request: its context processors would look up the
    session and the user, in the database that is down."""
    if request.path.startswith("/api/"):
        response = JsonResponse(
            {"detail": "The service is temporarily unavailable. Try again shortly."}, status=503
        )
    else:
        response = HttpResponse(
            loader.render_to_string("503.html", {"retry_after": RETRY_AFTER_SECONDS}), status=503
        )
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response
