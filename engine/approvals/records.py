"""Decision records: one signed, hash-chained record per decision on an application.

The audit trail (engine.audit) says *that* something changed; a decision record says who
decided what on which step, for whom, and exactly what content they approved — and is
signed with the approval key, so a database administrator who can rewrite rows (and
recompute hashes) still cannot forge a decision without the private key.

Each application has its own chain (seq 1, 2, …); each record's hash covers its fields and
the previous record's hash, and the signature is Ed25519 over the 32 hash bytes.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterable, Iterator, Mapping
from datetime import UTC, date, datetime

from cryptography.exceptions import InvalidSignature
from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from engine.approvals import keys
from engine.audit import GENESIS, AuditFinding, canonical_json
from engine.config import Settings
from engine.errors import NotFound
from engine.store.models import Application, DecisionHead, DecisionRecord, utcnow

APPLICATIONS = Application.__table__
RECORDS = DecisionRecord.__table__
HEADS = DecisionHead.__table__


def decision_chain(application_id: int) -> str:
    """The chain name used in findings, next to the audit trail's ``application:<id>``."""
    return f"decisions:{application_id}"


def approved_content_hash(data, attachments: Iterable[Mapping[str, str]] = ()) -> str:
    """SHA-256 of exactly what was approved: the data and the hash of every attachment.

    Attachments are ``{"name": ..., "sha256": ...}``; only those two keys count, in the
    order given (the order is part of what was presented to the approver).
    """
    files = [{"name": a["name"], "sha256": a["sha256"]} for a in attachments]
    return hashlib.sha256(canonical_json({"data": data, "attachments": files})).hexdigest()


def record_hash(*, application_id: int, seq: int, step: str, actor: str, on_behalf_of: str | None,
                decision: str, comment: str | None, at: datetime, content_hash: str, prev_hash: str,
                deadline: date | None = None) -> str:
    payload = {
        "application_id": application_id, "seq": seq, "step": step, "actor": actor,
        "on_behalf_of": on_behalf_of, "decision": decision, "comment": comment,
        # Normalised to UTC: a database may hand back the same instant in its session time zone.
        "at": at.astimezone(UTC).isoformat(timespec="microseconds"),
        "content_hash": content_hash, "prev_hash": prev_hash,
    }
    if deadline is not None:
        # Only when set, so records written before deadlines existed keep their hashes.
        payload["deadline"] = deadline.isoformat()
    return hashlib.sha256(canonical_json(payload)).hexdigest()


def record_decision(session: Session, settings: Settings, *, application_id: int, step: str, actor: str,
                    decision: str, comment: str | None = None, on_behalf_of: str | None = None, data=None,
                    attachments: Iterable[Mapping[str, str]] = (), deadline: date | None = None) -> DecisionRecord:
    """Append one signed decision to the application's chain, in the caller's transaction.

    ``deadline`` is a return's answer-by day; it is part of what is hashed and signed."""
    connection = session.connection()
    # The application row orders the chain: FOR UPDATE on PostgreSQL; SQLite already holds
    # the database write lock for the whole transaction (and ignores FOR UPDATE).
    locked = connection.execute(select(APPLICATIONS.c.id).where(APPLICATIONS.c.id == application_id)
                                .with_for_update()).first()
    if locked is None:
        raise NotFound(f"no application {application_id}")
    last = connection.execute(
        select(RECORDS.c.seq, RECORDS.c.hash).where(RECORDS.c.application_id == application_id)
        .order_by(RECORDS.c.seq.desc()).limit(1)).first()
    seq, prev = (last.seq + 1, last.hash) if last else (1, GENESIS)
    identity = keys.ensure_key(settings, session)
    at = utcnow()
    content = approved_content_hash(data, attachments)
    digest = record_hash(application_id=application_id, seq=seq, step=step, actor=actor, on_behalf_of=on_behalf_of,
                         decision=decision, comment=comment, at=at, content_hash=content, prev_hash=prev,
                         deadline=deadline)
    signature = base64.b64encode(identity.sign(bytes.fromhex(digest))).decode("ascii")
    new_id = connection.execute(insert(RECORDS).values(
        application_id=application_id, seq=seq, step=step, actor=actor, on_behalf_of=on_behalf_of,
        decision=decision, comment=comment, deadline=deadline, at=at, content_hash=content, prev_hash=prev,
        hash=digest,
        key_id=identity.key_id, signature=signature).returning(RECORDS.c.id)).scalar_one()
    # The head names the chain's last record, so removing records from its end is noticed too.
    if seq == 1:
        connection.execute(insert(HEADS).values(application_id=application_id, seq=seq, hash=digest))
    else:
        connection.execute(update(HEADS).where(HEADS.c.application_id == application_id).values(seq=seq, hash=digest))
    return session.get(DecisionRecord, new_id)


def decisions_of(session: Session, application_id: int) -> list[DecisionRecord]:
    return list(session.scalars(select(DecisionRecord).where(DecisionRecord.application_id == application_id)
                                .order_by(DecisionRecord.seq)))


def verify_decisions(session: Session) -> list[AuditFinding]:
    """The first problem of every damaged decision chain, shaped like the audit trail's findings."""
    return list(iter_decision_findings(session))


def iter_decision_findings(session: Session) -> Iterator[AuditFinding]:
    ring = keys.public_keys(session)
    heads = {row.application_id: (row.seq, row.hash) for row in session.execute(select(HEADS))}
    application_id, expected_seq, prev, broken = None, 1, GENESIS, False
    rows = session.scalars(select(DecisionRecord).order_by(DecisionRecord.application_id, DecisionRecord.seq)
                           .execution_options(yield_per=2000))
    for record in rows:
        if record.application_id != application_id:
            if application_id is not None and not broken:
                yield from _check_head(application_id, expected_seq - 1, prev, heads)
            heads.pop(application_id, None)
            application_id, expected_seq, prev, broken = record.application_id, 1, GENESIS, False
        if broken:
            continue
        problem = _check(record, expected_seq, prev, ring)
        if problem:
            broken = True
            yield AuditFinding(decision_chain(record.application_id), record.id, record.seq, problem)
            continue
        expected_seq, prev = record.seq + 1, record.hash
    if application_id is not None and not broken:
        yield from _check_head(application_id, expected_seq - 1, prev, heads)
    heads.pop(application_id, None)
    for lost_application, (seq, _hash) in sorted(heads.items()):
        yield AuditFinding(decision_chain(lost_application), None, seq,
                           f"the chain should end at record {seq}, but it has no records: they were deleted")


def _check_head(application_id: int, last_seq: int, last_hash: str, heads: dict) -> Iterator[AuditFinding]:
    head = heads.get(application_id)
    if head is None:
        yield AuditFinding(decision_chain(application_id), None, last_seq,
                           "the chain has no head: its head row was deleted, or the records were written "
                           "outside Madoguchi")
    elif head != (last_seq, last_hash):
        seq = head[0]
        what = (f"the chain ends at record {last_seq} but its head names record {seq}: the last "
                f"{seq - last_seq} record(s) were deleted") if seq > last_seq else \
            "the chain's last record does not match its head: records were added or rewritten outside Madoguchi"
        yield AuditFinding(decision_chain(application_id), None, seq, what)


def _check(record: DecisionRecord, expected_seq: int, prev: str, ring: dict) -> str | None:
    if record.seq != expected_seq:
        return f"expected seq {expected_seq}, found {record.seq}: decision records were deleted"
    if record.prev_hash != prev:
        return "the link to the previous decision does not match: an earlier record was altered or deleted"
    recomputed = record_hash(application_id=record.application_id, seq=record.seq, step=record.step,
                             actor=record.actor, on_behalf_of=record.on_behalf_of, decision=record.decision,
                             comment=record.comment, at=record.at, content_hash=record.content_hash,
                             prev_hash=record.prev_hash, deadline=record.deadline)
    if recomputed != record.hash:
        return "the content does not match its hash: the decision record was altered"
    public_key = ring.get(record.key_id)
    if public_key is None:
        return f"signed with key {record.key_id}, which is not in the approval key ring"
    try:
        public_key.verify(base64.b64decode(record.signature, validate=True), bytes.fromhex(record.hash))
    except (InvalidSignature, ValueError):
        return f"the signature does not verify with key {record.key_id}: the record was forged or re-hashed"
    return None
