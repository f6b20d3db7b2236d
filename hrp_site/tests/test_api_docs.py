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


@pytest.mark.django_db
def test_the_schema_bounds_the_query_parameters(api_client):
    schema = api_client.get("/api/schema/", {"format": "json"}).json()

    parameters = {
        parameter["name"]: parameter
        for parameter in schema["paths"]["/api/v1/races/"]["get"]["parameters"]
    }
    assert parameters["page"]["schema"] == {"type": "integer", "minimum": 1}
    assert parameters["page_size"]["schema"] == {"type": "integer", "minimum": 1, "maximum": 200}
    assert parameters["racecourse"]["schema"] == {
        "type": "integer",
        "minimum": 1,
        "maximum": 2**63 - 1,
    }
    assert parameters["course"]["schema"] == {
        "type": "string",
        "minLength": 1,
        "maxLength": 8,
        "pattern": "^[^\\u0000]*$",
    }
    assert parameters["ordering"]["explode"] is False
    assert parameters["ordering"]["schema"]["items"]["enum"][:2] == ["meeting_date", "race_number"]


@pytest.mark.django_db
def test_the_schema_gives_a_decimal_its_pattern_and_bound(api_client):
    schema = api_client.get("/api/schema/", {"format": "json"}).json()

    win_odds = schema["components"]["schemas"]["RunnerRequest"]["properties"]["win_odds"]
    assert win_odds["pattern"] == r"^(?:[0-9]{1,6}(?:\.[0-9]{0,2})?|\.[0-9]{1,2})$"
    assert win_odds["description"] == "A decimal in a string, at least 1.01."
