"""The OpenAPI document: generated from the request schemas, served at /api/v1/openapi.json;
Schemathesis generates requests from it (valid and not) and the API never answers 5xx."""

from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import GenerationMode

from tests.webui.api.conftest import bearer
from tests.webui.test_office_setup import dog, drafted

EXAMPLES_PER_OPERATION = 5


def test_the_document_describes_every_operation_with_its_scope(office, client):
    answer = client.get("/api/v1/openapi.json")
    assert answer.status_code == 200
    document = answer.json
    assert document["openapi"].startswith("3.") and document["info"]["title"] == "Madoguchi API"
    assert document["components"]["securitySchemes"]["bearerAuth"] == {
        "type": "http", "scheme": "bearer", "description": "mdg_… token from `madoguchi tokens create`"}
    operations = {(method.upper(), path): spec for path, item in document["paths"].items()
                  for method, spec in item.items() if method in ("get", "post")}
    assert set(operations) == {
        ("POST", "/api/v1/applications"), ("GET", "/api/v1/applications"),
        ("GET", "/api/v1/applications/{application_id}"), ("POST", "/api/v1/applications/{application_id}/withdraw"),
        ("GET", "/api/v1/tasks"),
        ("POST", "/api/v1/tasks/{task_id}/claim"), ("POST", "/api/v1/tasks/{task_id}/complete"),
        ("POST", "/api/v1/messages"), ("GET", "/api/v1/documents/{public_id}"),
        ("GET", "/api/v1/documents/{public_id}/pdf"), ("POST", "/api/v1/documents/verify"),
        ("GET", "/api/v1/incidents"), ("POST", "/api/v1/incidents/{incident_id}/retry"),
        ("POST", "/api/v1/uploads"), ("GET", "/api/v1/uploads/{upload_id}")}
    for spec in operations.values():
        [requirement] = spec["security"]
        assert list(requirement) == ["bearerAuth"] and requirement["bearerAuth"][0] in spec["description"]
        assert spec["responses"]["401"]["content"] == {
            "application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
    create = document["components"]["schemas"]["ApplicationCreate"]
    assert create["required"] == ["procedure"] and create["additionalProperties"] is False


def test_generated_requests_never_get_a_server_error(office, engine, db, app, make_token):
    # Something to find: open tasks of both kinds and their applications.
    dog(engine, db)
    drafted(engine, db)
    headers = bearer(make_token("tanaka"))
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    failures: list[str] = []
    for result in schema.get_all_operations():
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            fuzz(result.ok(), mode, headers, failures)
    assert failures == []


def fuzz(operation, mode, headers: dict, failures: list[str]) -> None:
    """Send EXAMPLES_PER_OPERATION generated requests to ``operation``; note each 5xx."""

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None, database=None, derandomize=True,
              phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
    def call(case):
        response = case.call(headers=headers)
        if response.status_code >= 500:
            failures.append(f"{mode.value} {operation.method.upper()} {case.formatted_path} "
                            f"→ {response.status_code}: {response.text[:300]}")

    call()
