"""Incidents: jobs whose retries ran out, waiting for an admin to retry or resolve them."""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from engine.audit import append_event
from engine.errors import Conflict, NotFound
from engine.store.models import Incident, Job, utcnow


def list_incidents(session: Session, *, status: str | None = "open", application_id: int | None = None,
                   ) -> list[Incident]:
    query = select(Incident).order_by(Incident.id)
    if status is not None:
        query = query.where(Incident.status == status)
    if application_id is not None:
        query = query.where(Incident.application_id == application_id)
    return list(session.scalars(query))


def _open(session: Session, incident_id: int) -> Incident:
    incident = session.scalars(select(Incident).where(Incident.id == incident_id).with_for_update()).first()
    if incident is None:
        raise NotFound(f"incident {incident_id} does not exist")
    if incident.status != "open":
        raise Conflict(f"incident {incident_id} was already {incident.resolution} by {incident.resolved_by}")
    return incident


def _close(session: Session, incident: Incident, actor: str | None, resolution: str) -> None:
    incident.status, incident.resolution = "resolved", resolution
    incident.resolved_at, incident.resolved_by = utcnow(), actor
    append_event(session, action=f"incident_{resolution}", actor=actor, application_id=incident.application_id,
                 details={"incident_id": incident.id})


def retry(session: Session, incident_id: int, *, actor: str | None) -> Incident:
    """Run the failed job again now, with a fresh set of attempts."""
    incident = _open(session, incident_id)
    job = session.get(Job, incident.job_id) if incident.job_id else None
    if job is None:
        raise Conflict(f"incident {incident_id} has no job left to retry; resolve it instead")
    job.status, job.attempts, job.due_at, job.updated_at = "pending", 0, utcnow(), utcnow()
    job.lease_owner = job.lease_expires_at = None
    from engine.jobs.store import wake_workers

    wake_workers(session)
    _close(session, incident, actor, "retried")
    return incident


def resolve(session: Session, incident_id: int, applications, *, actor: str | None,
            data: dict | None = None) -> Incident:
    """Close the incident without running the job again.

    For a failed service call this means the work was done by hand: the service task is
    completed with ``data`` as the operation's result and the application runs on. A failed
    timer step cannot be resolved (only retried); other jobs are simply dropped.
    """
    incident = _open(session, incident_id)
    job = session.get(Job, incident.job_id) if incident.job_id else None
    if job is not None and job.kind == "timer":
        raise Conflict(f"incident {incident_id} is a timer step that failed: dropping it would leave application "
                       f"{job.application_id} waiting for a timer that never fires; fix the cause and retry it")
    if job is not None:
        if job.kind == "service" and job.application_id is not None:
            applications.complete_service_call(session, job.application_id, job.task_id, data or {},
                                               actor=actor or "admin")
        # (completing a service task may already have removed its job with the step)
        session.execute(delete(Job).where(Job.id == job.id).execution_options(synchronize_session=False))
        session.expunge(job)
    _close(session, incident, actor, "resolved")
    return incident
