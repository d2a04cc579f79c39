"""Telling plugins what happened to applications (the lifecycle hooks).

Events are emitted inside the step's transaction, after the step is written. A plugin reacts
by enqueueing jobs through ``event.enqueue`` — those commit or roll back with the step —
never by calling another system directly.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import pluggy


@dataclass(frozen=True)
class TaskInfo:
    id: str
    element_id: str
    name: str
    candidate_groups: list[str] = field(default_factory=list)
    candidate_users: list[str] = field(default_factory=list)
    assignee: str | None = None
    due_at: object = None


@dataclass(frozen=True)
class IncidentInfo:
    id: int
    kind: str
    element_id: str | None
    message: str
    attempts: int


@dataclass(frozen=True)
class LifecycleEvent:
    """What a lifecycle hook receives."""

    kind: str
    application_id: int | None
    reference: str | None
    procedure: str | None
    status: str | None
    actor: str | None
    enqueue: Callable[..., object]
    data: dict = field(default_factory=dict)
    task: TaskInfo | None = None
    previous_status: str | None = None
    incident: IncidentInfo | None = None


LIFECYCLE_HOOKS = ("application_started", "task_created", "task_completed", "application_finished",
                   "status_changed", "incident_raised")


class Lifecycle:
    def __init__(self, manager: pluggy.PluginManager):
        self.manager = manager

    def listening(self) -> bool:
        """Whether any plugin listens to any lifecycle event (most steps then skip the work)."""
        return any(getattr(self.manager.hook, f"madoguchi_{kind}").get_hookimpls() for kind in LIFECYCLE_HOOKS)

    def emit(self, kind: str, **fields) -> None:
        hook = getattr(self.manager.hook, f"madoguchi_{kind}")
        if hook.get_hookimpls():  # most hooks have no listener: build nothing for them
            hook(event=LifecycleEvent(kind=kind, **fields))


def task_info(record) -> TaskInfo:
    return TaskInfo(id=record.id, element_id=record.element_id, name=record.name,
                    candidate_groups=list(record.candidate_groups or []),
                    candidate_users=list(record.candidate_users or []), assignee=record.assignee,
                    due_at=record.due_at)
