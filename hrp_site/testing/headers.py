"""Reading the security headers in tests."""

from collections.abc import Mapping

from django.http import HttpResponse

# The site's policy (CONTENT_SECURITY_POLICY in the settings), directive by directive.
STRICT_POLICY = {
    "default-src": "'self'",
    "base-uri": "'self'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
    "object-src": "'none'",
}


def csp_directives(response: HttpResponse | Mapping[str, str]) -> dict[str, str]:
    """The response's Content-Security-Policy as {directive: sources}; django-csp writes the
    directives in no fixed order."""
    directives = response["Content-Security-Policy"].split("; ")
    return dict(directive.split(" ", 1) for directive in directives)
