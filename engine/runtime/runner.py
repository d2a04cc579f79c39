"""Driving a workflow forward until it waits, and reading what it waits for."""

from __future__ import annotations

from datetime import UTC, datetime

from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.bpmn.specs.event_definitions.multiple import MultipleEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.timer import CycleTimerEventDefinition, TimerEventDefinition
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.exceptions import SpiffWorkflowException
from SpiffWorkflow.util.task import TaskState

from engine.errors import ExecutionFailed
from engine.runtime.history import compact_history

#: How many automatic steps may pass between two history compactions.
COMPACT_EVERY = 100


def run_until_waiting(workflow: BpmnWorkflow) -> None:
    """Run automatic tasks (scripts, gateways, due timers) until only people or time can move it.

    SpiffWorkflow refreshes timers only at the end of ``do_engine_steps``, which can leave a
    fired timer's path ready but not run, hence the loop.
    """
    completed = 0

    def after_task(_task) -> None:
        nonlocal completed
        completed += 1
        if completed % COMPACT_EVERY == 0:
            compact_history(workflow)

    with translated_errors():
        while True:
            workflow.do_engine_steps(did_complete_task=after_task)
            # Only the timer refresh at the end of do_engine_steps can leave automatic work ready.
            if not workflow.event_manager.tasks or not _automatic_work_ready(workflow):
                break
    compact_history(workflow)


def all_tasks(workflow: BpmnWorkflow):
    """Every task of the workflow and its subprocesses, from their flat task maps (no tree walk)."""
    yield from workflow.tasks.values()
    for subprocess in workflow.subprocesses.values():
        yield from subprocess.tasks.values()


def _automatic_work_ready(workflow: BpmnWorkflow) -> bool:
    return any(t.state == TaskState.READY and not t.task_spec.manual for t in all_tasks(workflow))


def complete_task(workflow: BpmnWorkflow, task, data: dict) -> None:
    """Complete a ready human task with submitted data, then run on."""
    with translated_errors():
        task.data.update(data)
        task.run()
    run_until_waiting(workflow)


def fire_timers(workflow: BpmnWorkflow) -> None:
    with translated_errors():
        workflow.refresh_timers()
    run_until_waiting(workflow)


def next_timer_due(workflow: BpmnWorkflow) -> datetime | None:
    """The earliest instant at which a timer of this workflow fires, if any.

    Read from the waiting tasks themselves: ``waiting_events()`` hides the due time of timers
    behind an event-based gateway (a MultipleEventDefinition).
    """
    due: list[datetime] = []
    for task in workflow.event_manager.tasks.values():
        definition = task.task_spec.event_definition
        parts = definition.event_definitions if isinstance(definition, MultipleEventDefinition) else [definition]
        if not any(isinstance(part, TimerEventDefinition) for part in parts):
            continue
        value = task.internal_data.get("event_value")
        if isinstance(value, dict):  # a cycle: {"cycles": n, "next": iso, "duration": s}
            value = value.get("next") if value.get("cycles") != 0 else None
        if not isinstance(value, str):
            continue
        try:
            instant = datetime.fromisoformat(value)
        except ValueError:
            continue
        due.append(instant if instant.tzinfo else instant.replace(tzinfo=UTC))
    return min(due) if due else None


class translated_errors:
    """Turn SpiffWorkflow's task exceptions into ExecutionFailed naming the element."""

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, _tb):
        if exc is None or not isinstance(exc, SpiffWorkflowException):
            return False
        element_id = None
        if isinstance(exc, WorkflowTaskException) and exc.task is not None:
            element_id = exc.task.task_spec.bpmn_id
        cause = exc.__cause__ or getattr(exc, "exception", None)
        message = str(cause) if cause is not None and str(cause) else str(exc)
        raise ExecutionFailed(message, element_id=element_id) from exc


def fire_start_timer(workflow: BpmnWorkflow, element_id: str) -> None:
    """Make the waiting timer start event ``element_id`` fire once, now.

    A scheduled procedure starts one application per occurrence; the schedule (not the
    start event) knows the occurrences, so the start event is told it is due exactly once.
    """
    for task in list(workflow.event_manager.tasks.values()):
        if task.task_spec.bpmn_id != element_id:
            continue
        definition = task.task_spec.event_definition
        past = "2000-01-01T00:00:00+00:00"
        if isinstance(definition, CycleTimerEventDefinition):
            task.internal_data["event_value"] = {"cycles": 1, "next": past, "duration": 0}
        else:
            task.internal_data["event_value"] = past
    workflow.refresh_timers()
