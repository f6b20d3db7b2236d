from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from .views import health_live, health_ready

# `/healthz/`, the original database ping, is kept as an alias of readiness. SECURE_REDIRECT_EXEMPT
# in the settings lists the same paths.
HEALTH_CHECKS = {
    "/health/live/": health_live,
    "/health/ready/": health_ready,
    "/healthz/": health_ready,
}


class HealthCheckMiddleware:
    """Answer the platform's health checks before host validation and the HTTPS redirect.

    The probe comes from inside the platform, over plain HTTP and addressed to the container's IP,
    which ALLOWED_HOSTS and SECURE_SSL_REDIRECT would otherwise turn away. App Platform restarts a
    container that fails liveness and sends traffic only to one that passes readiness. The
    middlewares above this one (security headers, CSP, Permissions-Policy) still dress the answer.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        check = HEALTH_CHECKS.get(request.path_info)
        if check is not None and request.method in ("GET", "HEAD"):
            return check(request)
        return self.get_response(request)


def permissions_policy() -> str:
    """The Permissions-Policy header's value from PERMISSIONS_POLICY: `camera=()` refuses the
    camera to every origin, `fullscreen=(self)` allows it to the page's own."""
    return ", ".join(
        f"{feature}=({' '.join(origins)})"
        for feature, origins in settings.PERMISSIONS_POLICY.items()
    )


class PermissionsPolicyMiddleware:
    """Send the Permissions-Policy header on every response that has none yet."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.setdefault("Permissions-Policy", permissions_policy())
        return response
