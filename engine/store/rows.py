"""Core-level reads and writes for the hot path of a step.

A step runs a handful of statements on the session's connection rather than through the
ORM unit of work, and every statement is built once, here, with bind parameters: the same
SQL, a fraction of the Python per execution. Rows come back as *transient* ORM objects
(never added to a session), which are plain data holders here.
"""

from __future__ import annotations

from dataclasses import make_dataclass
from functools import cache

from sqlalchemy import and_, bindparam, delete, exists, insert, or_, select, update
from sqlalchemy.engine import Connection

from engine.store.models import Application, Definition, Group, HumanTask, Membership, TaskCandidate, User

APPLICATIONS = Application.__table__
DEFINITIONS = Definition.__table__
TASKS = HumanTask.__table__
CANDIDATES = TaskCandidate.__table__

_LATEST_DEFINITION = (select(DEFINITIONS).where(DEFINITIONS.c.key == bindparam("key"))
                      .order_by(DEFINITIONS.c.version.desc()).limit(1))
_LOCK_APPLICATION = select(APPLICATIONS).where(APPLICATIONS.c.id == bindparam("application_id"))
_LOCK_APPLICATION_PG = _LOCK_APPLICATION.with_for_update()


def _groups_of(parameter: str):
    groups, members, users = Group.__table__, Membership.__table__, User.__table__
    return (select(groups.c.name).join(members, members.c.group_id == groups.c.id)
            .join(users, users.c.id == members.c.user_id).where(users.c.name == bindparam(parameter)))


_GROUPS_OF = _groups_of("user_name")
#: Whether the actor is among a task's candidates (named, or through one of their groups).
_IS_CANDIDATE = exists().where(
    CANDIDATES.c.task_id == TASKS.c.id,
    or_(and_(CANDIDATES.c.kind == "user", CANDIDATES.c.name == bindparam("actor")),
        and_(CANDIDATES.c.kind == "group",
             CANDIDATES.c.name.in_(_groups_of("actor").scalar_subquery()))),
).label("is_candidate")
_TASK_WITH_APPLICATION = (select(TASKS, APPLICATIONS, _IS_CANDIDATE)
                          .join(APPLICATIONS, APPLICATIONS.c.id == TASKS.c.application_id)
                          .where(TASKS.c.id == bindparam("task_id")))
_TASK_WITH_APPLICATION_PG = _TASK_WITH_APPLICATION.with_for_update(of=APPLICATIONS)
_INSERT_APPLICATION = insert(APPLICATIONS).returning(APPLICATIONS.c.id)
_OPEN_TASKS = select(TASKS).where(TASKS.c.application_id == bindparam("application_id"), TASKS.c.status == "open")
_INSERT_TASKS = insert(TASKS)
_INSERT_CANDIDATES = insert(CANDIDATES)
_CLOSE_TASK = update(TASKS).where(TASKS.c.id == bindparam("task_id")).values(
    status=bindparam("new_status"), completed_at=bindparam("at"), completed_by=bindparam("by"))
_DROP_CANDIDATES = delete(CANDIDATES).where(CANDIDATES.c.task_id == bindparam("task_id"))
_SET_ASSIGNEE = update(TASKS).where(TASKS.c.id == bindparam("task_id")).values(assignee=bindparam("assignee"))


#: Plain records with the tables' column names: what a step reads and returns. (Mapped ORM
#: objects would cost attribute instrumentation on every field, for nothing here.)
ApplicationRecord = make_dataclass("ApplicationRecord", [c.key for c in APPLICATIONS.columns])
TaskRecord = make_dataclass("TaskRecord", [c.key for c in TASKS.columns])
TASK_FIELDS = tuple(c.key for c in TASKS.columns)
DefinitionRecord = make_dataclass("DefinitionRecord", [c.key for c in DEFINITIONS.columns])


_APPLICATION_COLUMNS = len(APPLICATIONS.columns)
_TASK_COLUMNS = len(TASKS.columns)


def _task(row) -> TaskRecord:
    mapping = row._mapping
    return TaskRecord(*[mapping[c] for c in TASKS.columns])


# The statements below select exactly these columns in this order, so their rows are sliced
# by position rather than looked up column by column.
def _application_at(row, start: int = 0) -> ApplicationRecord:
    return ApplicationRecord(*row[start:start + _APPLICATION_COLUMNS])


def _task_at(row) -> TaskRecord:
    return TaskRecord(*row[:_TASK_COLUMNS])


def latest_definition(connection: Connection, key: str) -> DefinitionRecord | None:
    row = connection.execute(_LATEST_DEFINITION, {"key": key}).first()
    return DefinitionRecord(*[row._mapping[c] for c in DEFINITIONS.columns]) if row is not None else None


def _postgres(connection: Connection) -> bool:
    # SQLite needs no row lock: the transaction already holds the write lock (BEGIN IMMEDIATE).
    return connection.dialect.name == "postgresql"


def lock_application(connection: Connection, application_id: int) -> ApplicationRecord | None:
    query = _LOCK_APPLICATION_PG if _postgres(connection) else _LOCK_APPLICATION
    row = connection.execute(query, {"application_id": application_id}).first()
    return _application_at(row) if row is not None else None


def lock_application_of_task(connection: Connection, task_id: str, actor: str
                             ) -> tuple[TaskRecord, ApplicationRecord, bool] | None:
    """The task, its application (row locked) and whether ``actor`` is a candidate — one statement."""
    query = _TASK_WITH_APPLICATION_PG if _postgres(connection) else _TASK_WITH_APPLICATION
    row = connection.execute(query, {"task_id": task_id, "actor": actor}).first()
    if row is None:
        return None
    return _task_at(row), _application_at(row, _TASK_COLUMNS), bool(row[-1])


def insert_application(connection: Connection, values: dict) -> int:
    return connection.execute(_INSERT_APPLICATION, values).scalar_one()


@cache
def _update_application(columns: tuple[str, ...]):
    return (update(APPLICATIONS)
            .where(APPLICATIONS.c.id == bindparam("where_id"), APPLICATIONS.c.version == bindparam("where_version"))
            .values(version=bindparam("new_version"), **{c: bindparam(f"set_{c}") for c in columns}))


def update_application(connection: Connection, application_id: int, expected_version: int, values: dict) -> bool:
    """Write the step's result if nobody else wrote since ``expected_version``."""
    statement = _update_application(tuple(sorted(values)))
    params = {f"set_{key}": value for key, value in values.items()}
    params.update(where_id=application_id, where_version=expected_version, new_version=expected_version + 1)
    return connection.execute(statement, params).rowcount == 1


def open_tasks(connection: Connection, application_id: int) -> list[TaskRecord]:
    return [_task(row) for row in connection.execute(_OPEN_TASKS, {"application_id": application_id})]


def insert_tasks(connection: Connection, tasks: list[dict], candidates: list[dict]) -> None:
    if tasks:
        connection.execute(_INSERT_TASKS, tasks)
    if candidates:
        connection.execute(_INSERT_CANDIDATES, candidates)


def close_tasks(connection: Connection, closed: list) -> None:
    """Mark tasks completed or cancelled and drop their candidates (they left the task lists)."""
    if not closed:
        return
    connection.execute(_CLOSE_TASK, [{"task_id": t.id, "new_status": t.status, "at": t.completed_at,
                                      "by": t.completed_by} for t in closed])
    connection.execute(_DROP_CANDIDATES, [{"task_id": t.id} for t in closed])


def set_assignee(connection: Connection, task_id: str, assignee: str | None) -> None:
    connection.execute(_SET_ASSIGNEE, {"task_id": task_id, "assignee": assignee})


def group_names(connection: Connection, user_name: str) -> set[str]:
    return set(connection.execute(_GROUPS_OF, {"user_name": user_name}).scalars())
