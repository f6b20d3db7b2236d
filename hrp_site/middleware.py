from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from .views import healthz


class HealthCheckMiddleware:
    """Answer the platform's health check before host validation and the HTTPS redirect.

    The probe comes from inside the platform, over plain HTTP and addressed to the container's IP,
    which ALLOWED_HOSTS and SECURE_SSL_REDIRECT would otherwise turn away.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path_info == "/healthz/":
            return healthz(request)
        return self.get_response(request)
