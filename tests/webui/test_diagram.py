"""The diagram endpoint: the application's BPMN and where it stands."""

from __future__ import annotations

from pathlib import Path

from tests.engine.helpers import start

APPROVAL = Path(__file__).parents[1] / "workflows" / "approval"


def test_the_diagram_shows_where_the_application_stands(engine, db, staff):
    client = staff("tanaka", "tanto")
    with db.transaction() as session:
        engine.deploy(session, APPROVAL)
    application = start(engine, db, "approval-test", {"amount": 500_000}).application
    state = client.get(f"/diagram/applications/{application.id}.json").get_json()
    assert state["process_id"] == "approval_test" and "<bpmn:process" in state["xml"]
    assert state["active"] == ["review"] and "received" in state["completed"]
    # the file has no drawing information: the served XML carries a generated layout
    assert 'bpmnElement="review"' in state["xml"] and "<bpmndi:BPMNPlane" in state["xml"]
    assert state["taken"] == ["f1"] and state["active_steps"] == [{"id": "review", "name": "受付審査・起案"}]


def test_the_diagram_is_for_staff_only(engine, db, client):
    with db.transaction() as session:
        engine.deploy(session, APPROVAL)
    application = start(engine, db, "approval-test", {"amount": 1}).application
    answer = client.get(f"/diagram/applications/{application.id}.json")
    assert answer.status_code == 302 and "/sign-in" in answer.headers["Location"]


def test_an_unknown_application_is_not_found(staff):
    assert staff().get("/diagram/applications/999999.json").status_code == 404
