from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from .views import health_live, health_ready

# `/healthz/`, the original database ping, is kept as an alias of readiness.
HEALTH_CHECKS = {
    "/health/live/": health_live,
    "/health/ready/": health_ready,
    "/healthz/": health_ready,
}


class HealthCheckMiddleware:
    """Answer the platform's health checks before host validation and the HTTPS redirect.

    The probe comes from inside the platform, over plain HTTP and addressed to the container's IP,
    which ALLOWED_HOSTS and SECURE_SSL_REDIRECT would otherwise turn away. App Platform restarts a
    container that fails liveness and sends traffic only to one that passes readiness.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        check = HEALTH_CHECKS.get(request.path_info)
        if check is not None and request.method in ("GET", "HEAD"):
            return check(request)
        return self.get_response(request)
