"""Admins cancel a running application or move it to a newer version of its procedure."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from engine.errors import BadInput, Conflict, NotFound
from engine.store.models import Application, AuditEvent, Incident, Job, MessageSubscription
from tests.diagrams import chain, flow, process, script_task, user_task
from tests.engine.helpers import add_user, complete, deploy_text, open_tasks, show, start

MESSAGE = '<bpmn:message id="reminder" name="reminder"/>'
WAITING_EVERYWHERE = process("cancel_me", "\n".join([
    '<bpmn:startEvent id="start"/>',
    '<bpmn:parallelGateway id="split"/>',
    user_task("review", "審査"),
    '<bpmn:intermediateCatchEvent id="wait_message"><bpmn:messageEventDefinition messageRef="reminder"/>'
    '</bpmn:intermediateCatchEvent>',
    '<bpmn:intermediateCatchEvent id="wait_timer"><bpmn:timerEventDefinition>'
    '<bpmn:timeDuration>"P3D"</bpmn:timeDuration></bpmn:timerEventDefinition></bpmn:intermediateCatchEvent>',
    '<bpmn:parallelGateway id="join"/>', '<bpmn:endEvent id="done"/>',
    flow("f1", "start", "split"), flow("f2", "split", "review"), flow("f3", "split", "wait_message"),
    flow("f4", "split", "wait_timer"), flow("f5", "review", "join"), flow("f6", "wait_message", "join"),
    flow("f7", "wait_timer", "join"), flow("f8", "join", "done"),
]), extra=MESSAGE)


def version(body: str) -> str:
    return process("moving", body)


V1 = version('<bpmn:startEvent id="start"/>' + user_task("review", "審査") + '<bpmn:endEvent id="end"/>'
             + chain("start", "review", "end"))
V2 = version('<bpmn:startEvent id="start"/>' + user_task("review", "受付審査")
             + script_task("notify", "notified = True") + '<bpmn:endEvent id="end"/>'
             + chain("start", "review", "notify", "end"))
V3 = version('<bpmn:startEvent id="start"/>' + user_task("check", "確認") + '<bpmn:endEvent id="end"/>'
             + chain("start", "check", "end"))


def _events(db, application_id: int, action: str) -> list[AuditEvent]:
    with db.transaction() as session:
        return list(session.scalars(select(AuditEvent).where(AuditEvent.application_id == application_id,
                                                             AuditEvent.action == action)))


def test_cancelling_ends_tasks_jobs_timers_and_subscriptions(engine, db, tmp_path):
    deploy_text(engine, db, tmp_path, WAITING_EVERYWHERE)
    application = start(engine, db, "cancel_me", {"name": "山田"}).application
    with db.transaction() as session:
        assert session.scalar(select(MessageSubscription).where(MessageSubscription.application_id == application.id))
        assert session.scalar(select(Application).where(Application.id == application.id)).next_timer_at
        session.add(Incident(application_id=application.id, kind="service", message="boom", attempts=3))
    with db.transaction() as session:
        result = engine.cancel_application(session, application.id, actor="admin", reason="申請者から電話で取下げ")
    assert result.application.status == "cancelled" and [t.element_id for t in result.closed_tasks] == ["review"]
    assert open_tasks(engine, db, application.id) == []
    with db.transaction() as session:
        stored = session.get(Application, application.id)
        assert stored.status == "cancelled" and stored.completed_at and stored.next_timer_at is None
        assert stored.message_waits == 0
        assert session.scalars(select(MessageSubscription).where(
            MessageSubscription.application_id == application.id)).all() == []
        assert session.scalars(select(Job).where(Job.application_id == application.id)).all() == []
        incident = session.scalar(select(Incident).where(Incident.application_id == application.id))
        assert (incident.status, incident.resolution, incident.resolved_by) == ("resolved", "cancelled", "admin")
    [event] = _events(db, application.id, "application_cancelled")
    assert event.actor == "admin" and event.details["reason"] == "申請者から電話で取下げ"
    assert show(engine, db, application.id)["data"]["name"] == "山田"


def test_cancelling_needs_a_reason_and_a_running_application(engine, db, tmp_path):
    deploy_text(engine, db, tmp_path, V1)
    application = start(engine, db, "moving").application
    with db.transaction() as session, pytest.raises(BadInput, match="reason"):
        engine.cancel_application(session, application.id, actor="admin", reason="  ")
    with db.transaction() as session:
        engine.cancel_application(session, application.id, actor="admin", reason="重複申請")
    with db.transaction() as session, pytest.raises(Conflict, match="already ended"):
        engine.cancel_application(session, application.id, actor="admin", reason="again")
    with db.transaction() as session, pytest.raises(NotFound):
        engine.cancel_application(session, 999_999, actor="admin", reason="none")


def test_plugins_hear_of_a_cancellation(settings, db, tmp_path):
    import pluggy

    from engine.facade import Engine

    heard = []

    class Listener:
        @pluggy.HookimplMarker("madoguchi")
        def madoguchi_application_finished(self, event):
            heard.append((event.kind, event.status, event.actor))

    engine = Engine(settings, plugins=(Listener(),))
    deploy_text(engine, db, tmp_path, V1)
    application = start(engine, db, "moving").application
    with db.transaction() as session:
        engine.cancel_application(session, application.id, actor="admin", reason="重複申請")
    assert heard == [("application_finished", "cancelled", "admin")]


def test_the_preview_maps_positions_and_the_migration_keeps_task_and_data(engine, db, tmp_path):
    add_user(engine, db, "tanaka", "clerks")
    deploy_text(engine, db, tmp_path, V1)
    application = start(engine, db, "moving", {"amount": 5}).application
    [task] = open_tasks(engine, db, application.id)
    with db.transaction() as session:
        engine.claim(session, task.id, actor="tanaka")
    deploy_text(engine, db, tmp_path, V2)
    with db.transaction() as session:
        assert engine.newer_versions(session, application.id) == [2]
        preview = engine.migration_preview(session, application.id, 2)
    assert preview.possible and (preview.from_version, preview.to_version) == (1, 2)
    [position] = preview.positions
    assert (position.element_id, position.state, position.found, position.new_name, position.changed) == \
        ("review", "ready", True, "受付審査", True)
    assert preview.added == ["notify"] and preview.removed == [] and preview.data_keys == ["amount"]

    with db.transaction() as session:
        engine.migrate_application(session, application.id, to_version=2, actor="admin")
    [still] = open_tasks(engine, db, application.id)
    assert (still.id, still.assignee) == (task.id, "tanaka")
    [event] = _events(db, application.id, "application_migrated")
    assert event.actor == "admin" and (event.details["from_version"], event.details["to_version"]) == (1, 2)
    complete(engine, db, task.id, "tanaka", {})
    data = show(engine, db, application.id)["data"]
    assert data["notified"] is True and data["amount"] == 5


def test_a_position_missing_in_the_new_version_is_refused_by_name(engine, db, tmp_path):
    deploy_text(engine, db, tmp_path, V1)
    application = start(engine, db, "moving").application
    deploy_text(engine, db, tmp_path, V2)
    deploy_text(engine, db, tmp_path, V3)
    with db.transaction() as session:
        preview = engine.migration_preview(session, application.id, 3)
    assert not preview.possible and preview.missing == ["review"]
    with db.transaction() as session, pytest.raises(Conflict, match="at review, which version 3 does not have"):
        engine.migrate_application(session, application.id, to_version=3, actor="admin")
    with db.transaction() as session, pytest.raises(BadInput, match="newer version"):
        engine.migration_preview(session, application.id, 1)
    with db.transaction() as session, pytest.raises(NotFound, match="no version 9"):
        engine.migration_preview(session, application.id, 9)
    assert _events(db, application.id, "application_migrated") == []


def test_the_command_line_previews_migrates_and_cancels(engine, db, tmp_path, cli):
    deploy_text(engine, db, tmp_path, V1)
    application = start(engine, db, "moving").application
    deploy_text(engine, db, tmp_path, V2)
    deploy_text(engine, db, tmp_path, V3)
    refused = cli("migrate", str(application.id), "--to-version", "3", "--dry-run")
    assert refused.exit_code == 4 and "review [ready] 審査 -> MISSING in v3" in refused.output
    preview = cli("migrate", str(application.id), "--to-version", "2", "--dry-run")
    assert preview.exit_code == 0 and "review [ready] 審査 -> review 受付審査" in preview.output
    assert _events(db, application.id, "application_migrated") == []
    moved = cli("migrate", str(application.id), "--to-version", "2", "--as", "admin")
    assert moved.exit_code == 0 and "now on version 2" in moved.output
    assert cli("cancel", str(application.id), "--as", "admin").exit_code == 2  # no reason
    cancelled = cli("cancel", str(application.id), "--reason", "重複申請", "--as", "admin")
    assert cancelled.exit_code == 0 and "cancelled (1 open task(s) closed)" in cancelled.output
    assert show(engine, db, application.id)["status"] == "cancelled"


def test_a_service_call_in_progress_goes_on_after_the_move(engine, db, tmp_path):
    from tests.engine.jobs.support import job_rows, service_task

    def calling(extra: str, ids: tuple[str, ...]) -> str:
        return process("calling", '<bpmn:startEvent id="start"/>' + service_task("lookup", "core.lookup")
                       + extra + '<bpmn:endEvent id="end"/>' + chain(*ids))

    engine.catalog.operations.add("core.lookup")  # known to deployment; the test completes the call itself
    deploy_text(engine, db, tmp_path, calling("", ("start", "lookup", "end")))
    application = start(engine, db, "calling").application
    [job] = job_rows(db, application_id=application.id)
    deploy_text(engine, db, tmp_path, calling(script_task("note", "noted = True"), ("start", "lookup", "note", "end")))
    with db.transaction() as session:
        preview, _result = engine.migrate_application(session, application.id, to_version=2, actor="admin")
    assert [(p.element_id, p.state) for p in preview.positions] == [("lookup", "started")]
    assert [j.id for j in job_rows(db, application_id=application.id)] == [job.id]  # not queued twice
    with db.transaction() as session:
        engine.applications.complete_service_call(session, application.id, job.task_id, {"found": True})
    data = show(engine, db, application.id)
    assert data["status"] == "completed" and data["data"]["noted"] is True and data["data"]["found"] is True
