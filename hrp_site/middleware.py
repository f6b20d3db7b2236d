from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from .views import healthz


def _providers(request: HttpRequest) -> HttpResponse:
    from races.api.views import ProvidersApi

    response = ProvidersApi.as_view()(request)
    response.render()  # views' responses are rendered by the handler, not ours
    return response


HEALTH_CHECKS = {"/healthz/": healthz, "/api/providers": _providers}


class HealthCheckMiddleware:
    """Answer the platform's health checks before host validation and the HTTPS redirect.

    The probe comes from inside the platform, over plain HTTP and addressed to the container's IP,
    which ALLOWED_HOSTS and SECURE_SSL_REDIRECT would otherwise turn away. App Platform's check
    reads `/api/providers` (the providers' public status); `/healthz/` is the bare database ping.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        check = HEALTH_CHECKS.get(request.path_info)
        if check is not None and request.method in ("GET", "HEAD"):
            return check(request)
        return self.get_response(request)
