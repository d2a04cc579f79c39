"""/api/v1/messages (correlation) and /api/v1/incidents (list, retry)."""

from __future__ import annotations

import pytest

from engine.facade import Engine
from engine.hookspecs import hookimpl
from tests.diagrams import chain, process, user_task
from tests.engine.helpers import deploy_text, start
from tests.engine.jobs.support import service_task
from tests.engine.jobs.test_messages import WAITS_BY_REFERENCE
from tests.webui.api.conftest import bearer


class DownRegistry:
    """A stand-in integration whose remote system is down."""

    __name__ = "down_registry"

    @hookimpl
    def madoguchi_operations(self):
        return {"registry.lookup": self.lookup}

    @staticmethod
    def lookup(params: dict, context) -> dict:
        raise ConnectionError("住民記録システムに接続できません")


@pytest.fixture
def engine(settings):
    return Engine(settings, plugins=(DownRegistry(),))


def test_a_message_reaches_the_waiting_application(office, engine, db, client, tmp_path, make_token):
    deploy_text(engine, db, tmp_path, WAITS_BY_REFERENCE)
    application = start(engine, db, "waits_by_reference").application
    headers = bearer(make_token("tanaka", "messages:write", "applications:read", name="bank"))
    sent = client.post("/api/v1/messages", headers=headers,
                       json={"name": "documents", "key": application.reference, "data": {"pages": 3}})
    assert sent.status_code == 202, sent.json
    assert (sent.json["status"], sent.json["application_id"]) == ("delivered", application.id)
    detail = client.get(f"/api/v1/applications/{application.id}", headers=headers).json
    assert detail["data"]["documents"] == {"pages": 3}
    assert [t["element_id"] for t in detail["open_tasks"]] == ["recheck"]

    early = client.post("/api/v1/messages", headers=headers, json={"name": "documents", "key": "2026-NONE-0000"})
    assert early.status_code == 202 and early.json["status"] == "buffered"
    refused = client.post("/api/v1/messages", headers=headers, json={"key": "k", "data": "text"})
    assert refused.status_code == 422 and {e["field"] for e in refused.json["errors"]} == {"name", "data"}


def test_incidents_are_listed_and_retried(engine, db, client, tmp_path, make_token):
    with db.transaction() as session:
        engine.add_user(session, "ops", groups=["johoka"])
    deploy_text(engine, db, tmp_path, process("subsidy", "\n".join([
        '<bpmn:startEvent id="s"/>', service_task("lookup", "registry.lookup", retry=(0, 0)),
        user_task("after", "確認"), '<bpmn:endEvent id="e"/>', chain("s", "lookup", "after", "e")])))
    application = start(engine, db, "subsidy", {"世帯": 3}).application
    engine.worker(db).run_once()
    headers = bearer(make_token("ops", "incidents:read", "incidents:write", name="monitoring"))

    listed = client.get("/api/v1/incidents", headers=headers).json["items"]
    assert [(i["application_id"], i["element_id"], i["status"]) for i in listed] == [
        (application.id, "lookup", "open")]
    assert "住民記録システム" in listed[0]["message"]
    assert client.get("/api/v1/incidents?status=resolved", headers=headers).json["items"] == []
    assert client.get("/api/v1/incidents?status=bogus", headers=headers).status_code == 422

    retried = client.post(f"/api/v1/incidents/{listed[0]['id']}/retry", headers=headers)
    assert retried.status_code == 200 and retried.json["resolution"] == "retried"
    assert retried.json["resolved_by"] == "ops"
    again = client.post(f"/api/v1/incidents/{listed[0]['id']}/retry", headers=headers)
    assert again.status_code == 409 and again.content_type == "application/problem+json"
    assert client.post("/api/v1/incidents/999999/retry", headers=headers).status_code == 404
    assert [i["status"] for i in client.get("/api/v1/incidents?status=all", headers=headers).json["items"]] == [
        "resolved"]
