import re

import pytest

from hrp_site.api_docs import REDOC_EMPTY_STYLE, REDOC_STYLE
from hrp_site.testing.headers import STRICT_POLICY, csp_directives


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
@pytest.mark.parametrize(
    ("url", "additions"),
    [
        ("/api/docs/", {"img-src": "'self' data:"}),
        (
            "/api/redoc/",
            {
                "style-src": f"'self' {REDOC_EMPTY_STYLE} {REDOC_STYLE}",
                "img-src": "'self' data: https://cdn.redoc.ly/redoc/logo-mini.svg",
                "worker-src": "blob:",
            },
        ),
    ],
)
def test_the_api_docs_add_only_what_they_need_to_the_policy(api_client, url, additions):
    response = api_client.get(url)

    assert csp_directives(response) == {**STRICT_POLICY, **additions}
    page = response.content.decode()
    assert re.findall(r"<script(?![^>]*\ssrc=)[^>]*>", page) == []
    assert "<style" not in page
    assert " style=" not in page


@pytest.mark.django_db
def test_swagger_uis_set_up_script_has_a_url_of_its_own(api_client):
    page = api_client.get("/api/docs/").content.decode()
    (script_url,) = re.findall(r'<script src="(/api/docs/\?script=[^"]*)"', page)

    response = api_client.get(script_url)

    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/javascript")
    assert "SwaggerUIBundle(" in response.content.decode()


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


@pytest.mark.django_db
def test_request_bodies_are_json_only_in_the_schema(api_client):
    # Form and multipart bodies make generated clients write duplicate fields and lose null.
    schema = api_client.get("/api/schema/", {"format": "json"}).json()

    media_types = {
        media_type
        for operations in schema["paths"].values()
        for operation in operations.values()
        for media_type in operation.get("requestBody", {}).get("content", {})
    }
    assert media_types == {"application/json"}


@pytest.mark.django_db
def test_each_operation_has_one_tag_naming_its_resource(api_client):
    schema = api_client.get("/api/schema/", {"format": "json"}).json()

    tags = {
        (method, path): operation["tags"]
        for path, operations in schema["paths"].items()
        for method, operation in operations.items()
    }
    assert all(len(tag) == 1 for tag in tags.values())
    assert tags["get", "/api/v1/races/{id}/"] == ["races"]
    assert tags["post", "/api/v1/model-versions/{id}/retrain/"] == ["model-versions"]
    assert tags["post", "/api/v1/tokens/"] == ["tokens"]
    assert tags["get", "/api/providers"] == ["providers"]


@pytest.mark.django_db
def test_response_fields_always_rendered_are_required(api_client):
    schema = api_client.get("/api/schema/", {"format": "json"}).json()
    components = schema["components"]["schemas"]

    # A model field with a default is still in every response; in a request it is optional.
    race, race_request = components["Race"], components["RaceRequest"]
    assert sorted(race["required"]) == sorted(race["properties"])
    assert "surface" not in race_request["required"]
    assert sorted(components["PaginatedRaceList"]["required"]) == [
        "count",
        "next",
        "previous",
        "results",
    ]
    # A field the view leaves out for anonymous callers stays optional.
    assert "counts" not in components["ProviderLastSync"]["required"]
    assert "day" in components["ProviderLastSync"]["required"]


@pytest.mark.django_db
def test_a_created_token_is_a_201_in_the_schema(api_client):
    schema = api_client.get("/api/schema/", {"format": "json"}).json()

    responses = schema["paths"]["/api/v1/tokens/"]["post"]["responses"]
    assert "201" in responses
    assert "200" not in responses
