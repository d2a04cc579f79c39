"""Stored workflow state: spec-less, versioned, and old recordings still load and run."""

import json
from pathlib import Path

import orjson
from sqlalchemy import select

from engine.store.models import Application, HumanTask, TaskCandidate, utcnow
from tests.engine.helpers import add_user, complete, show

SNAPSHOTS = Path(__file__).parent / "snapshots"


def test_state_is_stored_without_the_spec(engine, db, tmp_path):
    from tests.engine.helpers import deploy_text, start
    from tests.engine.test_applications import REVIEW_APPROVE

    deploy_text(engine, db, tmp_path, REVIEW_APPROVE)
    app = start(engine, db, "review_approve", {"fee": 1}).application
    envelope = orjson.loads(app.state)
    assert envelope["format"] == 1
    assert "spec" not in envelope["workflow"] and "subprocess_specs" not in envelope["workflow"]
    assert envelope["workflow"]["serializer_version"] == "1.5"


def test_state_recorded_by_spiffworkflow_3_0_still_loads_and_runs(engine, db):
    """The recording (serializer format 1.3) was made with SpiffWorkflow 3.0.0; see record_snapshot.py."""
    add_user(engine, db, "chief", "chiefs")
    meta = json.loads((SNAPSHOTS / "review_approve.spiff-1.3.meta.json").read_text())
    state = (SNAPSHOTS / "review_approve.spiff-1.3.state.json").read_bytes()
    assert orjson.loads(state)["workflow"]["serializer_version"] == "1.3"
    with db.transaction() as session:
        definition = engine.deploy(session, SNAPSHOTS / "review_approve.bpmn").definition
        now = utcnow()
        app = Application(reference="2025-SNAP-SHOT", definition_id=definition.id, status="in_review",
                          state=state, state_format=1, started_by="resident", created_at=now, updated_at=now)
        session.add(app)
        session.flush()
        session.add(HumanTask(id=meta["ready_task"]["id"], application_id=app.id, element_id="approve",
                              name="Approve", candidate_groups=["chiefs"], candidate_users=[], status="open",
                              created_at=now))
        session.flush()
        session.add(TaskCandidate(task_id=meta["ready_task"]["id"], kind="group", name="chiefs", created_at=now))
        app_id = app.id
    result = complete(engine, db, meta["ready_task"]["id"], "chief", {})
    assert result.application.status == "completed"
    assert show(engine, db, app_id)["data"]["result"] == "approve / 4200"
    with db.transaction() as session:
        saved = session.scalars(select(Application).where(Application.id == app_id)).one()
        assert orjson.loads(saved.state)["workflow"]["serializer_version"] == "1.5"
