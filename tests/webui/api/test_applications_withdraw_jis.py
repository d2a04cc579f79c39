"""/api/v1/applications: 取下げ under the portal's rules, and JIS X 0208 on the text of new ones."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from engine.store.models import AuditEvent
from tests.webui.api.conftest import bearer
from tests.webui.portal_apply_support import ANSWERS, BUNDLE, KEY

API_ANSWERS = {**ANSWERS, "household": 2}
del API_ANSWERS["notes"]


@pytest.fixture
def portal_procedure(office, engine, db) -> str:
    """The portal's test procedure: its manifest allows withdrawal, its start form has text fields."""
    with db.transaction() as session:
        engine.deploy(session, BUNDLE)
    return KEY


def created(client, headers, procedure: str, data: dict) -> dict:
    response = client.post("/api/v1/applications", headers=headers, json={"procedure": procedure, "data": data})
    assert response.status_code == 201, response.json
    return response.json


def status_of(engine, db, application_id: int) -> str:
    with db.transaction() as session:
        return engine.application(session, application_id).status


def test_withdraw_ends_the_application_with_the_reason(portal_procedure, client, make_token, engine, db):
    headers = bearer(make_token("tanaka"))
    application = created(client, headers, portal_procedure, API_ANSWERS)
    assert application["open_tasks"]

    response = client.post(f"/api/v1/applications/{application['id']}/withdraw", headers=headers,
                           json={"reason": "申請者から電話で取下げの申出"})
    assert response.status_code == 200, response.json
    assert response.json["status"] == "withdrawn" and response.json["completed_at"]
    assert response.json["open_tasks"] == []
    with db.transaction() as session:
        events = session.scalars(select(AuditEvent).where(AuditEvent.application_id == application["id"]))
        trail = [(e.action, e.actor, (e.details or {}).get("reason") or (e.details or {}).get("operation"))
                 for e in events]
    assert ("application_withdrawn", "tanaka", "申請者から電話で取下げの申出") in trail
    assert ("api_call", "tanaka", "applications.withdraw") in trail

    again = client.post(f"/api/v1/applications/{application['id']}/withdraw", headers=headers,
                        json={"reason": "二度目"})
    assert again.status_code == 409 and again.content_type == "application/problem+json"
    assert "cannot be withdrawn" in again.json["detail"]


def test_withdraw_is_refused_where_the_procedure_does_not_allow_it(office, client, make_token, engine, db):
    headers = bearer(make_token("tanaka"))
    application = created(client, headers, "dog-registration", {"kind": "new", "dog_name": "ポチ"})
    response = client.post(f"/api/v1/applications/{application['id']}/withdraw", headers=headers,
                           json={"reason": "不要になった"})
    assert response.status_code == 409 and response.content_type == "application/problem+json"
    assert "contact the office" in response.json["detail"]
    assert status_of(engine, db, application["id"]) == application["status"]


def test_withdraw_needs_a_reason_the_scope_and_a_real_application(portal_procedure, client, make_token,
                                                                   engine, db):
    headers = bearer(make_token("tanaka"))
    application = created(client, headers, portal_procedure, API_ANSWERS)
    path = f"/api/v1/applications/{application['id']}/withdraw"

    for body in ({}, {"reason": ""}, {"reason": "x", "extra": 1}):
        refused = client.post(path, headers=headers, json=body)
        assert refused.status_code == 422 and refused.content_type == "application/problem+json", body
        assert refused.json["errors"][0]["field"] in ("reason", "extra")
    blank = client.post(path, headers=headers, json={"reason": "   "})
    assert blank.status_code == 422 and "reason" in blank.json["detail"]

    read_only = client.post(path, headers=bearer(make_token("tanaka", "applications:read")), json={"reason": "x"})
    assert read_only.status_code == 403 and read_only.json["missing_scope"] == "applications:write"
    assert client.post(path, json={"reason": "x"}).status_code == 401
    for missing in (application["id"] + 1000, 2**31, 2**63):
        gone = client.post(f"/api/v1/applications/{missing}/withdraw", headers=headers, json={"reason": "x"})
        assert gone.status_code == 404 and gone.content_type == "application/problem+json", missing
    assert status_of(engine, db, application["id"]) == application["status"]


def test_create_refuses_text_outside_jis_x_0208_naming_characters_and_suggestions(portal_procedure, client,
                                                                                 make_token, engine, db):
    headers = bearer(make_token("tanaka"))
    with db.transaction() as session:
        before = engine.list_applications(session).total
    refused = client.post("/api/v1/applications", headers=headers, json={
        "procedure": portal_procedure, "data": {**API_ANSWERS, "applicant_name": "髙橋 𠮷子", "notes": "①番窓口"}})
    assert refused.status_code == 422 and refused.content_type == "application/problem+json"
    errors = {e["field"]: e for e in refused.json["errors"]}
    assert set(errors) == {"applicant_name", "notes"} and {e["rule"] for e in errors.values()} == {"jis"}
    assert errors["applicant_name"]["characters"] == [
        {"char": "髙", "code_point": "U+9AD9", "suggestion": "高"},
        {"char": "𠮷", "code_point": "U+20BB7", "suggestion": "吉"}]
    assert errors["notes"]["characters"] == [{"char": "①", "code_point": "U+2460", "suggestion": "1"}]
    assert "髙 (U+9AD9 → 高)" in errors["applicant_name"]["message"]

    # Form rules and JIS problems come back together, each beside its field.
    both = client.post("/api/v1/applications", headers=headers, json={
        "procedure": portal_procedure, "data": {**API_ANSWERS, "household": 0, "applicant_name": "髙橋"}})
    assert sorted((e["field"], e["rule"]) for e in both.json["errors"]) == [("applicant_name", "jis"),
                                                                           ("household", "minimum")]
    with db.transaction() as session:
        assert engine.list_applications(session).total == before


def test_create_stores_half_width_katakana_full_width(portal_procedure, client, make_token):
    headers = bearer(make_token("tanaka"))
    application = created(client, headers, portal_procedure, {**API_ANSWERS, "applicant_name": "ﾔﾏﾀﾞ ﾊﾅｺ～"})
    assert application["data"]["applicant_name"] == "ヤマダ ハナコ〜"


def test_create_without_a_form_checks_every_top_level_text(office, client, make_token):
    headers = bearer(make_token("tanaka"))
    refused = client.post("/api/v1/applications", headers=headers,
                          json={"procedure": "dog-registration", "data": {"owner": "濵田", "count": 1}})
    assert refused.status_code == 422
    assert [(e["field"], e["characters"][0]["suggestion"]) for e in refused.json["errors"]] == [("owner", "浜")]
