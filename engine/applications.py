"""Starting applications and moving them forward — each call is one step in the caller's
transaction: lock the application, load its state, act, run until it waits, save state,
task projection and audit events. Nothing here commits; a failure leaves nothing behind.
"""

from __future__ import annotations

import secrets
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from uuid import UUID

from SpiffWorkflow.bpmn.specs.event_definitions.message import MessageEventDefinition
from SpiffWorkflow.bpmn.specs.mixins.events.end_event import EndEvent
from SpiffWorkflow.bpmn.util.event import BpmnEvent
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import delete, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from engine.audit import append_event, data_hash
from engine.definitions import DefinitionCatalog
from engine.errors import BadInput, Conflict, ExecutionFailed, NotFound, PermissionRefused
from engine.forms import validate_submission
from engine.identity import groups_of
from engine.jobs.store import drop_singleton
from engine.jobs.store import enqueue as enqueue_job
from engine.messages import MessageRouter, flatten_correlations, waiting_messages
from engine.runtime.assignment import assignment_for, task_properties
from engine.runtime.retry_policy import RetryPolicy, retry_policy
from engine.runtime.runner import (
    complete_task,
    fire_start_timer,
    fire_timers,
    next_timer_due,
    run_until_waiting,
    translated_errors,
)
from engine.runtime.service import CALL_KEY, AsyncServiceTask, pending_calls
from engine.runtime.state import StateSerializer
from engine.statuses import STATUSES
from engine.store.models import Application, Definition, HumanTask, TaskCandidate, utcnow

_REFERENCE_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # no 0/O, 1/I: people read these aloud


def new_reference(now: datetime) -> str:
    body = "".join(secrets.choice(_REFERENCE_ALPHABET) for _ in range(8))
    return f"{now.year}-{body[:4]}-{body[4:]}"


@dataclass
class StepResult:
    """What a step left behind, for the caller to report."""

    application: Application
    opened_tasks: list[HumanTask] = field(default_factory=list)
    closed_tasks: list[HumanTask] = field(default_factory=list)


class ApplicationService:
    def __init__(self, catalog: DefinitionCatalog, script_engine, default_retry: RetryPolicy | None = None,
                 message_buffer_seconds: float = 86400.0):
        self.catalog = catalog
        self.script_engine = script_engine
        self.serializer = StateSerializer()
        self.default_retry = default_retry or RetryPolicy(max_attempts=5, backoff_seconds=10.0)
        self.messages = MessageRouter(self, message_buffer_seconds)

    # -- start ----------------------------------------------------------------------------

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
        application = Application(reference=new_reference(now), definition_id=definition.id, status="received",
                                  state=b"", state_format=0, started_by=actor, created_at=now, updated_at=now)
        session.add(application)
        session.flush()
        append_event(session, action="application_started", actor=actor, application_id=application.id,
                     details={"definition": definition.key, "version": definition.version,
                              "reference": application.reference, **trigger}, data=data)
        return self._save(session, application, workflow, actor, now)

    # -- human tasks ----------------------------------------------------------------------

    def complete(self, session: Session, task_id: str, *, actor: str, data: dict | None = None) -> StepResult:
        data = _require_object(data or {}, "data")
        application, human = self._lock_for_task(session, task_id)
        self._authorize_completion(session, human, actor, application)
        workflow = self._load(session, application)
        task = workflow.get_task_from_id(UUID(human.id))
        if task is None or task.state != TaskState.READY:
            raise Conflict(f"task {human.id} can no longer be completed: the application moved on meanwhile")
        form = task_properties(task).get("formKey")
        if form:
            validate_submission(self.catalog.files(session, application.definition_id), form, data)
        now = utcnow()
        with _failures_of(application):
            complete_task(workflow, task, data)
        human.status, human.completed_at, human.completed_by = "completed", now, actor
        append_event(session, action="task_completed", actor=actor, application_id=application.id,
                     task_id=human.id, details={"element_id": human.element_id}, data=data)
        return self._save(session, application, workflow, actor, now, finished=[human])

    def claim(self, session: Session, task_id: str, *, actor: str) -> HumanTask:
        application, human = self._lock_for_task(session, task_id)
        self._require_open(human)
        if human.assignee and human.assignee != actor:
            raise Conflict(f"task {human.id} is already claimed by {human.assignee}")
        if not self._is_candidate(session, human, actor, application):
            raise PermissionRefused(f"{actor} is not a candidate for task {human.id}")
        if human.assignee != actor:
            human.assignee = actor
            self._touch(application)
            append_event(session, action="task_claimed", actor=actor, application_id=application.id,
                         task_id=human.id)
        return human

    def unclaim(self, session: Session, task_id: str, *, actor: str) -> HumanTask:
        application, human = self._lock_for_task(session, task_id)
        self._require_open(human)
        if human.assignee != actor:
            raise PermissionRefused(f"task {human.id} is not claimed by {actor}")
        human.assignee = None
        self._touch(application)
        append_event(session, action="task_unclaimed", actor=actor, application_id=application.id, task_id=human.id)
        return human

    # -- timers ---------------------------------------------------------------------------

    def fire_timers(self, session: Session, application_id: int) -> StepResult | None:
        """Fire this application's due timers; None if another worker got there first."""
        application = self._lock(session, application_id)
        now = utcnow()
        if application.next_timer_at is None or application.next_timer_at > now:
            return None
        workflow = self._load(session, application)
        with _failures_of(application):
            fire_timers(workflow)
        return self._save(session, application, workflow, "system:timer", now)

    # -- service calls ----------------------------------------------------------------------

    def service_call(self, session: Session, application_id: int, task_id: str) -> dict | None:
        """The evaluated call a service job should make, or None if the task no longer waits."""
        application = self.get(session, application_id)
        workflow = self._load(session, application)
        task = workflow.get_task_from_id(UUID(task_id))
        if task is None or task.state != TaskState.STARTED or not isinstance(task.task_spec, AsyncServiceTask):
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
        workflow = self._load(session, application)
        task = workflow.get_task_from_id(UUID(task_id))
        if task is None or task.state != TaskState.STARTED or not isinstance(task.task_spec, AsyncServiceTask):
            return None
        now = utcnow()
        with _failures_of(application):
            with translated_errors():
                task.task_spec.apply_result(task, result)
            run_until_waiting(workflow)
        append_event(session, action="service_task_completed", actor=actor, application_id=application.id,
                     task_id=task_id, details={"element_id": task.task_spec.bpmn_id,
                                               "operation": task.task_spec.operation_name}, data=result)
        return self._save(session, application, workflow, actor, now)

    def receive_message(self, session: Session, application_id: int, name: str, key: str, payload: dict,
                        sender: str | None, message_id: int) -> Application | None:
        """Deliver a message to the application subscribed for it; None if it no longer waits."""
        application = self._lock(session, application_id)
        workflow = self._load(session, application)
        for task, definition, waiting_key in waiting_messages(workflow, application.reference):
            if definition.name == name and waiting_key == key:
                now = utcnow()
                with _failures_of(application):
                    with translated_errors():
                        workflow.send_event(BpmnEvent(definition, payload, {}))
                    run_until_waiting(workflow)
                append_event(session, action="message_received", actor=sender, application_id=application.id,
                             task_id=str(task.id), details={"message": name, "message_id": message_id}, data=payload)
                self._save(session, application, workflow, sender, now)
                return application
        return None

    def reschedule_timer(self, session: Session, application_id: int) -> None:
        application = self._lock(session, application_id)
        self._schedule_timer_job(session, application)

    def _route_thrown_events(self, session: Session, application: Application, workflow: BpmnWorkflow) -> None:
        """Messages thrown here that nothing in this application caught go out through jobs."""
        for event in workflow.get_events():
            definition = event.event_definition
            if isinstance(definition, MessageEventDefinition):
                self.enqueue(session, "message", {"name": definition.name,
                                                  "key": flatten_correlations(event.correlations),
                                                  "data": event.payload, "sender": application.reference})
                action = "message_sent"
            else:
                action = "event_unhandled"
            append_event(session, action=action, actor=None, application_id=application.id,
                         details={"event": getattr(definition, "name", None)})

    def enqueue(self, session: Session, kind: str, payload: dict, **options):
        """Queue a job with the engine's default retry policy unless ``options`` set one."""
        options.setdefault("max_attempts", self.default_retry.max_attempts)
        options.setdefault("backoff_seconds", self.default_retry.backoff_seconds)
        return enqueue_job(session, kind, payload, **options)

    def _enqueue_service_calls(self, session: Session, application: Application, workflow: BpmnWorkflow) -> None:
        for task in pending_calls(workflow):
            policy = retry_policy(task.task_spec, self.default_retry)
            enqueue_job(session, "service", {"element_id": task.task_spec.bpmn_id,
                                             "operation": task.task_spec.operation_name},
                        application_id=application.id, task_id=str(task.id),
                        max_attempts=policy.max_attempts, backoff_seconds=policy.backoff_seconds,
                        idempotency_key=f"{application.reference}/{task.id}")
            task.internal_data[CALL_KEY]["enqueued"] = True

    def _schedule_timer_job(self, session: Session, application: Application) -> None:
        key = f"timer:{application.id}"
        if application.next_timer_at is None:
            drop_singleton(session, key)
        else:
            self.enqueue(session, "timer", {}, application_id=application.id, due_at=application.next_timer_at,
                         singleton_key=key, idempotency_key=key)

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
        # already holds the write lock (BEGIN IMMEDIATE). populate_existing re-reads a row
        # this session may have cached before it got the lock.
        application = session.scalars(
            select(Application).where(Application.id == application_id)
            .with_for_update().execution_options(populate_existing=True)
        ).first()
        if application is None:
            raise NotFound(f"application {application_id} does not exist")
        return application

    def _lock_for_task(self, session: Session, task_id: str) -> tuple[Application, HumanTask]:
        task_id = _task_uuid(task_id)
        human = session.get(HumanTask, task_id)
        if human is None:
            raise NotFound(f"task {task_id} does not exist")
        application = self._lock(session, human.application_id)
        session.refresh(human)
        if human.status != "open":
            by = f" by {human.completed_by}" if human.completed_by else ""
            at = f" at {human.completed_at.isoformat(timespec='seconds')}" if human.completed_at else ""
            raise Conflict(f"task {human.id} was already {human.status}{by}{at}; reload the application")
        return application, human

    def _require_open(self, human: HumanTask) -> None:
        if human.status != "open":
            raise Conflict(f"task {human.id} is {human.status}")

    def _is_candidate(self, session: Session, human: HumanTask, actor: str, application: Application) -> bool:
        if actor == human.assignee or actor in (human.candidate_users or []):
            return True
        if human.candidate_groups and set(human.candidate_groups) & groups_of(session, actor):
            return True
        return _unnamed(human) and actor == application.started_by

    def _authorize_completion(self, session: Session, human: HumanTask, actor: str, application: Application):
        if human.assignee:
            if human.assignee != actor:
                raise PermissionRefused(f"task {human.id} is assigned to {human.assignee}, not {actor}")
            return
        if not self._is_candidate(session, human, actor, application):
            raise PermissionRefused(f"{actor} is neither the assignee nor a candidate of task {human.id}")

    def _load(self, session: Session, application: Application) -> BpmnWorkflow:
        definition = session.get(Definition, application.definition_id)
        compiled = self.catalog.compiled(session, definition)
        return self.serializer.load(application.state, compiled.spec, compiled.subprocess_specs,
                                    self.script_engine)

    def _touch(self, application: Application) -> None:
        application.updated_at = utcnow()

    def _save(self, session: Session, application: Application, workflow: BpmnWorkflow, actor: str | None,
              now: datetime, finished: list[HumanTask] = ()) -> StepResult:
        result = StepResult(application, closed_tasks=list(finished))
        while self.messages.deliver_buffered(session, application, workflow):
            run_until_waiting(workflow)
        self._route_thrown_events(session, application, workflow)
        self._sync_tasks(session, application, workflow, now, result)
        self.messages.sync_subscriptions(session, application, workflow)
        self._enqueue_service_calls(session, application, workflow)
        application.state = self.serializer.dump(workflow)
        application.state_format = 1
        application.updated_at = now
        application.next_timer_at = None if workflow.completed else next_timer_due(workflow)
        self._schedule_timer_job(session, application)
        application.status = self._status(workflow, application, result)
        if workflow.completed and application.completed_at is None:
            application.completed_at = now
            append_event(session, action="application_completed", actor=actor, application_id=application.id,
                         details={"status": application.status}, data=workflow.data)
        try:
            session.flush()
        except StaleDataError as exc:
            raise Conflict(f"application {application.id} changed meanwhile; reload and try again") from exc
        return result

    def _sync_tasks(self, session: Session, application: Application, workflow: BpmnWorkflow, now: datetime,
                    result: StepResult) -> None:
        ready = {str(t.id): t for t in workflow.get_tasks(state=TaskState.READY, manual=True)}
        open_rows = list(session.scalars(select(HumanTask).where(
            HumanTask.application_id == application.id, HumanTask.status == "open")))
        for row in open_rows:
            if row.id not in ready:
                row.status, row.completed_at = "cancelled", now
                result.closed_tasks.append(row)
                append_event(session, action="task_cancelled", actor=None, application_id=application.id,
                             task_id=row.id, details={"element_id": row.element_id})
        closed = [r.id for r in result.closed_tasks]
        if closed:
            session.execute(delete(TaskCandidate).where(TaskCandidate.task_id.in_(closed)))
        known = {r.id for r in open_rows}
        for task_id, task in ready.items():
            if task_id in known:
                continue
            assignment = assignment_for(task, now)
            row = HumanTask(id=task_id, application_id=application.id, element_id=assignment.element_id,
                            name=assignment.name, lane=assignment.lane, form_key=assignment.form_key,
                            candidate_groups=assignment.candidate_groups,
                            candidate_users=assignment.candidate_users, assignee=assignment.assignee,
                            due_at=assignment.due_at, priority=assignment.priority, status="open", created_at=now)
            session.add(row)
            result.opened_tasks.append(row)
            candidates = [("group", g) for g in assignment.candidate_groups] + [
                ("user", u) for u in assignment.candidate_users]
            if assignment.assignee:
                candidates.append(("user", assignment.assignee))
            if not candidates and application.started_by:
                candidates.append(("user", application.started_by))
            for kind, name in dict.fromkeys(candidates):
                session.add(TaskCandidate(task_id=task_id, kind=kind, name=name, created_at=now))
            append_event(session, action="task_created", actor=None, application_id=application.id, task_id=task_id,
                         details={"element_id": assignment.element_id, "candidate_groups": assignment.candidate_groups,
                                  "candidate_users": assignment.candidate_users, "assignee": assignment.assignee})

    def _status(self, workflow: BpmnWorkflow, application: Application, result: StepResult) -> str:
        """The public status: an explicit ``status`` property of an open task or of the end event
        reached wins; otherwise open tasks mean "in_review" and a finished process "completed"."""
        if workflow.completed:
            return _end_status(workflow) or "completed"
        statuses = [task_properties(t).get("status")
                    for t in workflow.get_tasks(state=TaskState.READY, manual=True)]
        explicit = [s for s in statuses if s]
        if explicit:
            return explicit[0]
        if statuses:
            return "in_review"
        return application.status


@contextmanager
def _failures_of(application: Application):
    """Name the application in execution failures (the runner does not know it)."""
    try:
        yield
    except ExecutionFailed as exc:
        raise ExecutionFailed(exc.detail, application_id=application.id, element_id=exc.element_id) from exc


def _unnamed(human: HumanTask) -> bool:
    """A task nobody was named for belongs to whoever started the application."""
    return not human.candidate_groups and not human.candidate_users and not human.assignee


def _end_status(workflow: BpmnWorkflow) -> str | None:
    for task in reversed(workflow.get_tasks(state=TaskState.COMPLETED)):
        status = task_properties(task).get("status")
        if status and isinstance(task.task_spec, EndEvent):
            return status
    return None


def _task_uuid(task_id: str) -> str:
    try:
        return str(UUID(str(task_id)))
    except ValueError:
        raise BadInput(f"{task_id!r} is not a task id (a UUID)") from None


def _require_object(data, what: str) -> dict:
    if not isinstance(data, dict):
        raise BadInput(f"{what} must be a JSON object, got {type(data).__name__}")
    return data


__all__ = ["STATUSES", "ApplicationService", "StepResult", "data_hash"]
