"""Decision records: signed, chained per application; tampering and forgeries are named."""

import base64

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import delete, update

from engine.approvals import keys
from engine.approvals.records import (
    approved_content_hash,
    decisions_of,
    record_decision,
    record_hash,
    verify_decisions,
)
from engine.store.models import DecisionRecord
from tests.diagrams import chain, process, user_task
from tests.engine.helpers import deploy_text, start

ATTACHMENTS = [{"name": "申請書.pdf", "sha256": "a" * 64}, {"name": "見積書.pdf", "sha256": "b" * 64}]


@pytest.fixture
def application_id(engine, db, tmp_path):
    deploy_text(engine, db, tmp_path, process("kessai", "\n".join([
        '<bpmn:startEvent id="s"/>', user_task("a"), '<bpmn:endEvent id="e"/>', chain("s", "a", "e")])))
    return start(engine, db, "kessai", {"amount": 1000}).application.id


def decide(db, settings, application_id, actor="kakaricho", decision="approve", **extra):
    with db.transaction() as session:
        record = record_decision(session, settings, application_id=application_id, step="a", actor=actor,
                                 decision=decision, comment=extra.pop("comment", "異議なし"),
                                 data={"amount": 1000}, attachments=ATTACHMENTS, **extra)
        return record.id


@pytest.fixture
def decided(db, settings, application_id):
    """Three decisions: 係長 approves, 課長補佐 approves for the 課長 (代決), 部長 acknowledges."""
    decide(db, settings, application_id, "kakaricho")
    decide(db, settings, application_id, "hosa", on_behalf_of="kacho")
    decide(db, settings, application_id, "bucho", "acknowledge")
    return application_id


def verify(db):
    with db.transaction() as session:
        return verify_decisions(session)


def rows(db, application_id):
    with db.transaction() as session:
        return decisions_of(session, application_id)


def test_chain_of_decisions_is_signed_and_verifies(db, settings, decided):
    records = rows(db, decided)
    assert [r.seq for r in records] == [1, 2, 3]
    assert records[0].prev_hash == "0" * 64
    assert [r.prev_hash for r in records[1:]] == [r.hash for r in records[:2]]
    assert records[1].on_behalf_of == "kacho" and records[0].on_behalf_of is None
    assert records[0].content_hash == approved_content_hash({"amount": 1000}, ATTACHMENTS)
    assert len(base64.b64decode(records[0].signature)) == 64
    assert len({r.key_id for r in records}) == 1
    assert verify(db) == []


def test_chains_of_applications_are_separate(engine, db, settings, decided):
    other = start(engine, db, "kessai", {"amount": 5}).application.id
    decide(db, settings, other)
    assert [r.seq for r in rows(db, other)] == [1]
    assert verify(db) == []


@pytest.mark.parametrize("column, value", [
    ("comment", "改ざん"), ("decision", "reject"), ("actor", "mallory"), ("content_hash", "0" * 64),
    ("on_behalf_of", "shicho"), ("step", "z")])
def test_tampered_field_names_the_row(db, decided, column, value):
    target = rows(db, decided)[1]
    with db.transaction() as session:
        session.execute(update(DecisionRecord).where(DecisionRecord.id == target.id).values({column: value}))
    [finding] = verify(db)
    assert (finding.event_id, finding.seq, finding.chain) == (target.id, 2, f"decisions:{decided}")
    assert "altered" in finding.message
    assert f"row id={target.id}" in str(finding)


def test_deleted_middle_record_is_found(db, decided):
    records = rows(db, decided)
    with db.transaction() as session:
        session.execute(delete(DecisionRecord).where(DecisionRecord.id == records[1].id))
    [finding] = verify(db)
    assert (finding.event_id, finding.seq) == (records[2].id, 3)
    assert "deleted" in finding.message


def _forge(db, target, *, key_id=None, private_key=None, **changes):
    """Rewrite a record consistently (fields, hash) and re-sign it with a key outside the ring."""
    fields = {c: getattr(target, c) for c in ("application_id", "seq", "step", "actor", "on_behalf_of", "decision",
                                               "comment", "at", "content_hash", "prev_hash")}
    fields.update(changes)
    digest = record_hash(**fields)
    private_key = private_key or Ed25519PrivateKey.generate()
    signature = base64.b64encode(private_key.sign(bytes.fromhex(digest))).decode()
    values = {**changes, "hash": digest, "signature": signature}
    if key_id:
        values["key_id"] = key_id
    with db.transaction() as session:
        session.execute(update(DecisionRecord).where(DecisionRecord.id == target.id).values(values))


def test_forged_signature_with_the_ring_key_id_is_found(db, decided):
    target = rows(db, decided)[2]  # the last one, so no later link gives it away
    _forge(db, target, decision="reject")
    [finding] = verify(db)
    assert finding.event_id == target.id
    assert "signature does not verify" in finding.message


def test_record_signed_by_a_key_not_in_the_ring_is_found(db, decided):
    target = rows(db, decided)[2]
    outsider = Ed25519PrivateKey.generate()
    _forge(db, target, key_id=keys.key_id_of(keys.raw_public(outsider.public_key())), private_key=outsider,
           comment="forged")
    [finding] = verify(db)
    assert finding.event_id == target.id
    assert "not in the approval key ring" in finding.message


def test_records_before_and_after_rotation_verify(db, settings, application_id):
    decide(db, settings, application_id, "kakaricho")
    with db.transaction() as session:
        old = keys.ensure_key(settings, session).key_id
        new = keys.rotate(settings, session).key_id
    decide(db, settings, application_id, "kacho")
    records = rows(db, application_id)
    assert [r.key_id for r in records] == [old, new]
    assert old != new
    assert (keys.key_dir(settings) / f"{old}.pem").is_file()
    assert verify(db) == []


def test_content_hash_covers_attachment_hashes():
    base = approved_content_hash({"amount": 1000}, ATTACHMENTS)
    changed = [ATTACHMENTS[0], {"name": "見積書.pdf", "sha256": "c" * 64}]
    assert approved_content_hash({"amount": 1000}, changed) != base
    assert approved_content_hash({"amount": 1001}, ATTACHMENTS) != base
    assert approved_content_hash({"amount": 1000}, ATTACHMENTS[:1]) != base
    # Only name and hash count, and key order in the data does not.
    noisy = [{**a, "size": 1} for a in ATTACHMENTS]
    assert approved_content_hash({"amount": 1000}, noisy) == base


def test_unknown_application_is_refused(db, settings):
    from engine.errors import NotFound

    with pytest.raises(NotFound), db.transaction() as session:
        record_decision(session, settings, application_id=999_999, step="a", actor="x", decision="approve")
