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
    #: Tasks per tab, with the same filters, each at most ``COUNT_CAP``.
    counts: dict[str, int] = field(default_factory=dict)
    #: The tabs that hold more than ``COUNT_CAP`` tasks (their count says "COUNT_CAP or more").
    capped: frozenset[str] = frozenset()
    #: Whether a page follows this one (what the pages go by once the total is capped).
    has_next: bool = False
    #: Whether ``total`` is the cap rather than the number of the tab's tasks.
    total_capped: bool = False

    @property
    def pages(self) -> int:
        """The number of pages; with a capped total, as many as known so far (at least one
        more than this page while there is a next one)."""
        known = max(1, -(-self.total // self.per_page))
        if not self.total_capped:
            return known
        return max(known, self.page + 1 if self.has_next else self.page)


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


#: Tab counts stop at this many tasks: past it the page says "more than" instead of
#: counting on through every open task of a big section (which costs as much as the city has).
COUNT_CAP = 1000


@dataclass(frozen=True)
class _Source:
    """Where a tab's tasks come from: offered to a user or group by name (``task_candidates``),
    or claimed by the user (``human_tasks.assignee``)."""

    kind: str  # "user", "group" or "assignee"
    names: tuple[str, ...]


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


def _tab_sources(session: Session, user: str, now: datetime) -> dict[str, list[_Source]]:
    """The sources of every tab (overdue: of all the others)."""
    groups = tuple(sorted(groups_of(session, user)))
    vacant_users, vacant_groups = _vacant_names(session, user, now)
    sources = {
        "mine": [_Source("user", (user,)), _Source("assignee", (user,))],
        "groups": [_Source("group", groups)] if groups else [],
        "delegated": [_Source(kind, tuple(names)) for kind, names in (("user", vacant_users),
                                                                       ("group", vacant_groups)) if names],
    }
    sources["overdue"] = [source for tab in ("mine", "groups", "delegated") for source in sources[tab]]
    return sources


def _conditions(session: Session, user: str, tab: str, filters: TaskFilters, now: datetime) -> list | None:
    """What every task of the tab must satisfy besides its source (None: nothing can)."""
    conditions = [HumanTask.status == "open", or_(HumanTask.assignee.is_(None), HumanTask.assignee == user)]
    if tab == "delegated":
        # 代決 applies to 回議・決裁 tasks nobody has claimed.
        conditions += [HumanTask.kind == "approve", HumanTask.assignee.is_(None)]
    if tab == "overdue":
        conditions.append(HumanTask.due_at < now)
    if filters.procedure:
        # Every version of the procedure: a few ids, so the filter needs no join to definitions.
        versions = list(session.scalars(select(Definition.id).where(Definition.key == filters.procedure)))
        if not versions:
            return None
        # A set of application ids read once from the (definition_id) index, not a join per task
        # to the applications' wide rows (they hold the workflow state).
        conditions.append(HumanTask.application_id.in_(
            select(Application.id).where(Application.definition_id.in_(versions))))
    if filters.kind:
        conditions.append(HumanTask.kind == filters.kind)
    if filters.due_before is not None:
        conditions.append(HumanTask.due_at < filters.due_before)
    text = (filters.text or "").strip()
    if text:
        # References are searched in their own index (one pass per query), as above.
        conditions.append(or_(HumanTask.application_id.in_(
            select(Application.id).where(Application.reference.icontains(text, autoescape=True))),
            HumanTask.name.icontains(text, autoescape=True)))
    return conditions


def _branch(source: _Source, name_filter, columns: tuple, conditions: list):
    """Open tasks of one source that meet ``conditions``: candidate rows are read through the
    (kind, name, created_at, task_id) index, claimed tasks through (assignee, status, created_at)."""
    if source.kind == "assignee":
        query = select(*columns).where(HumanTask.assignee == source.names[0])
    else:
        query = (select(*columns).select_from(TaskCandidate).join(HumanTask, HumanTask.id == TaskCandidate.task_id)
                 .where(TaskCandidate.kind == source.kind, name_filter))
    return query.where(*conditions)


def _count_query(sources: list[_Source], conditions: list):
    """How many distinct tasks the sources hold, up to ``COUNT_CAP + 1``: each source stops
    after that many, so the union reaches the cap exactly when the true count does."""
    branches = [_branch(source, TaskCandidate.name.in_(source.names), (HumanTask.id.label("id"),), conditions)
                .limit(COUNT_CAP + 1).subquery().select() for source in sources]
    ids = (union(*branches) if len(branches) > 1 else branches[0]).subquery()
    return select(func.count()).select_from(select(ids.c.id).limit(COUNT_CAP + 1).subquery())


def _page_ids(sources: list[_Source], conditions: list, sort: str, count: int):
    """The first ``count`` tasks of the sources in ``sort`` order: one ordered, limited scan
    per user, group and the assignee, merged — never a sort of every task of a big section."""
    columns = [HumanTask.id.label("id"), HumanTask.created_at.label("created_at")]
    if sort == "due":
        columns += [HumanTask.due_at.is_(None).label("undated"), HumanTask.due_at.label("due_at")]
    branches = []
    for source in sources:
        for name in source.names:
            if source.kind == "assignee":
                order = (HumanTask.created_at, HumanTask.id)
            else:
                order = (TaskCandidate.created_at, TaskCandidate.task_id)
            if sort == "due":
                order = (HumanTask.due_at.is_(None), HumanTask.due_at, *order)
            branch = _branch(source, TaskCandidate.name == name, tuple(columns), conditions)
            branches.append(branch.order_by(*order).limit(count).subquery().select())
    merged = (union(*branches) if len(branches) > 1 else branches[0]).subquery()
    order = (merged.c.created_at, merged.c.id)
    if sort == "due":  # tasks without a due date last
        order = (merged.c.undated, merged.c.due_at, *order)
    return select(merged.c.id).order_by(*order).limit(count)


def office_tasks(session: Session, *, user: str, tab: str = "mine", filters: TaskFilters | None = None,
                 sort: str = "received", page: int = 1, per_page: int = 50) -> TaskPage:
    """One page of a tab's open tasks, with the total and the count of every tab (each
    counted up to ``COUNT_CAP``; ``TaskPage.capped`` names the tabs that have more)."""
    filters = filters or TaskFilters()
    if tab not in TABS:
        raise BadInput(f"no task list {tab!r}: one of {', '.join(TABS)}")
    if sort not in SORTS:
        raise BadInput(f"tasks sort by one of {', '.join(SORTS)}, not {sort!r}")
    now = utcnow()
    page, per_page = max(1, int(page)), max(1, min(int(per_page), 500))
    sources = _tab_sources(session, user, now)
    counts, conditions = {}, {}
    for name in TABS:
        conditions[name] = _conditions(session, user, name, filters, now)
        found = sources[name] and conditions[name] is not None
        counts[name] = session.scalar(_count_query(sources[name], conditions[name])) if found else 0
    capped = frozenset(name for name, count in counts.items() if count > COUNT_CAP)
    counts = {name: min(count, COUNT_CAP) for name, count in counts.items()}
    if not counts[tab]:
        return TaskPage([], 0, page, per_page, counts, capped)
    first = (page - 1) * per_page
    # One row more than the page shows: whether a next page exists when the total is capped.
    ids = list(session.scalars(_page_ids(sources[tab], conditions[tab], sort, first + per_page + 1)))[first:]
    has_next, ids = len(ids) > per_page, ids[:per_page]
    found = session.execute(
        select(HumanTask, Application.reference, Definition.key, Definition.title)
        .join(Application, Application.id == HumanTask.application_id)
        .join(Definition, Definition.id == Application.definition_id)
        .where(HumanTask.id.in_(ids)))
    by_id = {t.id: OfficeTaskRow(t.id, t.application_id, reference, key, title, t.name, t.kind,
                                 t.candidate_groups or [], t.candidate_users or [], t.assignee, t.due_at,
                                 t.created_at)
             for t, reference, key, title in found}
    return TaskPage([by_id[i] for i in ids], counts[tab], page, per_page, counts, capped, has_next, tab in capped)


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


__all__ = ["TABS", "SORTS", "COUNT_CAP", "ROUTE_KINDS", "TaskFilters", "TaskPage", "OfficeTaskRow", "FieldError", "RouteChoices",
           "office_tasks", "procedures", "task", "may_see", "task_form", "form_errors", "route_choices"]
