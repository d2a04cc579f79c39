"""差し戻し seen by the applicant: what the office asked them to correct, by when, and their
corrected application sent back into the same process.

How a return reaches the applicant (docs/portal.md, "Returns"): the approval route ends with
outcome ``returned_to_applicant`` and the diagram goes on to a user task that names nobody
(no candidate groups or users) — such a task is its starter's, here ``applicant:<id>`` — with
the start form as its ``formKey``, ``status`` ``returned`` and, if the office sets one, a
``dueDate``. Completing that task is the resubmission; the diagram decides what follows
(usually the approval route again).

What changed is recorded field by field (before/after) in the application's audit chain as
``application_resubmitted``, so that the applicant, the office and an auditor see the same.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import audit
from engine.applicants import filings
from engine.errors import Conflict
from engine.store.models import ApprovalRoute, AuditEvent, HumanTask

RESUBMITTED = "application_resubmitted"


@dataclass(frozen=True)
class Correction:
    """An open request to correct an application."""

    task_id: str
    form_key: str
    reason: str | None
    due_at: datetime | None
    data: dict


@dataclass(frozen=True)
class Change:
    field: str
    before: object
    after: object


@dataclass(frozen=True)
class Resubmission:
    at: datetime
    changes: tuple[Change, ...]


def correction(engine, session: Session, applicant_id: int, application_id: int) -> Correction | None:
    """The correction the office asks of the applicant, or None (NotFound if not theirs)."""
    filings.one(session, applicant_id, application_id)
    actor = f"applicant:{applicant_id}"
    tasks = session.scalars(select(HumanTask).where(HumanTask.application_id == application_id,
                                                    HumanTask.status == "open", HumanTask.kind == "task")
                            .order_by(HumanTask.created_at)).all()
    task = next((t for t in tasks if not t.candidate_groups and not t.candidate_users
                 and t.assignee in (None, actor) and t.form_key), None)
    if task is None:
        return None
    return Correction(task_id=task.id, form_key=task.form_key, reason=_reason(session, application_id),
                      due_at=task.due_at, data=engine.show(session, application_id).data)


def _reason(session: Session, application_id: int) -> str | None:
    route = session.scalars(select(ApprovalRoute).where(ApprovalRoute.application_id == application_id,
                                                        ApprovalRoute.status == "returned_to_applicant")
                            .order_by(ApprovalRoute.id.desc()).limit(1)).first()
    return (route.outcome or {}).get("comment") if route is not None else None


def resubmit(engine, session: Session, applicant_id: int, application_id: int, data: dict, fields: list[str]):
    """Complete the correction with ``data`` (the whole form) and record what changed among
    ``fields`` (the form's fields). Conflict when nothing is asked of the applicant."""
    found = correction(engine, session, applicant_id, application_id)
    if found is None:
        raise Conflict("this application is not waiting for a correction from you")
    changes = [{"field": name, "before": found.data.get(name), "after": data.get(name)}
               for name in fields if found.data.get(name) != data.get(name)]
    result = engine.complete(session, found.task_id, actor=f"applicant:{applicant_id}", data=data)
    audit.append_event(session, action=RESUBMITTED, actor=f"applicant:{applicant_id}",
                       application_id=application_id, task_id=found.task_id, details={"changes": changes})
    return result


def history(session: Session, applicant_id: int, application_id: int) -> list[Resubmission]:
    """The applicant's resubmissions of the application, oldest first (NotFound if not theirs)."""
    filings.one(session, applicant_id, application_id)
    events = session.scalars(select(AuditEvent).where(AuditEvent.application_id == application_id,
                                                      AuditEvent.action == RESUBMITTED).order_by(AuditEvent.id))
    return [Resubmission(event.at, tuple(Change(c.get("field"), c.get("before"), c.get("after"))
                                         for c in (event.details or {}).get("changes", [])))
            for event in events]
