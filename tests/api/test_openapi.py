"""The OpenAPI schema is published, without a key, at a stable URL and lists every operation; no
docs page pulls scripts from a CDN."""

from __future__ import annotations

from django.test import Client as HttpClient
from django.urls import URLPattern, URLResolver, get_resolver

from spacebetween.api.v1 import api

OPENAPI_URL = "/api/v1/openapi.json"
OPERATIONS = {
    ("get", "/api/v1/assignments"),
    ("get", "/api/v1/instruments/{instrument_id}"),
    ("post", "/api/v1/assignments/{assignment_id}/responses"),
}


def _published(http: HttpClient) -> dict:  # type: ignore[type-arg]
    response = http.get(OPENAPI_URL)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    return response.json()  # type: ignore[no-any-return]


def test_the_schema_is_served_at_its_stable_url(client: HttpClient) -> None:
    schema = _published(client)
    assert schema["openapi"].startswith("3.")
    assert schema["info"]["version"] == "1"


def test_it_lists_every_operation(client: HttpClient) -> None:
    paths = _published(client)["paths"]
    listed = {(method, path) for path, ops in paths.items() for method in ops}
    assert listed == OPERATIONS


def test_every_routed_operation_is_in_the_schema(client: HttpClient) -> None:
    patterns, _app, _namespace = api.urls
    routed = {str(p.pattern) for p in patterns if getattr(p, "name", "") not in ("openapi-json", "api-root")}
    paths = _published(client)["paths"]
    assert len(routed) == len(paths) == 3


def test_every_operation_requires_the_bearer_key(client: HttpClient) -> None:
    schema = _published(client)
    schemes = schema["components"]["securitySchemes"]
    assert [s["scheme"] for s in schemes.values()] == ["bearer"]
    for ops in schema["paths"].values():
        for op in ops.values():
            assert op["security"], op["operationId"]


def test_each_operation_has_its_own_request_and_response_schemas(client: HttpClient) -> None:
    schema = _published(client)
    post = schema["paths"]["/api/v1/assignments/{assignment_id}/responses"]["post"]
    request_ref = post["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    response_ref = post["responses"]["201"]["content"]["application/json"]["schema"]["$ref"]
    assert request_ref.endswith("/ResponseSubmitIn")
    assert response_ref.endswith("/ResponseSubmitOut")


def test_errors_are_described_with_one_body_shape(client: HttpClient) -> None:
    error = _published(client)["components"]["schemas"]["ErrorOut"]
    assert set(error["properties"]) == {"detail", "errors", "risk_flag_raised"}
    assert error["required"] == ["detail", "errors"]  # risk_flag_raised: submissions only


def test_no_docs_page_loads_scripts_from_a_cdn(client: HttpClient) -> None:
    assert client.get("/api/v1/docs").status_code == 404
    names = set()
    stack: list[URLPattern | URLResolver] = list(get_resolver().url_patterns)
    while stack:
        pattern = stack.pop()
        if isinstance(pattern, URLResolver):
            stack.extend(pattern.url_patterns)
        else:
            names.add(pattern.name)
    assert "openapi-view" not in names
