"""What the office (approvers' web pages) asks of the task tables: filtered, sorted, counted
and paged task lists per tab, who may look at a task, its form and the choices of a route task.

The lists start from ``task_candidates``, whose rows exist only while a task is open: each
tab is an index range scan on (kind, name) for the user's own name and groups (or the
assignee index), however many tasks the whole history holds.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime

from jsonschema import Draft202012Validator
from sqlalchemy import and_, func, or_, select, union
from sqlalchemy.orm import Session

from engine.approvals import people
from engine.approvals.route import DECISIONS, NEED_REASON
from engine.errors import BadInput, NotFound
from engine.forms import find_form
from engine.identity import groups_of
from engine.store.models import (
    Absence,
    Application,
    ApprovalRoute,
    Definition,
    HumanTask,
    TaskCandidate,
    utcnow,
)

#: mine: claimed by me or offered to me by name; groups: offered to one of my groups;
#: delegated: 決裁 tasks of absent people whose substitute (代決者) I am; overdue: any of
#: those past their due date.
TABS = ("mine", "groups", "delegated", "overdue")
SORTS = ("received", "due")
ROUTE_KINDS = tuple(DECISIONS)


@dataclass(frozen=True)
class TaskFilters:
    procedure: str | None = None
    kind: str | None = None
    due_before: datetime | None = None
    #: Part of the application's reference or of the task's name.
    text: str | None = None


@dataclass(frozen=True)
class OfficeTaskRow:
    id: str
    application_id: int
    reference: str
    procedure: str
    procedure_title: str | None
    name: str
    kind: str
    candidate_groups: list[str]
    candidate_users: list[str]
    assignee: str | None
    due_at: datetime | None
    created_at: datetime


@dataclass(frozen=True)
class TaskPage:
    rows: list[OfficeTaskRow]
    total: int
    page: int
    per_page: int
    #: Tasks per tab, with the same filters.
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


@dataclass(frozen=True)
class FieldError:
    """One way submitted data fails a task's form: ``rule`` is the JSON Schema keyword."""

    field: str
    rule: str
    limit: object
    message: str


@dataclass(frozen=True)
class RouteChoices:
    """What the form of a route task offers: its decisions, which need a reason, where a
    return may go (earlier plan steps, as (number, label)), and the route's state."""

    decisions: tuple[str, ...]
    need_reason: tuple[str, ...]
    return_steps: list[tuple[int, str]]
    route_status: str
    route_title: str
    last_sender: str | None


def _candidate_ids(kind: str, names):
    return select(TaskCandidate.task_id).where(TaskCandidate.kind == kind, TaskCandidate.name.in_(list(names)))


def _vacant_names(session: Session, substitute: str, now: datetime) -> tuple[list[str], list[str]]:
    """(users, groups) held only by people who are away now and one of whom named ``substitute``.

    代決 needs every holder of a task away, so a group counts only when all its members are.
    """
    away_for_me = list(session.scalars(select(Absence.user).where(
        Absence.substitute == substitute, Absence.starts_at <= now, Absence.ends_at > now).distinct()))
    if not away_for_me:
        return [], []
    groups = sorted({g for user in away_for_me for g in groups_of(session, user)})
    vacant_groups = []
    for group in groups:
        members = people.holders(session, [group])
        if members and len(people.absent(session, members, now)) == len(members):
            vacant_groups.append(group)
    return away_for_me, vacant_groups


def _tab_selects(session: Session, user: str, tab: str, now: datetime) -> list:
    """Selects of the ids of the open tasks of one tab (overdue: of all the others)."""
    if tab == "mine":
        return [_candidate_ids("user", [user]),
                select(HumanTask.id).where(HumanTask.assignee == user, HumanTask.status == "open")]
    if tab == "groups":
        groups = sorted(groups_of(session, user))
        return [_candidate_ids("group", groups)] if groups else []
    if tab == "delegated":
        users, groups = _vacant_names(session, user, now)
        return ([_candidate_ids("user", users)] if users else []) + ([_candidate_ids("group", groups)] if groups else [])
    return [part for other in ("mine", "groups", "delegated") for part in _tab_selects(session, user, other, now)]


def _tab_query(session: Session, user: str, tab: str, filters: TaskFilters, now: datetime):
    if tab not in TABS:
        raise BadInput(f"no task list {tab!r}: one of {', '.join(TABS)}")
    selects = _tab_selects(session, user, tab, now)
    if not selects:
        return None
    ids = union(*selects) if len(selects) > 1 else selects[0]
    query = (select(HumanTask, Application.reference, Definition.key, Definition.title)
             .join(Application, Application.id == HumanTask.application_id)
             .join(Definition, Definition.id == Application.definition_id)
             .where(HumanTask.id.in_(ids), HumanTask.status == "open",
                    or_(HumanTask.assignee.is_(None), HumanTask.assignee == user)))
    if tab == "delegated":
        # 代決 applies to 回議・決裁 tasks nobody has claimed.
        query = query.where(HumanTask.kind == "approve", HumanTask.assignee.is_(None))
    if tab == "overdue":
        query = query.where(HumanTask.due_at < now)
    if filters.procedure:
        query = query.where(Definition.key == filters.procedure)
    if filters.kind:
        query = query.where(HumanTask.kind == filters.kind)
    if filters.due_before is not None:
        query = query.where(HumanTask.due_at < filters.due_before)
    text = (filters.text or "").strip()
    if text:
        query = query.where(or_(Application.reference.icontains(text, autoescape=True),
                                HumanTask.name.icontains(text, autoescape=True)))
    return query


def _count(session: Session, query) -> int:
    if query is None:
        return 0
    return session.scalar(select(func.count()).select_from(query.with_only_columns(HumanTask.id).subquery()))


def office_tasks(session: Session, *, user: str, tab: str = "mine", filters: TaskFilters | None = None,
                 sort: str = "received", page: int = 1, per_page: int = 50) -> TaskPage:
    """One page of a tab's open tasks, with the total and the count of every tab."""
    filters = filters or TaskFilters()
    if sort not in SORTS:
        raise BadInput(f"tasks sort by one of {', '.join(SORTS)}, not {sort!r}")
    now = utcnow()
    page, per_page = max(1, int(page)), max(1, min(int(per_page), 500))
    counts = {name: _count(session, _tab_query(session, user, name, filters, now)) for name in TABS}
    query = _tab_query(session, user, tab, filters, now)
    if query is None:
        return TaskPage([], 0, page, per_page, counts)
    if sort == "due":  # tasks without a due date last
        order = (HumanTask.due_at.is_(None), HumanTask.due_at, HumanTask.created_at, HumanTask.id)
    else:
        order = (HumanTask.created_at, HumanTask.id)
    found = session.execute(query.order_by(*order).limit(per_page).offset((page - 1) * per_page))
    rows = [OfficeTaskRow(t.id, t.application_id, reference, key, title, t.name, t.kind, t.candidate_groups or [],
                          t.candidate_users or [], t.assignee, t.due_at, t.created_at)
            for t, reference, key, title in found]
    return TaskPage(rows, counts[tab], page, per_page, counts)


def procedures(session: Session) -> list[tuple[str, str | None]]:
    """(key, title of the latest version) of every deployed procedure, by key."""
    latest = (select(Definition.key, func.max(Definition.version).label("version"))
              .group_by(Definition.key).subquery())
    query = (select(Definition.key, Definition.title)
             .join(latest, and_(latest.c.key == Definition.key, latest.c.version == Definition.version))
             .order_by(Definition.key))
    return [(key, title) for key, title in session.execute(query)]


def task(session: Session, task_id: str) -> HumanTask:
    found = session.get(HumanTask, str(task_id))
    if found is None:
        raise NotFound(f"task {task_id} does not exist")
    return found


def may_see(session: Session, human: HumanTask, user: str) -> bool:
    """Whether ``user`` may look at a task: who may act on it, and who did.

    Candidates (by name or group), the assignee, whoever completed it, the substitute
    (代決者) of an absent holder, and for a route task the holders of its later steps
    (who may act ahead of absent holders, 引上げ).
    """
    if user in (human.assignee, human.completed_by) or user in (human.candidate_users or []):
        return True
    if set(human.candidate_groups or []) & groups_of(session, user):
        return True
    targets = [*(human.candidate_groups or []), *(f"user:{u}" for u in human.candidate_users or [])]
    holders = people.holders(session, targets)
    if user in people.absent(session, holders, utcnow()).values():
        return True
    if human.route_id is not None and human.route_step is not None:
        route = session.get(ApprovalRoute, human.route_id)
        later = [t for plan_step in route.plan[human.route_step + 1:] for t in plan_step["targets"]]
        if user in people.holders(session, later):
            return True
    return False


def task_form(session: Session, catalog, human: HumanTask) -> dict | None:
    """The JSON Schema of the task's form (``formKey``), or None when it names no form of the bundle."""
    if not human.form_key:
        return None
    application = session.get(Application, human.application_id)
    form = find_form(catalog.files(session, application.definition_id), human.form_key)
    return json.loads(form.content) if form is not None else None


def form_errors(schema: dict | None, data: dict) -> list[FieldError]:
    """Every way ``data`` fails the form, one entry per field and rule (none without a form)."""
    if schema is None:
        return []
    found = []
    for error in sorted(Draft202012Validator(schema).iter_errors(data), key=lambda e: list(e.path)):
        name = "/".join(str(p) for p in error.path)
        if error.validator == "required":
            # The message names the missing property: "'decision' is a required property".
            missing = [p for p in error.validator_value if p not in (error.instance or {})]
            found += [FieldError(p, "required", None, f"{p!r} is a required property") for p in missing]
            continue
        found.append(FieldError(name, str(error.validator), error.validator_value, error.message))
    return found


def route_choices(session: Session, human: HumanTask) -> RouteChoices | None:
    """The decision form of a route task, or None for a task of the diagram."""
    if human.kind not in DECISIONS or human.route_id is None:
        return None
    route = session.get(ApprovalRoute, human.route_id)
    steps = []
    if human.kind == "approve" and human.route_step is not None:
        steps = [(number, plan_step["label"]) for number, plan_step in enumerate(route.plan[:human.route_step])]
    return RouteChoices(DECISIONS[human.kind], tuple(d for d in DECISIONS[human.kind] if d in NEED_REASON),
                        steps, route.status, route.title, route.last_sender if route.status == "running" else None)


__all__ = ["TABS", "SORTS", "ROUTE_KINDS", "TaskFilters", "TaskPage", "OfficeTaskRow", "FieldError", "RouteChoices",
           "office_tasks", "procedures", "task", "may_see", "task_form", "form_errors", "route_choices"]
