import pytest

from hrp_site.middleware import permissions_policy
from hrp_site.testing.headers import STRICT_POLICY, csp_directives


@pytest.mark.django_db
def test_health_check_answers_the_platform_probe_over_http_on_any_host(client, settings):
    # given: production switches
    settings.ALLOWED_HOSTS = ["hrp.example.com"]
    settings.SECURE_SSL_REDIRECT = True

    # when: the probe asks over plain HTTP, addressed to the container's IP
    response = client.get("/healthz/", HTTP_HOST="10.244.3.17:8080")

    # then
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


@pytest.mark.django_db
def test_other_paths_still_check_the_host(client, settings):
    settings.ALLOWED_HOSTS = ["hrp.example.com"]

    response = client.get("/admin/login/", HTTP_HOST="10.244.3.17:8080")

    assert response.status_code == 400


@pytest.mark.django_db
def test_the_providers_status_is_an_ordinary_page_not_a_probe(client, settings):
    # It no longer decides whether a container is restarted, so it checks the host like any page.
    settings.ALLOWED_HOSTS = ["hrp.example.com"]

    probed = client.get("/api/providers", HTTP_HOST="10.244.3.17:8080")
    visited = client.get("/api/providers", HTTP_HOST="hrp.example.com")

    assert probed.status_code == 400
    assert visited.status_code == 200
    assert {"provider", "configured", "last_sync"} <= set(visited.json()[0])


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/", "/accounts/login/", "/admin/login/", "/api/v1/races/"])
def test_every_page_carries_the_strict_policy_and_the_permissions_policy(client, path):
    response = client.get(path)

    assert csp_directives(response) == STRICT_POLICY
    assert response["Permissions-Policy"] == (
        "accelerometer=(), autoplay=(), browsing-topics=(), camera=(), display-capture=(), "
        "encrypted-media=(), geolocation=(), gyroscope=(), hid=(), idle-detection=(), "
        "magnetometer=(), microphone=(), midi=(), payment=(), publickey-credentials-get=(), "
        "screen-wake-lock=(), serial=(), usb=(), xr-spatial-tracking=()"
    )


def test_the_permissions_policy_lists_the_origins_a_feature_is_allowed_to(settings):
    settings.PERMISSIONS_POLICY = {"camera": [], "fullscreen": ["self", '"https://a.example"']}

    assert permissions_policy() == 'camera=(), fullscreen=(self "https://a.example")'


@pytest.mark.django_db
def test_pages_other_than_the_probes_still_redirect_to_https(client, settings):
    settings.ALLOWED_HOSTS = ["hrp.example.com"]
    settings.SECURE_SSL_REDIRECT = True

    response = client.get("/accounts/login/", HTTP_HOST="hrp.example.com")

    assert response.status_code == 301
    assert response["Location"] == "https://hrp.example.com/accounts/login/"
