"""The audit trail: every change is chained; tampering is found and the first bad row named."""

import pytest
from sqlalchemy import delete, select, update

from engine.store.models import AuditEvent, AuditHead
from tests.diagrams import chain, process, user_task
from tests.engine.helpers import add_user, complete, deploy_text, start


@pytest.fixture
def history(engine, db, tmp_path):
    add_user(engine, db, "clerk", "clerks")
    deploy_text(engine, db, tmp_path, process("audited", "\n".join([
        '<bpmn:startEvent id="s"/>', user_task("a"), user_task("b"), '<bpmn:endEvent id="e"/>',
        chain("s", "a", "b", "e")])))
    started = start(engine, db, "audited", {"amount": 1})
    nxt = complete(engine, db, started.opened_tasks[0].id, "clerk", {"ok": True})
    complete(engine, db, nxt.opened_tasks[0].id, "clerk", {"ok": True})
    return started.application.id


def verify(engine, db):
    with db.transaction() as session:
        return engine.verify_audit(session)


def events(db, application_id):
    with db.transaction() as session:
        return list(session.scalars(select(AuditEvent).where(AuditEvent.application_id == application_id)
                                    .order_by(AuditEvent.seq)))


def test_untouched_trail_verifies(engine, db, history):
    assert verify(engine, db) == []
    assert [e.seq for e in events(db, history)] == list(range(1, 7))


def test_altered_row_is_named(engine, db, history):
    target = events(db, history)[2]
    with db.transaction() as session:
        session.execute(update(AuditEvent).where(AuditEvent.id == target.id).values(actor="mallory"))
    [finding] = verify(engine, db)
    assert (finding.event_id, finding.seq) == (target.id, 3)
    assert "altered" in finding.message


def test_altered_data_hash_is_named(engine, db, history):
    target = events(db, history)[0]
    with db.transaction() as session:
        session.execute(update(AuditEvent).where(AuditEvent.id == target.id).values(data_hash="0" * 64))
    assert verify(engine, db)[0].event_id == target.id


def test_deleted_middle_row_is_found(engine, db, history):
    rows = events(db, history)
    with db.transaction() as session:
        session.execute(delete(AuditEvent).where(AuditEvent.id == rows[1].id))
    [finding] = verify(engine, db)
    assert finding.event_id == rows[2].id
    assert "deleted" in finding.message


def test_deleted_tail_is_found(engine, db, history):
    rows = events(db, history)
    with db.transaction() as session:
        session.execute(delete(AuditEvent).where(AuditEvent.id == rows[-1].id))
    [finding] = verify(engine, db)
    assert "head" in finding.message


def test_rewritten_chain_is_found_through_the_head(engine, db, history):
    with db.transaction() as session:
        session.execute(delete(AuditEvent).where(AuditEvent.application_id == history))
    [finding] = verify(engine, db)
    assert "missing" in finding.message


def test_cli_exits_non_zero_on_tampering(cli, engine, db, history):
    assert cli("audit", "verify").exit_code == 0
    with db.transaction() as session:
        session.execute(update(AuditHead).where(AuditHead.chain == "system").values(seq=99))
    result = cli("audit", "verify")
    assert result.exit_code == 1
    assert "TAMPERED" in result.stderr
