"""Helpers of the job tests: diagram snippets, running workers, reading the job table."""

from __future__ import annotations

import threading
import time
from contextlib import contextmanager
from datetime import timedelta

from SpiffWorkflow.util.task import TaskState
from sqlalchemy import select, update

from engine.store.models import Job, utcnow

# -- diagram snippets ---------------------------------------------------------------------------

def service_task(tid: str, operation: str, params: dict[str, str] | None = None, *,
                 result_variable: str | None = None, retry: tuple[int, int] | None = None,
                 properties: dict[str, str] | None = None) -> str:
    """A Spiff-dialect service task; ``params`` maps names to Python expressions."""
    result = f' resultVariable="{result_variable}"' if result_variable else ""
    parameters = "".join(f'<spiffworkflow:parameter id="{name}" type="any" value="{_attr(expr)}"/>'
                         for name, expr in (params or {}).items())
    retry_xml = (f'<spiffworkflow:retry retries="{retry[0]}" backoff_base="{retry[1]}"/>' if retry else "")
    props = ""
    if properties:
        props = "<spiffworkflow:properties>" + "".join(
            f'<spiffworkflow:property name="{k}" value="{_attr(v)}"/>' for k, v in properties.items()
        ) + "</spiffworkflow:properties>"
    return (f'<bpmn:serviceTask id="{tid}"><bpmn:extensionElements>'
            f'<spiffworkflow:serviceTaskOperator id="{operation}"{result}>'
            f'<spiffworkflow:parameters>{parameters}</spiffworkflow:parameters>{retry_xml}'
            f'</spiffworkflow:serviceTaskOperator>{props}</bpmn:extensionElements></bpmn:serviceTask>')


def camunda_external_task(tid: str, topic: str, retry_cycle: str | None = None,
                          properties: dict[str, str] | None = None) -> str:
    inner = ""
    if retry_cycle:
        inner += f"<camunda:failedJobRetryTimeCycle>{retry_cycle}</camunda:failedJobRetryTimeCycle>"
    if properties:
        inner += "<camunda:properties>" + "".join(
            f'<camunda:property name="{k}" value="{_attr(v)}"/>' for k, v in properties.items()
        ) + "</camunda:properties>"
    ext = f"<bpmn:extensionElements>{inner}</bpmn:extensionElements>" if inner else ""
    return f'<bpmn:serviceTask id="{tid}" camunda:type="external" camunda:topic="{topic}">{ext}</bpmn:serviceTask>'


def timer_boundary(bid: str, attached_to: str, duration: str, *, interrupting: bool = True) -> str:
    cancel = "" if interrupting else ' cancelActivity="false"'
    return (f'<bpmn:boundaryEvent id="{bid}" attachedToRef="{attached_to}"{cancel}><bpmn:timerEventDefinition>'
            f'<bpmn:timeDuration>{duration}</bpmn:timeDuration></bpmn:timerEventDefinition></bpmn:boundaryEvent>')


def _attr(text: str) -> str:
    return text.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;").replace(">", "&gt;")


# -- the job table ------------------------------------------------------------------------------

def job_rows(db, **where) -> list[Job]:
    with db.transaction() as session:
        query = select(Job).order_by(Job.id)
        for name, value in where.items():
            query = query.where(getattr(Job, name) == value)
        rows = list(session.scalars(query))
        session.expunge_all()
    return rows


def make_due(db, **where) -> int:
    """Move pending jobs' due time to now (skips a retry's backoff without changing its count)."""
    with db.transaction() as session:
        query = update(Job).where(Job.status == "pending")
        for name, value in where.items():
            query = query.where(getattr(Job, name) == value)
        return session.execute(query.values(due_at=utcnow() - timedelta(milliseconds=1))).rowcount


def drain(engine, db, *, timeout: float = 20.0) -> int:
    """Run passes of ``worker --once`` until no job is pending or running (retries included)."""
    worker = engine.worker(db)
    applied = 0
    deadline = time.monotonic() + timeout
    while True:
        applied += worker.run_once()
        if not [j for j in job_rows(db) if j.status in ("pending", "running")]:
            return applied
        assert time.monotonic() < deadline, f"jobs still waiting after {timeout} s: {job_rows(db)}"
        time.sleep(0.02)


def wait_for(predicate, *, timeout: float = 20.0, interval: float = 0.02, what: str = "condition"):
    """Poll ``predicate`` until it returns something truthy (bounded); return that value."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        assert time.monotonic() < deadline, f"timed out after {timeout} s waiting for {what}"
        time.sleep(interval)


@contextmanager
def running_worker(engine, db, options=None, name: str | None = None):
    """A serving worker (``worker.run()``) in a thread, stopped and joined on exit."""
    worker = engine.worker(db, options, name)
    thread = threading.Thread(target=worker.run, name="test-worker", daemon=True)
    thread.start()
    try:
        yield worker
        assert thread.is_alive(), "the worker stopped by itself"
    finally:
        worker.stop()
        thread.join(timeout=30)
        assert not thread.is_alive(), "the worker did not stop within 30 s"


# -- reading an application's workflow -----------------------------------------------------------

def task_states(engine, db, application_id: int) -> dict[str, str]:
    """element id → SpiffWorkflow state name of the newest task of each element."""
    with db.transaction() as session:
        application = engine.application(session, application_id)
        workflow = engine.applications.workflow_of(session, application)
    states = {}
    for task in workflow.get_tasks():
        states[task.task_spec.bpmn_id or task.task_spec.name] = TaskState.get_name(task.state)
    return states
