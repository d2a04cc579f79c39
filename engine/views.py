"""Read models handed to callers: plain data, stable field names (the CLI's --json contract)."""

from __future__ import annotations

from dataclasses import dataclass, field

from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.store.models import Application, AuditEvent, Definition, Incident
from engine.tasklist import tasks_of_application


def application_data(workflow: BpmnWorkflow) -> dict:
    """The application's current data: the process result once finished, else the data of
    the most recently completed step."""
    if workflow.completed:
        return dict(workflow.data)
    task = workflow.last_task or workflow.task_tree
    return dict(task.data)


@dataclass
class ApplicationView:
    application: Application
    definition: Definition
    data: dict
    tasks: list
    history: list[AuditEvent]
    #: Jobs of this application whose retries ran out (open and resolved), oldest first.
    incidents: list[Incident] = field(default_factory=list)
    #: Approval routes (oldest first) and the signed decision records of the application.
    routes: list = field(default_factory=list)
    decisions: list = field(default_factory=list)

    def summary(self) -> dict:
        a = self.application
        return {"id": a.id, "reference": a.reference, "status": a.status}

    def as_dict(self) -> dict:
        a = self.application
        return {
            **self.summary(),
            "procedure": self.definition.key,
            "version": self.definition.version,
            "started_by": a.started_by,
            "created_at": a.created_at.isoformat(),
            "updated_at": a.updated_at.isoformat(),
            "completed_at": a.completed_at.isoformat() if a.completed_at else None,
            "next_timer_at": a.next_timer_at.isoformat() if a.next_timer_at else None,
            "data": self.data,
            "open_tasks": [t.as_dict() for t in self.tasks if t.status == "open"],
            "history": [
                {"at": e.at.isoformat(), "actor": e.actor, "action": e.action, "task_id": e.task_id,
                 "details": e.details}
                for e in self.history
            ],
            "incidents": [incident_summary(i) for i in self.incidents],
            "approval_routes": [route_summary(r) for r in self.routes],
            "decisions": [decision_summary(d) for d in self.decisions],
        }


def route_summary(route) -> dict:
    return {"id": route.id, "element_id": route.element_id, "title": route.title, "status": route.status,
            "position": route.position, "drafter": route.drafter, "last_sender": route.last_sender,
            "plan": route.plan, "outcome": route.outcome, "created_at": route.created_at.isoformat(),
            "finished_at": route.finished_at.isoformat() if route.finished_at else None}


def decision_summary(record) -> dict:
    return {"seq": record.seq, "step": record.step, "actor": record.actor, "on_behalf_of": record.on_behalf_of,
            "decision": record.decision, "comment": record.comment,
            "deadline": record.deadline.isoformat() if record.deadline else None, "at": record.at.isoformat(),
            "content_hash": record.content_hash, "hash": record.hash, "key_id": record.key_id}


def incident_summary(incident: Incident) -> dict:
    """An incident as an application shows it (the traceback is in ``madoguchi incidents --json``)."""
    return {"id": incident.id, "status": incident.status, "kind": incident.kind, "element_id": incident.element_id,
            "message": incident.message, "attempts": incident.attempts, "created_at": incident.created_at.isoformat(),
            "resolution": incident.resolution, "resolved_by": incident.resolved_by,
            "resolved_at": incident.resolved_at.isoformat() if incident.resolved_at else None}


def application_view(session: Session, application: Application, workflow: BpmnWorkflow) -> ApplicationView:
    definition = session.get(Definition, application.definition_id)
    history = list(session.scalars(select(AuditEvent).where(AuditEvent.application_id == application.id)
                                   .order_by(AuditEvent.seq)))
    incidents = list(session.scalars(select(Incident).where(Incident.application_id == application.id)
                                     .order_by(Incident.id)))
    from engine.approvals.records import decisions_of
    from engine.approvals.route import routes_of

    return ApplicationView(application, definition, application_data(workflow),
                           tasks_of_application(session, application.id), history, incidents,
                           routes_of(session, application.id), decisions_of(session, application.id))
