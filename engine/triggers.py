"""Start events that something other than a person fires: messages and timers (schedules).

At deploy time each message or timer start event of the main process becomes a
``definition_triggers`` row; a timer start event also gets a ``schedule`` job, one per
procedure and start event, which the newest version takes over. When the schedule job
runs it starts one application and moves itself to the next occurrence.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from SpiffWorkflow.bpmn.specs.event_definitions.message import MessageEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.timer import (
    CycleTimerEventDefinition,
    DurationTimerEventDefinition,
    TimeDateEventDefinition,
    TimerEventDefinition,
)
from SpiffWorkflow.bpmn.specs.mixins.events.start_event import StartEvent
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.errors import BadInput, DeployRefused, Problem
from engine.store.models import Definition, DefinitionTrigger, Job, utcnow


def start_triggers(spec) -> list[tuple[str, str, str, object]]:
    """(kind, name, element_id, event definition) of the spec's message and timer start events."""
    found = []
    for task_spec in spec.task_specs.values():
        if not isinstance(task_spec, StartEvent):
            continue
        definition = task_spec.event_definition
        if isinstance(definition, MessageEventDefinition):
            found.append(("message", definition.name, task_spec.bpmn_id, definition))
        elif isinstance(definition, TimerEventDefinition):
            found.append(("timer", task_spec.bpmn_id, task_spec.bpmn_id, definition))
    return found


def first_occurrence(definition, expression_value: str, now: datetime) -> tuple[datetime, int]:
    """When a timer start event first fires, and how many more times (-1: forever)."""
    if isinstance(definition, CycleTimerEventDefinition):
        cycles, start, duration = TimerEventDefinition.parse_iso_recurring_interval(expression_value)
        return start, cycles
    if isinstance(definition, DurationTimerEventDefinition):
        parsed = TimerEventDefinition.parse_iso_duration(expression_value)
        return now + TimerEventDefinition.get_timedelta_from_start(parsed, now), 1
    if isinstance(definition, TimeDateEventDefinition):
        return TimerEventDefinition.get_datetime(expression_value), 1
    raise BadInput(f"unsupported timer start event {type(definition).__name__}")


class Schedules:
    def __init__(self, applications, script_engine):
        self.applications = applications
        self.script_engine = script_engine

    def register(self, session: Session, definition: Definition, spec) -> None:
        """Record the definition's start triggers and (re)schedule its timer start events."""
        now = utcnow()
        for kind, name, element_id, event_definition in start_triggers(spec):
            expression = getattr(event_definition, "expression", None)
            session.add(DefinitionTrigger(definition_id=definition.id, kind=kind, name=name, element_id=element_id,
                                          expression=expression))
            if kind != "timer":
                continue
            try:
                value = self.script_engine.environment.evaluate(expression, {})
                due, remaining = first_occurrence(event_definition, value, now)
            except Exception as exc:  # the sandbox and Spiff's ISO parsers raise several kinds
                raise DeployRefused([Problem(definition.key, None, element_id,
                                             f"the timer start event's value {expression!r} cannot be scheduled: {exc}",
                                             "give a literal ISO-8601 date, duration or cycle (no process data "
                                             "exists before the process starts)")]) from exc
            interval = None
            if isinstance(event_definition, CycleTimerEventDefinition):
                interval = TimerEventDefinition.parse_iso_recurring_interval(value)[2].total_seconds()
            self.applications.enqueue(session, "schedule", {"key": definition.key, "element_id": element_id,
                                                            "remaining": remaining, "interval_seconds": interval},
                                      due_at=due, singleton_key=f"schedule:{definition.key}:{element_id}")

    def fire(self, session: Session, job: Job) -> None:
        """Start this occurrence's application and schedule the next occurrence."""
        payload = dict(job.payload)
        definition = self.applications.catalog.latest(session, payload["key"])
        triggers = session.scalars(select(DefinitionTrigger).where(
            DefinitionTrigger.definition_id == definition.id, DefinitionTrigger.kind == "timer",
            DefinitionTrigger.element_id == payload["element_id"]))
        if triggers.first() is None:
            return  # the newest version no longer starts on this timer: the schedule ends
        self.applications.start_by_timer(session, definition, payload["element_id"])
        remaining = payload["remaining"]
        if remaining == 1 or not payload.get("interval_seconds"):
            return
        payload["remaining"] = remaining - 1 if remaining > 0 else -1
        interval = payload["interval_seconds"]
        next_due, now = job.due_at + timedelta(seconds=interval), utcnow()
        if next_due <= now:  # no worker ran for a while: go on from now instead of catching up one by one
            next_due += timedelta(seconds=interval * (int((now - next_due).total_seconds() // interval) + 1))
        self.applications.enqueue(session, "schedule", payload, due_at=next_due,
                                  singleton_key=f"schedule:{payload['key']}:{payload['element_id']}")
