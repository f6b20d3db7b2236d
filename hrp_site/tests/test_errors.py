"""Every error answer: JSON `{"detail": ...}` under /api/, a page in the site's layout elsewhere,
never Django's plain or debug pages."""

import pytest
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.test import Client
from django.urls import path
from django.views.decorators.http import require_POST

from accounts.models import User
from hrp_site import urls as project_urls


def _fail(request):
    raise RuntimeError("a bug")


def _forbid(request):
    raise PermissionDenied


@require_POST
def _form(request):
    return HttpResponse(request.POST.get("name", ""))


# The project's URLs and handlers, and views that fail, under /api/ and elsewhere.
urlpatterns = [
    path("fail/", _fail),
    path("api/fail/", _fail),
    path("forbid/", _forbid),
    path("api/forbid/", _forbid),
    path("form/", _form),
    path("api/form/", _form),
    *project_urls.urlpatterns,
]
handler400 = project_urls.handler400
handler403 = project_urls.handler403
handler404 = project_urls.handler404
handler500 = project_urls.handler500

pytestmark = [pytest.mark.django_db, pytest.mark.urls("hrp_site.tests.test_errors")]

LAYOUT = '<header class="site-header">'
RACE_CARDS = '<a href="/racing/">race cards</a>'
OVER_THE_LIMIT = "x" * (2_621_440 + 1)  # Django's DATA_UPLOAD_MAX_MEMORY_SIZE, 2.5 MB


def _page(response) -> str:
    assert response["Content-Type"] == "text/html; charset=utf-8"
    return response.content.decode()


# --- 400 ---


def test_a_refused_request_is_the_400_page(client):
    response = client.get("/racing/", headers={"host": "evil.example"})

    assert response.status_code == 400
    page = _page(response)
    assert "<h1>We could not read that request</h1>" in page
    assert LAYOUT in page
    assert RACE_CARDS in page


def test_a_refused_api_request_is_a_json_400(client):
    too_many_fields = "&".join(f"f{i}=1" for i in range(1001))

    response = client.get(f"/api/v1/races/?{too_many_fields}")

    assert response.status_code == 400
    assert response.json() == {"detail": "Bad request."}


# --- 413 ---


def test_a_log_in_over_the_body_limit_is_the_413_page(client):
    response = client.post("/accounts/login/", {"username": "a", "password": OVER_THE_LIMIT})

    assert response.status_code == 413
    page = _page(response)
    assert "<h1>That was too much to send</h1>" in page
    assert "The request body is too large: the limit is 2.5 MB." in page
    assert LAYOUT in page
    assert RACE_CARDS in page


def test_a_form_over_the_body_limit_under_api_is_a_json_413(client):
    response = client.post("/api/form/", {"name": OVER_THE_LIMIT})

    assert response.status_code == 413
    assert response.json() == {"detail": "The request body is too large: the limit is 2.5 MB."}


def test_a_form_under_the_body_limit_is_read(client):
    response = client.post("/form/", {"name": "x" * 1_000_000})

    assert (response.status_code, len(response.content)) == (200, 1_000_000)


# --- 403 ---


def test_permission_denied_is_the_403_page(client):
    page = _page(client.get("/forbid/"))

    assert "<h1>You cannot open this page</h1>" in page
    assert LAYOUT in page
    assert RACE_CARDS in page


def test_permission_denied_under_api_is_a_json_403(client):
    response = client.get("/api/forbid/")

    assert response.status_code == 403
    assert response.json() == {"detail": "You do not have permission to perform this action."}


def test_a_form_without_its_csrf_token_is_the_403_page_and_signs_nobody_in(member_user):
    client = Client(enforce_csrf_checks=True)

    response = client.post(
        "/accounts/login/", {"username": "member", "password": "a-long-member-password"}
    )

    assert response.status_code == 403
    page = _page(response)
    assert "<h1>That form has expired</h1>" in page
    assert LAYOUT in page
    assert RACE_CARDS in page
    assert "_auth_user_id" not in client.session
    assert User.objects.get(pk=member_user.pk).last_login is None


def test_a_csrf_failure_under_api_is_a_json_403():
    response = Client(enforce_csrf_checks=True).post("/api/form/", {"name": "x"})

    assert response.status_code == 403
    assert response.json() == {"detail": "CSRF Failed: CSRF cookie not set."}


# --- 404 ---


def test_an_unknown_page_is_the_404_page(client):
    response = client.get("/nowhere/")

    assert response.status_code == 404
    page = _page(response)
    assert "<h1>Page not found</h1>" in page
    assert LAYOUT in page
    assert RACE_CARDS in page


def test_an_unknown_api_url_is_a_json_404(client):
    response = client.get("/api/v2/races/")

    assert response.status_code == 404
    assert response.json() == {"detail": "Not found."}


# --- 500 ---


def test_a_server_error_is_the_500_page_without_details(member_client):
    member_client.raise_request_exception = False

    response = member_client.get("/fail/")

    assert response.status_code == 500
    page = _page(response)
    assert "<h1>Something went wrong on our side</h1>" in page
    assert LAYOUT in page
    assert RACE_CARDS in page
    assert "a bug" not in page
    assert "RuntimeError" not in page
    # Rendered without the request: not even the signed-in member's name.
    assert "member" not in page


def test_a_server_error_under_api_is_a_json_500(client):
    client.raise_request_exception = False

    response = client.get("/api/fail/")

    assert response.status_code == 500
    assert response.json() == {"detail": "A server error occurred."}
