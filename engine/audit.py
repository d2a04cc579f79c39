"""The audit trail: append-only, hash-chained events, and their verification.

Every state change appends one event. Events form one chain per application
(``application:<id>``) plus a ``system`` chain for changes that belong to no application;
per-application chains let different applications be written in parallel, while the
application lock that a step already holds orders the events of one chain. Each event's
hash covers its content and the previous event's hash; ``audit_heads`` keeps the last link
of every chain so a deleted tail is noticed too.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

import orjson
from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from engine.store.models import AuditEvent, AuditHead, utcnow

GENESIS = "0" * 64
SYSTEM_CHAIN = "system"


def application_chain(application_id: int) -> str:
    return f"application:{application_id}"


def canonical_json(value) -> bytes:
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS)


def data_hash(value) -> str:
    """SHA-256 of the canonical JSON of ``value`` (task data, submitted form data …)."""
    return hashlib.sha256(canonical_json(value)).hexdigest()


def event_hash(*, chain: str, seq: int, at: datetime, actor: str | None, action: str,
               application_id: int | None, task_id: str | None, details: dict, data_hash: str | None,
               prev_hash: str) -> str:
    payload = {
        "chain": chain, "seq": seq, "at": at.isoformat(timespec="microseconds"), "actor": actor,
        "action": action, "application_id": application_id, "task_id": task_id, "details": details,
        "data_hash": data_hash, "prev_hash": prev_hash,
    }
    return hashlib.sha256(canonical_json(payload)).hexdigest()


def append_event(session: Session, *, action: str, actor: str | None, application_id: int | None = None,
                 task_id: str | None = None, details: dict | None = None, data=None) -> AuditEvent:
    """Append one event to its chain, in the caller's transaction."""
    chain = application_chain(application_id) if application_id is not None else SYSTEM_CHAIN
    head = _lock_head(session, chain)
    at = utcnow()
    details = details or {}
    hashed = data_hash(data) if data is not None else None
    seq = head.seq + 1
    digest = event_hash(chain=chain, seq=seq, at=at, actor=actor, action=action, application_id=application_id,
                        task_id=task_id, details=details, data_hash=hashed, prev_hash=head.hash)
    event = AuditEvent(chain=chain, seq=seq, at=at, actor=actor, action=action, application_id=application_id,
                       task_id=task_id, details=details, data_hash=hashed, prev_hash=head.hash, hash=digest)
    session.add(event)
    head.seq, head.hash = seq, digest
    return event


def _lock_head(session: Session, chain: str) -> AuditHead:
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    session.execute(insert(AuditHead).values(chain=chain, seq=0, hash=GENESIS).on_conflict_do_nothing())
    return session.scalars(select(AuditHead).where(AuditHead.chain == chain).with_for_update()).one()


@dataclass(frozen=True)
class AuditFinding:
    """The first thing wrong with a chain."""

    chain: str
    event_id: int | None
    seq: int | None
    message: str

    def __str__(self) -> str:
        row = f"row id={self.event_id} (chain {self.chain}, seq {self.seq})" if self.event_id else f"chain {self.chain}"
        return f"{row}: {self.message}"


def verify_chains(session: Session) -> Iterator[AuditFinding]:
    """Yield the first problem of every damaged chain, in chain order."""
    heads = {h.chain: h for h in session.scalars(select(AuditHead))}
    seen: set[str] = set()
    chain, expected_seq, prev = None, 1, GENESIS
    broken = False
    rows = session.scalars(select(AuditEvent).order_by(AuditEvent.chain, AuditEvent.seq)
                           .execution_options(yield_per=2000))
    for event in rows:
        if event.chain != chain:
            if chain is not None and not broken:
                yield from _check_tail(chain, expected_seq - 1, prev, heads)
            chain, expected_seq, prev, broken = event.chain, 1, GENESIS, False
            seen.add(chain)
        if broken:
            continue
        problem = _check_event(event, expected_seq, prev)
        if problem:
            broken = True
            yield AuditFinding(event.chain, event.id, event.seq, problem)
            continue
        expected_seq, prev = event.seq + 1, event.hash
    if chain is not None and not broken:
        yield from _check_tail(chain, expected_seq - 1, prev, heads)
    for missing in sorted(set(heads) - seen):
        if heads[missing].seq > 0:
            yield AuditFinding(missing, None, None, f"all {heads[missing].seq} events of the chain are missing")


def _check_event(event: AuditEvent, expected_seq: int, prev: str) -> str | None:
    if event.seq != expected_seq:
        return f"expected seq {expected_seq}, found {event.seq}: events were deleted"
    if event.prev_hash != prev:
        return "the link to the previous event does not match: an earlier event was altered or deleted"
    recomputed = event_hash(chain=event.chain, seq=event.seq, at=event.at, actor=event.actor, action=event.action,
                            application_id=event.application_id, task_id=event.task_id, details=event.details,
                            data_hash=event.data_hash, prev_hash=event.prev_hash)
    if recomputed != event.hash:
        return "the content does not match its hash: the row was altered"
    return None


def _check_tail(chain: str, last_seq: int, last_hash: str, heads: dict) -> Iterator[AuditFinding]:
    head = heads.get(chain)
    if head is None:
        yield AuditFinding(chain, None, None, "the chain has no head record")
    elif head.seq != last_seq or head.hash != last_hash:
        yield AuditFinding(chain, None, last_seq, f"the chain ends at seq {last_seq} but its head says "
                           f"{head.seq}: the last events were deleted or altered")
