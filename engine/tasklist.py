"""Task-list queries, answered from the projection tables without loading any workflow."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import or_, select, union
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
    #: "task" (a task of the diagram) or what an approval route's task asks for (see docs/approval.md).
    kind: str = "task"

    def as_dict(self) -> dict:
        return {
            "id": self.id, "application_id": self.application_id, "reference": self.reference,
            "element_id": self.element_id, "name": self.name, "candidate_groups": self.candidate_groups,
            "candidate_users": self.candidate_users, "assignee": self.assignee,
            "due_at": self.due_at.isoformat() if self.due_at else None,
            "created_at": self.created_at.isoformat(), "status": self.status, "kind": self.kind,
        }


def _rows(session: Session, query) -> list[TaskRow]:
    query = query.add_columns(Application.reference).join(Application, Application.id == HumanTask.application_id)
    return [
        TaskRow(t.id, t.application_id, reference, t.element_id, t.name, t.candidate_groups or [],
                t.candidate_users or [], t.assignee, t.due_at, t.created_at, t.status, t.kind)
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
        if not names:
            return []
        query = query.where(HumanTask.id.in_(_first_candidates(names, user, limit + offset)))
    query = query.order_by(HumanTask.created_at, HumanTask.id).limit(limit).offset(offset)
    return _rows(session, query)


def _first_candidates(names: list[tuple[str, str]], user: str | None, count: int):
    """The oldest ``count`` open tasks offered to any of ``names``.

    One short, ordered scan of the (kind, name, created_at) index per name, merged: the
    cost follows the page size and the number of the user's groups, not the number of
    open tasks in the city.
    """
    branches = []
    for kind, name in names:
        branch = (select(TaskCandidate.task_id, TaskCandidate.created_at)
                  .join(HumanTask, HumanTask.id == TaskCandidate.task_id)
                  .where(TaskCandidate.kind == kind, TaskCandidate.name == name))
        if user is not None:
            branch = branch.where(or_(HumanTask.assignee.is_(None), HumanTask.assignee == user))
        branches.append(branch.order_by(TaskCandidate.created_at, TaskCandidate.task_id).limit(count)
                        .subquery().select())
    merged = union(*branches).subquery() if len(branches) > 1 else branches[0].subquery()
    return select(merged.c.task_id).order_by(merged.c.created_at, merged.c.task_id).limit(count)


def tasks_of_application(session: Session, application_id: int) -> list[TaskRow]:
    query = select(HumanTask).where(HumanTask.application_id == application_id).order_by(HumanTask.created_at)
    return _rows(session, query)
