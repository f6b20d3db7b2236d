import pytest


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("url", "asset"),
    [
        ("/api/docs/", "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js"),
        ("/api/redoc/", "/static/drf_spectacular_sidecar/redoc/bundles/redoc.standalone.js"),
    ],
)
def test_api_docs_are_served_from_our_static_files(api_client, url, asset):
    response = api_client.get(url)

    assert response.status_code == 200
    page = response.content.decode()
    assert asset in page
    assert "cdn." not in page


@pytest.mark.django_db
def test_the_schema_documents_the_error_responses(api_client):
    response = api_client.get("/api/schema/", {"format": "json"})

    operation = response.json()["paths"]["/api/v1/races/{id}/"]["patch"]
    assert sorted(operation["responses"]) == ["200", "400", "401", "403", "404", "429"]


@pytest.mark.django_db
def test_unknown_api_urls_answer_json_404(api_client):
    response = api_client.get("/api/v1/races/not-a-number/x/")

    assert response.status_code == 404
    assert response.json() == {"detail": "Not found."}
