"""The site's answers when a request fails: JSON under /api/ (`{"detail": ...}`, as DRF answers),
a page in the site's layout elsewhere, never a debug page.

handler400 also answers a body over DATA_UPLOAD_MAX_MEMORY_SIZE, with 413. handler500 answers 503
while the database is unreachable: Django's handler500 runs inside the `except` block of whichever
middleware wrapper caught the error (the view, the session or the authentication middleware
alike), so `sys.exc_info()` still names the error here; a try/except in an outer middleware would
only ever see a finished 500.
"""

import sys

from django.conf import settings
from django.core.exceptions import BadRequest, RequestDataTooBig
from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.template import loader

# What a client is told to wait before trying again: about a managed database's fail-over.
RETRY_AFTER_SECONDS = 30

# Connection refused, server gone, connection closed under a request: the database is out of
# reach rather than the request wrong.
DATABASE_UNAVAILABLE = (OperationalError, InterfaceError)


def is_api(request: HttpRequest) -> bool:
    return request.path.startswith("/api/")


def body_too_large_detail() -> str:
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE / 1024 / 1024
    return f"The request body is too large: the limit is {limit:g} MB."


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    """handler400: Django's refusals of a request (a SuspiciousOperation), and a body too large."""
    if isinstance(exception, RequestDataTooBig):
        detail = body_too_large_detail()
        if is_api(request):
            return JsonResponse({"detail": detail}, status=413)
        return render(request, "413.html", {"detail": detail}, status=413)
    # A BadRequest is ours, raised with words for the client; Django's own refusals keep theirs.
    detail = str(exception) if type(exception) is BadRequest else ""
    if is_api(request):
        return JsonResponse({"detail": detail or "Bad request."}, status=400)
    return render(request, "400.html", {"detail": detail}, status=400)


def permission_denied(request: HttpRequest, exception: Exception) -> HttpResponse:
    """handler403."""
    if is_api(request):
        detail = "You do not have permission to perform this action."
        return JsonResponse({"detail": detail}, status=403)
    return render(request, "403.html", status=403)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """CSRF_FAILURE_VIEW: a form posted without its token or cookie, or from another site."""
    if is_api(request):
        return JsonResponse({"detail": f"CSRF Failed: {reason}"}, status=403)
    return render(request, "403.html", {"csrf_failure": True}, status=403)


def not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    """handler404."""
    if is_api(request):
        return JsonResponse({"detail": "Not found."}, status=404)
    return render(request, "404.html", status=404)


def server_error(request: HttpRequest) -> HttpResponse:
    """handler500: a 503 for an unreachable database. The page is rendered without the request:
    whatever failed may be what its context processors need."""
    if isinstance(sys.exc_info()[1], DATABASE_UNAVAILABLE):
        return service_unavailable(request)
    if is_api(request):
        return JsonResponse({"detail": "A server error occurred."}, status=500)
    return HttpResponse(loader.render_to_string("500.html"), status=500)


def service_unavailable(request: HttpRequest) -> HttpResponse:
    """The 503 answer. Rendered without the request: its context processors would look up the
    session and the user, in the database that is down."""
    if is_api(request):
        response = JsonResponse(
            {"detail": "The service is temporarily unavailable. Try again shortly."}, status=503
        )
    else:
        response = HttpResponse(
            loader.render_to_string("503.html", {"retry_after": RETRY_AFTER_SECONDS}), status=503
        )
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response
