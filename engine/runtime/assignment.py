"""Who may work on a human task, and by when — read from the task's properties.

Both dialects end up as ``spiffworkflow:properties`` (see engine.bpmn.dialect):
``candidateGroups``, ``candidateUsers``, ``assignee``, ``dueDate``, ``priority``,
``formKey``. A value starting with ``=`` is an expression evaluated against the task data;
otherwise lists are comma separated. Without candidate groups, the task's lane name is the
candidate group, as lanes usually stand for a section of the office.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition

from engine.errors import ExecutionFailed


@dataclass(frozen=True)
class Assignment:
    name: str
    element_id: str
    lane: str | None
    candidate_groups: list[str]
    candidate_users: list[str]
    assignee: str | None
    due_at: datetime | None
    priority: int
    form_key: str | None
    status: str | None


def task_properties(task) -> dict:
    extensions = getattr(task.task_spec, "extensions", None) or {}
    return extensions.get("properties") or {}


def assignment_for(task, now: datetime) -> Assignment:
    props = task_properties(task)
    spec = task.task_spec
    lane = getattr(spec, "lane", None)
    groups = _names(_value(task, props.get("candidateGroups"), "candidateGroups"))
    if not groups and lane:
        groups = [lane]
    users = _names(_value(task, props.get("candidateUsers"), "candidateUsers"))
    assignee = _value(task, props.get("assignee"), "assignee")
    return Assignment(
        name=spec.bpmn_name or spec.bpmn_id,
        element_id=spec.bpmn_id,
        lane=lane,
        candidate_groups=groups,
        candidate_users=users,
        assignee=str(assignee).strip() or None if assignee else None,
        due_at=_due(task, props.get("dueDate"), now),
        priority=_priority(task, props.get("priority")),
        form_key=props.get("formKey"),
        status=props.get("status"),
    )


def _value(task, raw, what: str):
    if raw is None:
        return None
    raw = str(raw).strip()
    if not raw.startswith("="):
        return raw
    try:
        return task.workflow.script_engine.evaluate(task, raw[1:])
    except Exception as exc:  # the sandbox and Spiff raise several kinds; all mean the same here
        raise ExecutionFailed(f"the {what} expression {raw[1:]!r} failed: {exc}",
                              element_id=task.task_spec.bpmn_id) from exc


def _names(value) -> list[str]:
    if value is None:
        return []
    items = value.split(",") if isinstance(value, str) else list(value)
    return sorted({str(item).strip() for item in items if str(item).strip()})


def _due(task, raw, now: datetime) -> datetime | None:
    value = _value(task, raw, "dueDate")
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    text = str(value).strip()
    try:
        if text.upper().startswith("P"):
            parsed = TimerEventDefinition.parse_iso_duration(text)
            return now + TimerEventDefinition.get_timedelta_from_start(parsed, now)
        return TimerEventDefinition.get_datetime(text)
    except Exception as exc:  # Spiff raises bare Exception for bad durations
        raise ExecutionFailed(f"the due date {text!r} is neither an ISO-8601 duration nor a date-time",
                              element_id=task.task_spec.bpmn_id) from exc


def _priority(task, raw) -> int:
    value = _value(task, raw, "priority")
    try:
        return int(value) if value not in (None, "") else 0
    except (TypeError, ValueError):
        return 0
