"""The job table: enqueue, claim with a lease, heartbeat, take over, fail, release.

Claiming uses ``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so any number of workers on any
number of machines pick different jobs without waiting on each other; SQLite runs every
transaction with ``BEGIN IMMEDIATE``, which serialises claims.
"""

from __future__ import annotations

import traceback as tb
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select, text, update
from sqlalchemy.orm import Session

from engine.audit import append_event
from engine.jobs.backoff import retry_delay
from engine.store.models import Incident, Job, utcnow

NOTIFY_CHANNEL = "madoguchi_jobs"


class WorkerLost(Exception):
    """The worker running a job stopped (killed, crashed, hung) and its lease expired."""


def enqueue(session: Session, kind: str, payload: dict | None = None, *, application_id: int | None = None,
            task_id: str | None = None, due_at: datetime | None = None, max_attempts: int = 5,
            backoff_seconds: float = 10.0, idempotency_key: str | None = None,
            singleton_key: str | None = None) -> Job:
    """Add a job (or, with ``singleton_key``, move the existing one) in the caller's transaction."""
    now = utcnow()
    due_at = due_at or now
    if singleton_key is not None:
        job = session.scalars(select(Job).where(Job.singleton_key == singleton_key).with_for_update()).first()
        if job is not None:
            job.kind, job.payload, job.due_at, job.status = kind, payload or {}, due_at, "pending"
            job.application_id, job.task_id, job.attempts, job.updated_at = application_id, task_id, 0, now
            job.lease_owner = job.lease_expires_at = None
            wake_workers(session)
            return job
    job = Job(kind=kind, payload=payload or {}, application_id=application_id, task_id=task_id, due_at=due_at,
              max_attempts=max_attempts, backoff_seconds=backoff_seconds, singleton_key=singleton_key,
              idempotency_key=idempotency_key or "", status="pending", attempts=0, created_at=now, updated_at=now)
    session.add(job)
    session.flush()
    if not job.idempotency_key:
        job.idempotency_key = f"job-{job.id}"
    wake_workers(session)
    return job


def drop_singleton(session: Session, singleton_key: str) -> None:
    # A failed job stays: it backs an open incident until an admin retries or resolves it.
    session.execute(delete(Job).where(Job.singleton_key == singleton_key, Job.status == "pending"))


def drop_service_jobs(session: Session, application_id: int, task_ids: set[str]) -> None:
    """Remove the not-yet-running service jobs of these tasks."""
    session.execute(delete(Job).where(Job.application_id == application_id, Job.kind == "service",
                                      Job.task_id.in_(sorted(task_ids)), Job.status != "running")
                    .execution_options(synchronize_session=False))


def wake_workers(session: Session) -> None:
    """Tell listening workers (PostgreSQL NOTIFY, sent at commit) that there is new work."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text(f"NOTIFY {NOTIFY_CHANNEL}"))


def claim(session: Session, owner: str, *, limit: int, lease_seconds: float,
          on_incident: Callable[[Incident], None] | None = None) -> list[Job]:
    """Lease up to ``limit`` jobs to ``owner``: first jobs whose lease expired (their worker
    died), then due pending jobs, oldest first.

    A job whose lease expired after its last attempt (it crashed or hung its worker each
    time) is not run again but becomes an incident, so one poisonous job cannot take worker
    after worker down.

    Two queries rather than one with OR: each walks its own index (status, lease_expires_at
    and status, due_at) and stops after ``limit`` rows, where the OR form sorted every due
    job on every claim (milliseconds per claim with ten thousand jobs waiting).
    """
    now = utcnow()
    expired = (select(Job).where(Job.status == "running", Job.lease_expires_at < now)
               .order_by(Job.lease_expires_at).limit(limit).with_for_update(skip_locked=True))
    ids = []
    for job in session.scalars(expired):
        if job.attempts >= job.max_attempts:  # it took its worker down every time: stop here
            incident = _failed_attempt(session, job, WorkerLost(
                f"the worker running attempt {job.attempts} ({job.lease_owner}) stopped without finishing it; "
                "no attempts left"))
            if incident is not None and on_incident is not None:
                on_incident(incident)
        else:
            ids.append(job.id)
    if len(ids) < limit:
        due = (select(Job.id).where(Job.status == "pending", Job.due_at <= now)
               .order_by(Job.due_at).limit(limit - len(ids)).with_for_update(skip_locked=True))
        ids += list(session.scalars(due))
    if not ids:
        return []
    session.execute(
        update(Job).where(Job.id.in_(ids)).values(
            status="running", lease_owner=owner, lease_expires_at=now + timedelta(seconds=lease_seconds),
            attempts=Job.attempts + 1, updated_at=now,
        ).execution_options(synchronize_session=False)
    )
    return list(session.scalars(select(Job).where(Job.id.in_(ids)).order_by(Job.due_at)
                                .execution_options(populate_existing=True)))


def heartbeat(session: Session, owner: str, lease_seconds: float) -> int:
    """Extend the leases of every job ``owner`` runs; returns how many."""
    now = utcnow()
    result = session.execute(update(Job).where(Job.lease_owner == owner, Job.status == "running").values(
        lease_expires_at=now + timedelta(seconds=lease_seconds)).execution_options(synchronize_session=False))
    return result.rowcount


def take(session: Session, job_id: int, owner: str) -> bool:
    """Remove a job this worker still holds, in the transaction that applies its effect.

    False means the lease was lost (another worker took the job over): the caller must not
    apply the effect, and rolls back. One DELETE: it locks the row, and on PostgreSQL a
    concurrent takeover makes it re-check the owner and find nothing.
    """
    result = session.execute(delete(Job).where(Job.id == job_id, Job.lease_owner == owner, Job.status == "running")
                             .execution_options(synchronize_session=False))
    return result.rowcount == 1


def fail(session: Session, job_id: int, owner: str, error: BaseException, *, element_id: str | None = None,
         ) -> Incident | None:
    """Record a failed attempt: schedule a retry, or raise an incident when none are left."""
    job = session.scalars(select(Job).where(Job.id == job_id, Job.lease_owner == owner).with_for_update()).first()
    if job is None:
        return None
    return _failed_attempt(session, job, error, element_id=element_id)


def _failed_attempt(session: Session, job: Job, error: BaseException, *, element_id: str | None = None,
                    ) -> Incident | None:
    now = utcnow()
    message = f"{type(error).__name__}: {error}"
    job.last_error, job.updated_at = message, now
    job.lease_owner = job.lease_expires_at = None
    # An error that says a retry cannot help (retryable = False: a script that fails the same
    # way every time, a refused request) becomes an incident at once instead of using up
    # the attempts; anything else — timeouts, 5xx, lost connections — is retried.
    if job.attempts < job.max_attempts and getattr(error, "retryable", True) is not False:
        job.status = "pending"
        job.due_at = now + timedelta(seconds=retry_delay(job.attempts, job.backoff_seconds))
        return None
    job.status = "failed"
    incident = Incident(application_id=job.application_id, job_id=job.id, kind=job.kind,
                        element_id=element_id or (job.payload or {}).get("element_id"), message=message,
                        traceback="".join(tb.format_exception(error)), attempts=job.attempts, status="open",
                        created_at=now)
    session.add(incident)
    session.flush()
    append_event(session, action="incident_raised", actor="system:worker", application_id=job.application_id,
                 task_id=job.task_id, details={"incident_id": incident.id, "kind": job.kind, "error": message[:500]})
    return incident


def release(session: Session, owner: str, job_ids: list[int]) -> None:
    """Give jobs back unrun (a worker stopping): the attempt does not count."""
    if job_ids:
        session.execute(update(Job).where(Job.id.in_(job_ids), Job.lease_owner == owner).values(
            status="pending", lease_owner=None, lease_expires_at=None, attempts=Job.attempts - 1,
        ).execution_options(synchronize_session=False))


def next_wakeup(session: Session) -> datetime | None:
    """The earliest moment a job becomes claimable: a due time or an expiring lease."""
    pending = session.scalar(select(func.min(Job.due_at)).where(Job.status == "pending"))
    expiring = session.scalar(select(func.min(Job.lease_expires_at)).where(Job.status == "running"))
    times = [t for t in (pending, expiring) if t is not None]
    return min(times) if times else None
