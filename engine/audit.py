"""The audit trail: append-only, hash-chained events, and their verification.

Every state change appends one event. Events form one chain per application
(``application:<id>``) plus a ``system`` chain for changes that belong to no application;
per-application chains let different applications be written in parallel, while the
application lock that a step already holds orders the events of one chain. Each event's
hash covers its content and the previous event's hash; ``audit_heads`` keeps the last link
of the system chain and each application row keeps the last link of its own chain, so a
deleted tail is noticed too.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

import orjson
from sqlalchemy import insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from engine.store.models import Application, AuditEvent, AuditHead, utcnow

APPLICATIONS = Application.__table__
HEADS = AuditHead.__table__
_INSERT_EVENTS = insert(AuditEvent.__table__)

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


class ChainRecorder:
    """Events of one step on one chain, hashed as they come and written in one statement.

    The caller holds the lock that orders the chain (the application row) and passes its
    current head; after ``write`` the new head is ``seq``/``head``.
    """

    def __init__(self, chain: str, seq: int, head: str, application_id: int | None):
        self.chain, self.seq, self.head, self.application_id = chain, seq, head, application_id
        self.rows: list[dict] = []

    def record(self, action: str, actor: str | None, *, task_id: str | None = None, details: dict | None = None,
               data=None) -> None:
        at = utcnow()
        details = details or {}
        hashed = data_hash(data) if data is not None else None
        self.seq += 1
        digest = event_hash(chain=self.chain, seq=self.seq, at=at, actor=actor, action=action,
                            application_id=self.application_id, task_id=task_id, details=details,
                            data_hash=hashed, prev_hash=self.head)
        self.rows.append({"chain": self.chain, "seq": self.seq, "at": at, "actor": actor, "action": action,
                          "application_id": self.application_id, "task_id": task_id, "details": details,
                          "data_hash": hashed, "prev_hash": self.head, "hash": digest})
        self.head = digest

    def write(self, connection) -> None:
        if self.rows:
            connection.execute(_INSERT_EVENTS, self.rows)
            self.rows = []


def append_event(session: Session, *, action: str, actor: str | None, application_id: int | None = None,
                 task_id: str | None = None, details: dict | None = None, data=None) -> None:
    """Append one event to its chain, in the caller's transaction (outside an application step)."""
    connection = session.connection()
    if application_id is None:
        seq, head = _lock_system_head(connection)
    else:
        row = connection.execute(
            select(APPLICATIONS.c.audit_seq, APPLICATIONS.c.audit_hash)
            .where(APPLICATIONS.c.id == application_id).with_for_update()
        ).one()
        seq, head = row.audit_seq, row.audit_hash
    chain = application_chain(application_id) if application_id is not None else SYSTEM_CHAIN
    recorder = ChainRecorder(chain, seq, head, application_id)
    recorder.record(action, actor, task_id=task_id, details=details, data=data)
    recorder.write(connection)
    if application_id is None:
        connection.execute(update(HEADS).where(HEADS.c.chain == SYSTEM_CHAIN)
                           .values(seq=recorder.seq, hash=recorder.head))
    else:
        connection.execute(update(APPLICATIONS).where(APPLICATIONS.c.id == application_id)
                           .values(audit_seq=recorder.seq, audit_hash=recorder.head))


def _lock_system_head(connection) -> tuple[int, str]:
    dialect = connection.dialect.name
    upsert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    connection.execute(upsert(HEADS).values(chain=SYSTEM_CHAIN, seq=0, hash=GENESIS).on_conflict_do_nothing())
    row = connection.execute(select(HEADS.c.seq, HEADS.c.hash).where(HEADS.c.chain == SYSTEM_CHAIN)
                             .with_for_update()).one()
    return row.seq, row.hash


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


@dataclass(frozen=True)
class _Head:
    seq: int
    hash: str


def verify_chains(session: Session) -> Iterator[AuditFinding]:
    """Yield the first problem of every damaged chain, in chain order."""
    connection = session.connection()
    heads = {row.chain: _Head(row.seq, row.hash) for row in connection.execute(select(HEADS))}
    for row in connection.execute(select(APPLICATIONS.c.id, APPLICATIONS.c.audit_seq, APPLICATIONS.c.audit_hash)
                                  .where(APPLICATIONS.c.audit_seq > 0)):
        heads[application_chain(row.id)] = _Head(row.audit_seq, row.audit_hash)
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
