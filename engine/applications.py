"""Starting applications and moving them forward — each call is one step in the caller's
transaction: lock the application, load its state, act, run until it waits, then let a
:class:`engine.steps.Step` write state, task projection, jobs and audit events. Nothing
here commits; a failure leaves nothing behind.
"""

from __future__ import annotations

import secrets
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from SpiffWorkflow.bpmn.util.event import BpmnEvent
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.util.task import TaskState
from sqlalchemy.orm import Session

from engine.audit import GENESIS
from engine.definitions import DefinitionCatalog
from engine.errors import BadInput, Conflict, ExecutionFailed, NotFound, PermissionRefused
from engine.forms import validate_submission
from engine.jobs.store import drop_singleton
from engine.jobs.store import enqueue as enqueue_job
from engine.messages import MessageRouter, waiting_messages
from engine.runtime.assignment import task_properties
from engine.runtime.live import LiveWorkflows
from engine.runtime.retry_policy import RetryPolicy
from engine.runtime.runner import (
    complete_task,
    fire_start_timer,
    fire_timers,
    run_until_waiting,
    translated_errors,
)
from engine.runtime.service import CALL_KEY, AsyncServiceTask
from engine.runtime.state import StateSerializer
from engine.steps import Step, StepResult
from engine.store import rows
from engine.store.models import Application, Definition, HumanTask, utcnow

_REFERENCE_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # no 0/O, 1/I: people read these aloud


def new_reference(now: datetime) -> str:
    body = "".join(secrets.choice(_REFERENCE_ALPHABET) for _ in range(8))
    return f"{now.year}-{body[:4]}-{body[4:]}"


class ApplicationService:
    def __init__(self, catalog: DefinitionCatalog, script_engine, default_retry: RetryPolicy | None = None,
                 message_buffer_seconds: float = 86400.0):
        self.catalog = catalog
        self.script_engine = script_engine
        self.serializer = StateSerializer()
        self.default_retry = default_retry or RetryPolicy(max_attempts=5, backoff_seconds=10.0)
        self.messages = MessageRouter(self, message_buffer_seconds)
        #: Workflow objects of this service's committed steps, for the next step of the application.
        self.live = LiveWorkflows()
        #: Set by the Engine: where lifecycle events go (None: nowhere).
        self.lifecycle = None
        #: Set by the Engine: runs approval routes (engine.approvals.route.RouteService).
        self.routes = None
        #: Operations whose jobs carry the task's data along with their parameters (``task_data``).
        self.operations_with_task_data: frozenset[str] = frozenset()

    # -- starting ---------------------------------------------------------------------------

    def start(self, session: Session, key: str, *, data: dict | None = None, actor: str | None = None) -> StepResult:
        """Create an application of the newest version of ``key`` and run it until it waits."""
        data = _require_object(data or {}, "data")
        definition = self.catalog.latest(session, key)
        workflow = self._new_workflow(session, definition, data)
        return self._create(session, definition, workflow, data, actor, {})

    def start_by_message(self, session: Session, definition: Definition, name: str, payload: dict,
                         sender: str | None) -> StepResult:
        """Start an application whose message start event catches message ``name``."""
        workflow = self._new_workflow(session, definition, {})
        for _task, message_definition, _key in waiting_messages(workflow, ""):
            if message_definition.name == name:
                with translated_errors():
                    workflow.send_event(BpmnEvent(message_definition, payload, {}))
                break
        run_until_waiting(workflow)
        return self._create(session, definition, workflow, payload, sender, {"message": name})

    def start_by_timer(self, session: Session, definition: Definition, element_id: str) -> StepResult:
        """Start an application whose timer start event ``element_id`` is due now (a schedule)."""
        workflow = self._new_workflow(session, definition, {})
        with translated_errors():
            fire_start_timer(workflow, element_id)
        run_until_waiting(workflow)
        return self._create(session, definition, workflow, {}, "system:schedule", {"timer": element_id})

    def _new_workflow(self, session: Session, definition: Definition, data: dict) -> BpmnWorkflow:
        compiled = self.catalog.compiled(session, definition)
        workflow = BpmnWorkflow(compiled.spec, compiled.subprocess_specs, script_engine=self.script_engine)
        workflow.task_tree.data.update(data)
        run_until_waiting(workflow)
        return workflow

    def _create(self, session: Session, definition: Definition, workflow: BpmnWorkflow, data: dict,
                actor: str | None, trigger: dict) -> StepResult:
        now = utcnow()
        values = dict(reference=new_reference(now), definition_id=definition.id, status="received", state=b"",
                      state_format=0, version=1, started_by=actor, created_at=now, updated_at=now,
                      completed_at=None, next_timer_at=None, message_waits=0, audit_seq=0, audit_hash=GENESIS)
        application_id = rows.insert_application(session.connection(), values)
        application = rows.ApplicationRecord(id=application_id, **values)
        step = Step(self, session, application, now, actor)
        step.started_with = data
        step.record("application_started", actor, details={"definition": definition.key,
                                                           "version": definition.version,
                                                           "reference": application.reference, **trigger},
                    data=data)
        return step.finish(workflow)

    # -- human tasks ----------------------------------------------------------------------

    def complete(self, session: Session, task_id: str, *, actor: str, data: dict | None = None) -> StepResult:
        data = _require_object(data or {}, "data")
        human, application, candidate = self._lock_task(session, task_id, actor)
        if human.kind != "task":
            return self.routes.act(session, human, application, candidate, actor, data)
        self._authorize_completion(human, actor, candidate)
        workflow = self._load_locked(session, application)
        task = workflow.get_task_from_id(UUID(human.id))
        if task is None or task.state != TaskState.READY:
            raise Conflict(f"task {human.id} can no longer be completed: the application moved on meanwhile")
        form = task_properties(task).get("formKey")
        if form:
            validate_submission(self.catalog.files(session, application.definition_id), form, data)
        step = Step(self, session, application, utcnow(), actor, workflow)
        with _failures_of(application):
            complete_task(workflow, task, data)
        step.close_task(human, "completed", by=actor)
        step.completed = (human, data)
        step.record("task_completed", actor, task_id=human.id, details={"element_id": human.element_id}, data=data)
        return step.finish(workflow)

    def claim(self, session: Session, task_id: str, *, actor: str) -> HumanTask:
        human, application, candidate = self._lock_task(session, task_id, actor)
        if human.assignee and human.assignee != actor:
            raise Conflict(f"task {human.id} is already claimed by {human.assignee}")
        if not (candidate or actor == human.assignee):
            raise PermissionRefused(f"{actor} is not a candidate for task {human.id}")
        if human.assignee != actor:
            self._assign(session, application, human, actor, "task_claimed")
        return human

    def unclaim(self, session: Session, task_id: str, *, actor: str) -> HumanTask:
        human, application, _candidate = self._lock_task(session, task_id, actor)
        if human.assignee != actor:
            raise PermissionRefused(f"task {human.id} is not claimed by {actor}")
        self._assign(session, application, human, None, "task_unclaimed", actor=actor)
        return human

    def _assign(self, session: Session, application: Application, human: HumanTask, assignee: str | None,
                action: str, actor: str | None = None) -> None:
        connection = session.connection()
        rows.set_assignee(connection, human.id, assignee)
        human.assignee = assignee
        step = Step(self, session, application, utcnow(), actor or assignee)
        step.record(action, actor or assignee, task_id=human.id)
        step.audit.write(connection)
        # The state does not change: the workflow object cached for the application (if any)
        # stays good for the row as this writes it.
        workflow = self.live.take(application)
        if rows.update_application(connection, application.id, application.version,
                                   {"updated_at": step.now, "audit_seq": step.audit.seq,
                                    "audit_hash": step.audit.head}) and workflow is not None:
            self.live.keep_after_commit(session, _Written(application.id, application.version + 1,
                                                          step.audit.head, application.definition_id), workflow)

    def record_event(self, session: Session, application_id: int, action: str, actor: str | None,
                     details: dict) -> None:
        """Add an event to an application's audit trail without a step of its process
        (a document revoked or downloaded); the row is locked and its chain head moves on."""
        application = self._lock(session, application_id)
        step = Step(self, session, application, utcnow(), actor)
        step.record(action, actor, details=details)
        connection = session.connection()
        step.audit.write(connection)
        if not rows.update_application(connection, application.id, application.version,
                                       {"updated_at": step.now, "audit_seq": step.audit.seq,
                                        "audit_hash": step.audit.head}):
            raise Conflict(f"application {application.id} changed meanwhile; try again")

    # -- timers ---------------------------------------------------------------------------

    def fire_timers(self, session: Session, application_id: int) -> StepResult | None:
        """Fire this application's due timers; None if they are not due (any more)."""
        application = self._lock(session, application_id)
        now = utcnow()
        if application.next_timer_at is None or application.next_timer_at > now:
            return None
        workflow = self._load_locked(session, application)
        step = Step(self, session, application, now, "system:timer", workflow)
        with _failures_of(application):
            fire_timers(workflow)
        return step.finish(workflow)

    def reschedule_timer(self, session: Session, application_id: int) -> None:
        application = self._lock(session, application_id)
        self.schedule_timer_job(session, application.id, application.next_timer_at)

    def schedule_timer_job(self, session: Session, application_id: int, due_at: datetime | None) -> None:
        key = f"timer:{application_id}"
        if due_at is None:
            drop_singleton(session, key)
        else:
            self.enqueue(session, "timer", {}, application_id=application_id, due_at=due_at,
                         singleton_key=key, idempotency_key=key)

    # -- service calls ----------------------------------------------------------------------

    def service_call(self, session: Session, application_id: int, task_id: str) -> dict | None:
        """The evaluated call a service job should make, or None if the task no longer waits."""
        application = self.get(session, application_id)
        task = self._service_task(self._load(session, application), task_id)
        if task is None:
            return None
        call = dict(task.internal_data.get(CALL_KEY) or {})
        call.update(reference=application.reference, element_id=task.task_spec.bpmn_id)
        return call

    def complete_service_call(self, session: Session, application_id: int, task_id: str, result,
                              actor: str = "system:worker") -> StepResult | None:
        """Complete a waiting service task with its operation's result and run on.

        None if the task no longer waits (an interrupting event cancelled it meanwhile); the
        result is then dropped.
        """
        application = self._lock(session, application_id)
        workflow = self._load_locked(session, application)
        task = self._service_task(workflow, task_id)
        if task is None:
            return None
        step = Step(self, session, application, utcnow(), actor, workflow)
        step.completed_call = task_id
        with _failures_of(application):
            with translated_errors():
                task.task_spec.apply_result(task, result)
            run_until_waiting(workflow)
        step.record("service_task_completed", actor, task_id=task_id,
                    details={"element_id": task.task_spec.bpmn_id, "operation": task.task_spec.operation_name},
                    data=result)
        return step.finish(workflow)

    @staticmethod
    def _service_task(workflow: BpmnWorkflow, task_id: str):
        task = workflow.get_task_from_id(UUID(task_id))
        if task is None or task.state != TaskState.STARTED or not isinstance(task.task_spec, AsyncServiceTask):
            return None
        return task

    def enqueue(self, session: Session, kind: str, payload: dict, **options):
        """Queue a job with the engine's default retry policy unless ``options`` set one."""
        options.setdefault("max_attempts", self.default_retry.max_attempts)
        options.setdefault("backoff_seconds", self.default_retry.backoff_seconds)
        return enqueue_job(session, kind, payload, **options)

    # -- messages ---------------------------------------------------------------------------

    def receive_message(self, session: Session, application_id: int, name: str, key: str, payload: dict,
                        sender: str | None, message_id: int) -> Application | None:
        """Deliver a message to the application subscribed for it; None if it no longer waits."""
        application = self._lock(session, application_id)
        workflow = self._load_locked(session, application)
        for task, definition, waiting_key in waiting_messages(workflow, application.reference):
            if definition.name == name and waiting_key == key:
                step = Step(self, session, application, utcnow(), sender, workflow)
                with _failures_of(application):
                    with translated_errors():
                        workflow.send_event(BpmnEvent(definition, payload, {}))
                    run_until_waiting(workflow)
                step.record("message_received", sender, task_id=str(task.id),
                            details={"message": name, "message_id": message_id}, data=payload)
                return step.finish(workflow).application
        return None

    # -- reading --------------------------------------------------------------------------

    def get(self, session: Session, application_id: int) -> Application:
        application = session.get(Application, application_id)
        if application is None:
            raise NotFound(f"application {application_id} does not exist")
        return application

    def workflow_of(self, session: Session, application: Application) -> BpmnWorkflow:
        return self._load(session, application)

    # -- internals ------------------------------------------------------------------------

    def _lock(self, session: Session, application_id: int) -> Application:
        # One writer per application: FOR UPDATE on PostgreSQL; on SQLite the transaction
        # already holds the write lock (BEGIN IMMEDIATE).
        application = rows.lock_application(session.connection(), application_id)
        if application is None:
            raise NotFound(f"application {application_id} does not exist")
        return application

    def _lock_task(self, session: Session, task_id: str, actor: str):
        """(task, application, actor is a candidate), the application locked."""
        task_id = _task_uuid(task_id)
        found = rows.lock_application_of_task(session.connection(), task_id, actor)
        if found is None:
            raise NotFound(f"task {task_id} does not exist")
        human, application, candidate = found
        if human.status != "open":
            by = f" by {human.completed_by}" if human.completed_by else ""
            at = f" at {human.completed_at.isoformat(timespec='seconds')}" if human.completed_at else ""
            raise Conflict(f"task {human.id} was already {human.status}{by}{at}; reload the application")
        return human, application, candidate

    @staticmethod
    def _authorize_completion(human, actor: str, candidate: bool) -> None:
        """The assignee completes a claimed task; otherwise any candidate may (the task_candidates
        rows name them: candidate users and groups, the assignee, or the starter of an
        application whose task names nobody)."""
        if human.assignee:
            if human.assignee != actor:
                raise PermissionRefused(f"task {human.id} is assigned to {human.assignee}, not {actor}")
            return
        if not candidate:
            raise PermissionRefused(f"{actor} is neither the assignee nor a candidate of task {human.id}")

    def _load_locked(self, session: Session, application) -> BpmnWorkflow:
        """The workflow of an application whose row this transaction has locked, for a step:
        the object its last step in this process left, if that is still current, else loaded."""
        workflow = self.live.take(application)
        return workflow if workflow is not None else self._load(session, application)

    def _load(self, session: Session, application: Application) -> BpmnWorkflow:
        compiled = self.catalog.compiled_by_id(session, application.definition_id)
        return self.serializer.load(application.state, compiled.spec, compiled.subprocess_specs,
                                    self.script_engine)


@dataclass(frozen=True)
class _Written:
    """What identifies an application row as written (for the live workflow cache)."""

    id: int
    version: int
    audit_hash: str
    definition_id: int


@contextmanager
def _failures_of(application: Application):
    """Name the application in execution failures (the runner does not know it)."""
    try:
        yield
    except ExecutionFailed as exc:
        raise ExecutionFailed(exc.detail, application_id=application.id, element_id=exc.element_id) from exc


def _task_uuid(task_id: str) -> str:
    try:
        return str(UUID(str(task_id)))
    except ValueError:
        raise BadInput(f"{task_id!r} is not a task id (a UUID)") from None


def _require_object(data, what: str) -> dict:
    if not isinstance(data, dict):
        raise BadInput(f"{what} must be a JSON object, got {type(data).__name__}")
    return data


__all__ = ["ApplicationService", "StepResult", "new_reference"]
