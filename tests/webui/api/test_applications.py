"""/api/v1/applications: start (checked against the procedure's start form), list, read."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest

from engine.store.models import utcnow
from tests.diagrams import chain, process, user_task
from tests.webui.api.conftest import bearer

START_FORM = {"type": "object", "required": ["name", "count"],
              "properties": {"name": {"type": "string", "minLength": 1}, "count": {"type": "integer", "minimum": 1}}}


@pytest.fixture
def permit(engine, db, tmp_path: Path) -> str:
    """A procedure whose start event names its form (formKey "apply")."""
    bundle = tmp_path / "permit"
    (bundle / "forms").mkdir(parents=True)
    (bundle / "forms" / "apply.json").write_text(json.dumps(START_FORM), encoding="utf-8")
    (bundle / "procedure.toml").write_text('key = "permit"\nprocess = "permit"\n', encoding="utf-8")
    start = ('<bpmn:startEvent id="s"><bpmn:extensionElements><spiffworkflow:properties>'
             '<spiffworkflow:property name="formKey" value="apply"/></spiffworkflow:properties>'
             '</bpmn:extensionElements></bpmn:startEvent>')
    (bundle / "permit.bpmn").write_text(process("permit", "\n".join([
        start, user_task("review", "受付審査", groups="tanto"), '<bpmn:endEvent id="e"/>',
        chain("s", "review", "e")])), encoding="utf-8")
    with db.transaction() as session:
        engine.deploy(session, bundle)
    return "permit"


def test_create_checks_the_start_form_field_by_field(office, permit, client, make_token):
    headers = bearer(make_token("tanaka"))
    refused = client.post("/api/v1/applications", headers=headers,
                          json={"procedure": "permit", "data": {"name": "", "count": 0}})
    assert refused.status_code == 422 and refused.content_type == "application/problem+json"
    assert sorted((e["field"], e["rule"]) for e in refused.json["errors"]) == [("count", "minimum"),
                                                                              ("name", "minLength")]
    missing = client.post("/api/v1/applications", headers=headers, json={"procedure": "permit", "data": {}})
    assert sorted(e["field"] for e in missing.json["errors"]) == ["count", "name"]

    created = client.post("/api/v1/applications", headers=headers,
                          json={"procedure": "permit", "data": {"name": "見本 太郎", "count": 2}})
    assert created.status_code == 201, created.json
    body = created.json
    assert body["procedure"] == "permit" and body["data"] == {"name": "見本 太郎", "count": 2}
    assert body["started_by"] == "tanaka" and body["reference"]
    assert [t["element_id"] for t in body["open_tasks"]] == ["review"] and body["documents"] == []


def test_create_refuses_bad_requests_with_named_fields(office, client, make_token):
    headers = bearer(make_token("tanaka"))
    unknown = client.post("/api/v1/applications", headers=headers, json={"procedure": "nope", "data": {}})
    assert unknown.status_code == 404 and "nope" in unknown.json["detail"]
    wrong = client.post("/api/v1/applications", headers=headers, json={"data": [], "extra": 1})
    assert wrong.status_code == 422
    assert {e["field"] for e in wrong.json["errors"]} == {"procedure", "data", "extra"}
    not_json = client.post("/api/v1/applications", headers={**headers, "Content-Type": "application/json"},
                           data=b"{not json")
    assert not_json.status_code in (400, 422) and not_json.content_type == "application/problem+json"


def test_a_procedure_without_a_start_form_takes_any_object(office, client, make_token):
    created = client.post("/api/v1/applications", headers=bearer(make_token("tanaka")),
                          json={"procedure": "approval-test", "data": {"amount": 5000, "purpose": "備品"}})
    assert created.status_code == 201 and created.json["open_tasks"][0]["element_id"] == "review"


def test_list_filters_and_pages(office, permit, client, make_token):
    headers = bearer(make_token("tanaka"))
    for count in (1, 2, 3):
        client.post("/api/v1/applications", headers=headers,
                    json={"procedure": "permit", "data": {"name": "n", "count": count}})
    client.post("/api/v1/applications", headers=headers, json={"procedure": "approval-test", "data": {}})

    everything = client.get("/api/v1/applications", headers=headers).json
    assert everything["total"] == 4 and len(everything["items"]) == 4
    first = client.get("/api/v1/applications?procedure=permit&limit=2", headers=headers).json
    second = client.get("/api/v1/applications?procedure=permit&limit=2&offset=2", headers=headers).json
    assert first["total"] == second["total"] == 3
    assert len(first["items"]) == 2 and len(second["items"]) == 1
    ids = [a["id"] for a in first["items"] + second["items"]]
    assert ids == sorted(ids, reverse=True)  # newest first
    status = everything["items"][0]["status"]
    assert client.get("/api/v1/applications?status=withdrawn", headers=headers).json["total"] == 0
    assert client.get(f"/api/v1/applications?status={status}", headers=headers).json["total"] == sum(
        a["status"] == status for a in everything["items"])
    later = (utcnow() + timedelta(minutes=5)).isoformat()
    assert client.get("/api/v1/applications", query_string={"since": later}, headers=headers).json["total"] == 0
    naive = client.get("/api/v1/applications?since=2026-01-01T00:00:00", headers=headers)
    assert naive.status_code == 422 and naive.json["errors"][0]["field"] == "since"
    too_many = client.get("/api/v1/applications?limit=1000", headers=headers)
    assert too_many.status_code == 422 and too_many.json["errors"][0]["field"] == "limit"


def test_get_answers_one_application_or_404(office, client, make_token):
    headers = bearer(make_token("tanaka"))
    created = client.post("/api/v1/applications", headers=headers,
                          json={"procedure": "approval-test", "data": {"amount": 1, "purpose": "p"}}).json
    answer = client.get(f"/api/v1/applications/{created['id']}", headers=headers)
    assert answer.status_code == 200 and answer.json == created
    missing = client.get("/api/v1/applications/999999", headers=headers)
    assert missing.status_code == 404 and missing.content_type == "application/problem+json"
