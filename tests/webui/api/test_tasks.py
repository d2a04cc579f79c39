"""/api/v1/tasks: the token user's tasks; claim and complete (form checked), decide on an
approval route; a task the user may not see is 404 as if it did not exist (IDOR)."""

from __future__ import annotations

from sqlalchemy import select

from engine.store.models import AuditEvent
from tests.webui.api.conftest import bearer
from tests.webui.test_office_setup import dog, drafted, open_tasks


def test_the_list_shows_the_users_tasks_and_their_groups_only(office, db, client, make_token):
    task_id = dog(office, db)
    application_id = drafted(office, db)
    eisei = bearer(make_token("eisei", "tasks:read"))
    assert [t["id"] for t in client.get("/api/v1/tasks", headers=eisei).json["items"]] == [task_id]
    by_group = client.get("/api/v1/tasks?group=seikatsu-eisei", headers=eisei).json["items"]
    assert [t["id"] for t in by_group] == [task_id]
    other_group = client.get("/api/v1/tasks?group=kakaricho", headers=eisei)
    assert other_group.status_code == 403 and "kakaricho" in other_group.json["detail"]
    sato = client.get("/api/v1/tasks", headers=bearer(make_token("sato", "tasks:read"))).json["items"]
    assert [(t["application_id"], t["kind"]) for t in sato] == [(application_id, "approve")]


def test_claim_then_complete_with_the_forms_field_errors_first(office, db, client, make_token):
    task_id = dog(office, db)
    headers = bearer(make_token("eisei", "tasks:write", name="eisei-desk"))
    claimed = client.post(f"/api/v1/tasks/{task_id}/claim", headers=headers)
    assert claimed.status_code == 200 and claimed.json["assignee"] == "eisei"

    refused = client.post(f"/api/v1/tasks/{task_id}/complete", headers=headers, json={"data": {"comment": "確認中"}})
    assert refused.status_code == 422 and refused.content_type == "application/problem+json"
    assert [(e["field"], e["rule"]) for e in refused.json["errors"]] == [("decision", "required")]

    done = client.post(f"/api/v1/tasks/{task_id}/complete", headers=headers,
                       json={"data": {"decision": "approve", "comment": "問題なし"}})
    assert done.status_code == 200, done.json
    assert [t["name"] for t in done.json["open_tasks"]] == ["決裁（係長専決）"]
    with db.transaction() as session:
        events = session.execute(select(AuditEvent.actor, AuditEvent.action, AuditEvent.details)
                                 .where(AuditEvent.task_id == task_id).order_by(AuditEvent.seq)).all()
    assert ("eisei", "task_completed") in [(actor, action) for actor, action, _ in events]
    assert [d["operation"] for _, action, d in events if action == "api_call"] == ["tasks.claim", "tasks.complete"]
    assert {d["token"] for _, action, d in events if action == "api_call"} == {"eisei-desk"}
    again = client.post(f"/api/v1/tasks/{task_id}/complete", headers=headers, json={"data": {"decision": "approve"}})
    assert again.status_code in (404, 409)


def test_an_approval_route_task_takes_a_decision(office, db, client, make_token):
    application_id = drafted(office, db)
    (task,) = open_tasks(office, db, application_id, "approve")
    headers = bearer(make_token("sato", "tasks:write"))
    no_decision = client.post(f"/api/v1/tasks/{task.id}/complete", headers=headers, json={})
    assert no_decision.status_code == 422 and no_decision.json["errors"][0]["field"] == "decision"
    unknown = client.post(f"/api/v1/tasks/{task.id}/complete", headers=headers, json={"decision": "maybe"})
    assert unknown.status_code == 422 and unknown.json["errors"][0]["field"] == "decision"
    no_reason = client.post(f"/api/v1/tasks/{task.id}/complete", headers=headers, json={"decision": "reject"})
    assert no_reason.status_code == 422 and "reason" in no_reason.json["detail"]
    approved = client.post(f"/api/v1/tasks/{task.id}/complete", headers=headers,
                           json={"decision": "approve", "comment": "確認しました"})
    assert approved.status_code == 200, approved.json
    assert "consult" in [t["kind"] for t in approved.json["open_tasks"]]


def test_a_task_the_user_may_not_see_is_404_like_none(office, db, client, make_token):
    task_id = dog(office, db)
    application_id = drafted(office, db)
    (route_task,) = open_tasks(office, db, application_id, "approve")
    outsider = bearer(make_token("outsider", "tasks:write", "tasks:read"))
    for target in (task_id, route_task.id, "00000000-0000-0000-0000-000000000000", "x" * 80):
        claim = client.post(f"/api/v1/tasks/{target}/claim", headers=outsider)
        complete = client.post(f"/api/v1/tasks/{target}/complete", headers=outsider,
                               json={"decision": "approve", "data": {"decision": "approve"}})
        assert (claim.status_code, complete.status_code) == (404, 404), target
        assert claim.json["detail"] == complete.json["detail"] == f"task {target} does not exist"
    assert client.get("/api/v1/tasks", headers=outsider).json["items"] == []
    assert [t.status for t in open_tasks(office, db, application_id, "approve")] == ["open"]
