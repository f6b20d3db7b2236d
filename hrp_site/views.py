from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

from accounts.selectors import watchlist_home
from predictions.selectors import public_track_record


def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness and database reachability, for the platform's health check."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})


def home(request: HttpRequest) -> HttpResponse:
    """Visitors get what HRP is and its public track record; members their watchlist."""
    if not request.user.is_authenticated:
        return render(request, "landing.html", {"track_record": public_track_record()})
    return render(request, "accounts/home.html", {"watchlist": watchlist_home(user=request.user)})
