"""The office's actions: group managers assign tasks, bulk approval where a route allows it,
staff comments and attachments — each audited, each step whole or not at all."""

from __future__ import annotations

import io

import pytest

from engine.errors import BadInput, NotFound, PermissionRefused
from engine.storage import engine_storage
from engine.store.models import AuditEvent
from tests.webui.conftest import add_staff
from tests.webui.test_office_setup import (
    bulk_bundle,
    drafted,
    drafted_bulk,
    office_fixture,  # noqa: F401 (the fixture "office")
    open_tasks,
    start,
)

PDF = b"%PDF-1.4\n1 0 obj\n<<>>\nendobj\ntrailer\n<<>>\n%%EOF\n"


@pytest.fixture
def bulk(office, db, tmp_path):
    with db.transaction() as session:
        office.deploy(session, bulk_bundle(tmp_path))
    return office


def events(engine, db, application_id: int, action: str) -> list[AuditEvent]:
    with db.transaction() as session:
        return [e for e in session.query(AuditEvent).filter_by(application_id=application_id, action=action)
                .order_by(AuditEvent.seq)]


def system_events(db, action: str) -> list[dict]:
    with db.transaction() as session:
        return [(e.actor, e.details) for e in session.query(AuditEvent).filter_by(chain="system", action=action)]


def review_task(engine, db) -> tuple[int, str]:
    (review,) = start(engine, db, "approval-test", {"amount": 1000, "purpose": "清掃"}).opened_tasks
    return review.application_id, review.id


def test_managers_are_added_listed_and_removed_with_an_audit_trail(office, db):
    with db.transaction() as session:
        office.add_group_manager(session, "tanto", "sato", actor="admin")
        office.add_group_manager(session, "tanto", "sato", actor="admin")  # twice is once
        office.add_group_manager(session, "kakaricho", "suzuki", actor="admin")
        assert office.group_managers(session) == [("kakaricho", "suzuki"), ("tanto", "sato")]
        assert office.managed_groups(session, "sato") == {"tanto"}
    with db.transaction() as session:
        office.remove_group_manager(session, "tanto", "sato", actor="admin")
        assert office.group_managers(session, group="tanto") == []
    with pytest.raises(NotFound), db.transaction() as session:
        office.remove_group_manager(session, "tanto", "sato")
    with pytest.raises(BadInput, match="no group 'nobody'"), db.transaction() as session:
        office.add_group_manager(session, "nobody", "sato")
    assert system_events(db, "group_manager_added") == [
        ("admin", {"group": "tanto", "user": "sato"}), ("admin", {"group": "kakaricho", "user": "suzuki"})]
    assert system_events(db, "group_manager_removed") == [("admin", {"group": "tanto", "user": "sato"})]


def test_a_manager_assigns_reassigns_and_unassigns_a_group_task(office, db):
    add_staff(office, db, "yamada", "tanto")
    application_id, task_id = review_task(office, db)
    with db.transaction() as session:
        office.add_group_manager(session, "tanto", "suzuki")
        assert office.assignable_people(session, task_id) == ["tanaka", "yamada"]
        assert office.assign_task(session, task_id, "tanaka", actor="suzuki").assignee == "tanaka"
    with db.transaction() as session:
        assert office.assign_task(session, task_id, "yamada", actor="suzuki").assignee == "yamada"
    with db.transaction() as session:
        assert office.assign_task(session, task_id, None, actor="suzuki").assignee is None
    trail = events(office, db, application_id, "task_assigned") + events(office, db, application_id, "task_unassigned")
    assert [(e.actor, e.details["assignee"], e.details["previous"]) for e in trail] == [
        ("suzuki", "tanaka", None), ("suzuki", "yamada", "tanaka"), ("suzuki", None, "yamada")]
    with db.transaction() as session:
        office.assign_task(session, task_id, "yamada", actor="suzuki")
    with db.transaction() as session:  # the assignee completes it; the manager is no candidate
        office.complete(session, task_id, actor="yamada", data={"checked": True})


def test_assigning_is_refused_to_non_managers_outsiders_and_closed_tasks(office, db):
    application_id, task_id = review_task(office, db)
    with db.transaction() as session:
        office.add_group_manager(session, "kokuho", "suzuki")  # manages another group
        office.add_group_manager(session, "tanto", "sato")
    with pytest.raises(PermissionRefused, match="manages none"), db.transaction() as session:
        office.assign_task(session, task_id, "tanaka", actor="suzuki")
    with pytest.raises(BadInput, match="neither a member"), db.transaction() as session:
        office.assign_task(session, task_id, "outsider", actor="sato")
    with db.transaction() as session:
        office.complete(session, task_id, actor="tanaka", data={"checked": True})
    from engine.errors import Conflict

    with pytest.raises(Conflict), db.transaction() as session:
        office.assign_task(session, task_id, "tanaka", actor="sato")
    assert events(office, db, application_id, "task_assigned") == []


def test_bulk_approval_approves_each_allowed_task_and_reports_each_refusal(bulk, db):
    allowed = [drafted_bulk(bulk, db) for _ in range(3)]
    not_allowed = drafted(bulk, db)
    tasks = [open_tasks(bulk, db, a, "approve")[0].id for a in allowed]
    other = open_tasks(bulk, db, not_allowed, "approve")[0].id
    with db.transaction() as session:
        assert bulk.bulk_approvable(session, [*tasks, other]) == set(tasks)
        bulk.decide(session, tasks[2], actor="sato", decision="approve")  # decided meanwhile: stale
    outcomes = bulk.approve_many([tasks[0], other, tasks[1], tasks[2], tasks[0]], actor="sato", comment="一括")
    assert [(o.task_id, o.approved, o.refusal) for o in outcomes] == [
        (tasks[0], True, None), (other, False, "PermissionRefused"), (tasks[1], True, None),
        (tasks[2], False, "Conflict")]
    assert "does not allow it" in outcomes[1].reason and outcomes[0].reference
    with db.transaction() as session:
        for application_id in allowed[:2]:
            last = bulk.decisions(session, application_id)[-1]
            assert (last.actor, last.decision, last.comment) == ("sato", "approve", "一括")
        assert bulk.decisions(session, not_allowed)[-1].decision == "draft"  # untouched
        assert not bulk.verify_audit(session)


def test_bulk_approval_keeps_the_single_approvals_permissions(bulk, db):
    application_id = drafted_bulk(bulk, db)
    (task,) = open_tasks(bulk, db, application_id, "approve")
    (outcome,) = bulk.approve_many([task.id], actor="outsider")
    assert not outcome.approved and outcome.refusal == "PermissionRefused"
    (missing,) = bulk.approve_many(["00000000-0000-0000-0000-000000000000"], actor="sato")
    assert missing.refusal == "NotFound"
    assert open_tasks(bulk, db, application_id, "approve")[0].id == task.id


def test_comments_are_kept_listed_and_audited(office, db):
    application_id, task_id = review_task(office, db)
    with db.transaction() as session:
        comment = office.add_comment(session, task_id, author="tanaka", body="  電話で確認済み  ")
    with db.transaction() as session:
        (kept,) = office.comments(session, application_id)
        assert (kept.author, kept.body, kept.task_id) == ("tanaka", "電話で確認済み", task_id)
    (event,) = events(office, db, application_id, "comment_added")
    assert event.actor == "tanaka" and event.details["comment_id"] == comment.id
    with pytest.raises(PermissionRefused), db.transaction() as session:
        office.add_comment(session, task_id, author="outsider", body="見たい")
    with pytest.raises(BadInput, match="empty"), db.transaction() as session:
        office.add_comment(session, task_id, author="tanaka", body="   ")
    with pytest.raises(BadInput, match="at most"), db.transaction() as session:
        office.add_comment(session, task_id, author="tanaka", body="長" * 4001)


def stored(engine, key: str, content: bytes, content_type: str) -> dict:
    kept = engine_storage(engine).put(key, io.BytesIO(content), content_type)
    return {"name": key.rsplit("/", 1)[-1], "key": kept.key, "size": kept.size, "sha256": kept.sha256,
            "content_type": content_type}


def test_attachments_are_listed_and_streamed_only_to_those_who_may_see_the_task(office, db):
    pdf = stored(office, "intake/1/証明書.pdf", PDF, "application/pdf")
    page = stored(office, "intake/1/page.html", b"<script>alert(1)</script>", "text/html")
    fake = stored(office, "intake/1/fake.png", b"<svg onload=alert(1)>", "image/png")
    (review,) = start(office, db, "approval-test", {"amount": 1000, "purpose": "清掃",
                                                   "files": [pdf, page], "photo": fake}).opened_tasks
    with db.transaction() as session:
        listed = office.attachments(session, review.application_id)
        assert [(a.field, a.name, a.size, a.content_type, a.previewable) for a in listed] == [
            ("files[0]", "証明書.pdf", len(PDF), "application/pdf", True),
            ("files[1]", "page.html", 25, "text/html", False),
            ("photo", "fake.png", 21, "image/png", True)]
        info, stream = office.open_attachment(session, review.id, pdf["sha256"], user="tanaka", preview=True)
        with stream:
            assert stream.read(3) + stream.read() == PDF
        with pytest.raises(BadInput, match="not shown"):
            office.open_attachment(session, review.id, page["sha256"], user="tanaka", preview=True)
        with pytest.raises(BadInput, match="its content is not"):
            office.open_attachment(session, review.id, fake["sha256"], user="tanaka", preview=True)
        info, stream = office.open_attachment(session, review.id, page["sha256"], user="tanaka")
        with stream:
            assert stream.read() == b"<script>alert(1)</script>"
        with pytest.raises(PermissionRefused):
            office.open_attachment(session, review.id, pdf["sha256"], user="outsider")
        with pytest.raises(NotFound):
            office.open_attachment(session, review.id, "cd" * 32, user="tanaka")


def test_absences_are_audited(office, db):
    from datetime import timedelta

    from engine.store.models import utcnow

    now = utcnow()
    with db.transaction() as session:
        absence = office.add_absence(session, "suzuki", now, now + timedelta(days=1), substitute="kondo",
                                     reason="出張", actor="admin")
    with db.transaction() as session:
        office.remove_absence(session, absence.id, actor="admin")
    ((actor, added),) = system_events(db, "absence_added")
    assert actor == "admin" and (added["user"], added["substitute"], added["reason"]) == ("suzuki", "kondo", "出張")
    ((actor, removed),) = system_events(db, "absence_removed")
    assert actor == "admin" and removed["absence_id"] == absence.id


def test_managers_from_the_command_line(office, cli):
    assert cli("groups", "managers", "add", "tanto", "sato", "--as", "admin").exit_code == 0
    listed = cli("groups", "managers", "list", "--json")
    assert listed.exit_code == 0 and '"group": "tanto"' in listed.output and '"user": "sato"' in listed.output
    assert cli("groups", "managers", "remove", "tanto", "sato").exit_code == 0
    assert cli("groups", "managers", "list").output == ""
    refused = cli("groups", "managers", "add", "nobody", "sato")
    assert refused.exit_code == 2 and "no group 'nobody'" in refused.output
