"""The site's URLs plus /bench/bare/, for bench_http.py only (benchmarks/settings_http.py)."""

from django.http import JsonResponse
from django.urls import path

from hrp_site.urls import handler400, handler403, handler404, handler500, urlpatterns  # noqa: F401


def bare(request):
    return JsonResponse({"ok": True})


urlpatterns = [path("bench/bare/", bare), *urlpatterns]
