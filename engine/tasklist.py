"""Task-list queries, answered from the projection tables without loading any workflow."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from engine.identity import groups_of
from engine.store.models import Application, HumanTask, TaskCandidate


@dataclass(frozen=True)
class TaskRow:
    id: str
    application_id: int
    reference: str
    element_id: str
    name: str
    candidate_groups: list[str]
    candidate_users: list[str]
    assignee: str | None
    due_at: datetime | None
    created_at: datetime
    status: str

    def as_dict(self) -> dict:
        return {
            "id": self.id, "application_id": self.application_id, "reference": self.reference,
            "element_id": self.element_id, "name": self.name, "candidate_groups": self.candidate_groups,
            "candidate_users": self.candidate_users, "assignee": self.assignee,
            "due_at": self.due_at.isoformat() if self.due_at else None,
            "created_at": self.created_at.isoformat(), "status": self.status,
        }


def _rows(session: Session, query) -> list[TaskRow]:
    query = query.add_columns(Application.reference).join(Application, Application.id == HumanTask.application_id)
    return [
        TaskRow(t.id, t.application_id, reference, t.element_id, t.name, t.candidate_groups or [],
                t.candidate_users or [], t.assignee, t.due_at, t.created_at, t.status)
        for t, reference in session.execute(query)
    ]


def open_tasks(session: Session, *, user: str | None = None, group: str | None = None,
               application_id: int | None = None, limit: int = 50, offset: int = 0) -> list[TaskRow]:
    """Open tasks, oldest first.

    ``user``: tasks the user may work on — assigned to them, or offered to them or to one of
    their groups and not claimed by somebody else. ``group``: tasks offered to that group.
    """
    query = select(HumanTask).where(HumanTask.status == "open")
    if application_id is not None:
        query = query.where(HumanTask.application_id == application_id)
    if user is not None or group is not None:
        names = []
        if user is not None:
            names = [("user", user)] + [("group", g) for g in sorted(groups_of(session, user))]
        if group is not None:
            names.append(("group", group))
        candidate = select(TaskCandidate.task_id).where(or_(*[
            (TaskCandidate.kind == kind) & (TaskCandidate.name == name) for kind, name in names
        ]))
        query = query.where(HumanTask.id.in_(candidate))
        if user is not None:
            query = query.where(or_(HumanTask.assignee.is_(None), HumanTask.assignee == user))
    query = query.order_by(HumanTask.created_at, HumanTask.id).limit(limit).offset(offset)
    return _rows(session, query)


def tasks_of_application(session: Session, application_id: int) -> list[TaskRow]:
    query = select(HumanTask).where(HumanTask.application_id == application_id).order_by(HumanTask.created_at)
    return _rows(session, query)
