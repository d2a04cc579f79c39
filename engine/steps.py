"""One step of an application, persisted: task projection, jobs, subscriptions, state,
audit events — written with a few Core statements in the caller's transaction.

A step is created once the application row is locked (or inserted) and ``finish``-ed after
the workflow ran; everything the step changed is then written together. If the row changed
since it was read, the step raises Conflict and the caller's transaction rolls back.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from uuid import UUID

import orjson
from SpiffWorkflow.bpmn.specs.event_definitions.message import MessageEventDefinition
from SpiffWorkflow.bpmn.specs.mixins.events.end_event import EndEvent
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.util.task import TaskState

from engine.approvals.plan import ROUTE_OPERATION
from engine.audit import ChainRecorder, application_chain
from engine.errors import Conflict
from engine.jobs.store import drop_service_jobs
from engine.lifecycle import task_info
from engine.messages import flatten_correlations
from engine.runtime.assignment import assignment_for, task_properties
from engine.runtime.retry_policy import retry_policy
from engine.runtime.runner import all_tasks, next_timer_due, run_until_waiting
from engine.runtime.service import CALL_KEY, pending_calls, waiting_calls
from engine.runtime.state import survives_reload
from engine.store import rows
from engine.views import application_data


@dataclass
class StepResult:
    """What a step left behind, for the caller to report."""

    application: rows.ApplicationRecord
    opened_tasks: list[rows.TaskRecord] = field(default_factory=list)
    closed_tasks: list[rows.TaskRecord] = field(default_factory=list)


def ready_human_tasks(workflow: BpmnWorkflow) -> dict[str, object]:
    """Ready user and manual tasks by id — exactly what the task projection holds open."""
    return {str(t.id): t for t in all_tasks(workflow) if t.state == TaskState.READY and t.task_spec.manual}


class Step:
    """One step of one application.

    ``workflow`` is the loaded workflow *before* the step acts (None for a new application):
    its ready human tasks are what the projection holds open, so after the run the tasks to
    open and to close follow from a comparison in memory, without reading them back.
    """

    def __init__(self, service, session, application, now: datetime, actor: str | None,
                 workflow: BpmnWorkflow | None = None):
        self.service = service
        self.session = session
        self.connection = session.connection()
        self.application = application
        self.now = now
        self.actor = actor
        self.audit = ChainRecorder(application_chain(application.id), application.audit_seq,
                                   application.audit_hash, application.id)
        self.before = {task_id: task.task_spec for task_id, task in ready_human_tasks(workflow).items()} \
            if workflow is not None else {}
        self.calls_before = waiting_calls(workflow) if workflow is not None else set()
        self.closed: list = []
        #: Tasks opened by the engine rather than the diagram (approval routes), with their candidates.
        self._extra_tasks: list[dict] = []
        #: Set by the caller for the lifecycle events: the start data of a new application,
        #: the task a person completed and what they submitted.
        self.started_with: dict | None = None
        self.completed: tuple | None = None
        #: Set by the caller: the service task whose job result this step applies.
        self.completed_call: str | None = None

    def record(self, action: str, actor: str | None = None, **kwargs) -> None:
        self.audit.record(action, actor, **kwargs)

    def open_task(self, values: dict) -> None:
        """Open a task that is not a task of the diagram (an approval route's), written with the rest."""
        self._extra_tasks.append(values)

    def pending_tasks(self) -> list:
        """Tasks opened in this step and not written yet."""
        return [rows.TaskRecord(**values) for values in self._extra_tasks]

    def close_task(self, task, status: str, by: str | None = None) -> None:
        task.status, task.completed_at, task.completed_by = status, self.now, by
        self.closed.append(task)

    def finish(self, workflow: BpmnWorkflow) -> StepResult:
        """Write everything the workflow's run changed; return what opened and closed."""
        service, application = self.service, self.application
        messages = service.messages
        while messages.deliver_buffered(self.session, application, workflow, self):
            run_until_waiting(workflow)
        self._route_thrown_events(workflow)
        routes_gone, calls_gone = self._gone_calls(workflow)
        if routes_gone:
            service.routes.cancel(self, routes_gone)
        service.routes.start_pending(self, workflow)
        ready = ready_human_tasks(workflow)
        opened = self._sync_tasks(ready)
        waits = messages.sync_subscriptions(self.session, application, workflow, known=application.message_waits)
        self._enqueue_service_calls(workflow)
        if calls_gone:
            # Cancelled while its job waited (an interrupting timer, a message): the call must not
            # reach the outside world any more. A job already running finds the task gone.
            drop_service_jobs(self.session, self.application.id, calls_gone)
        old_timer = application.next_timer_at
        values = {
            "state": service.serializer.dump(workflow),
            "state_format": 1,
            "updated_at": self.now,
            "next_timer_at": None if workflow.completed else next_timer_due(workflow),
            "status": self._status(workflow, ready),
            "message_waits": waits,
        }
        finished = workflow.completed and application.completed_at is None
        if finished:
            values["completed_at"] = self.now
            self.record("application_completed", self.actor, details={"status": values["status"]},
                        data=workflow.data)
        if values["next_timer_at"] != old_timer:
            service.schedule_timer_job(self.session, application.id, values["next_timer_at"])
        self.audit.write(self.connection)
        values.update(audit_seq=self.audit.seq, audit_hash=self.audit.head)
        if not rows.update_application(self.connection, application.id, application.version, values):
            raise Conflict(f"application {application.id} changed meanwhile; reload and try again")
        previous_status = application.status
        for key, value in values.items():
            setattr(application, key, value)
        application.version += 1
        # Once committed, the next step of this application in this process can take the object
        # (unless some data in it would read back differently from the stored state).
        if survives_reload(workflow):
            service.live.keep_after_commit(self.session, application, workflow)
        self._emit(opened, previous_status, finished, workflow)
        return StepResult(application, opened, self.closed)

    def event_fields(self, data: dict | None = None) -> dict:
        """The fields every lifecycle event of this step carries (``data``: the application's
        current data unless the event is about other data, such as a submission)."""
        application = self.application
        return {"application_id": application.id, "reference": application.reference,
                "procedure": self.service.catalog.key_of(self.session, application.definition_id),
                "status": application.status, "actor": self.actor,
                "data": self._current_data if data is None else data,
                "enqueue": lambda kind, payload, **options: self.service.enqueue(
                    self.session, kind, payload, application_id=application.id, **options)}

    def _emit(self, opened: list, previous_status: str, finished: bool, workflow: BpmnWorkflow) -> None:
        lifecycle = self.service.lifecycle
        if lifecycle is None or not lifecycle.listening():
            return
        self._current_data = application_data(workflow)
        if self.started_with is not None:
            lifecycle.emit("application_started", **self.event_fields(self.started_with))
        if self.completed is not None:
            task, data = self.completed
            lifecycle.emit("task_completed", task=task_info(task), **self.event_fields(data))
        for task in opened:
            lifecycle.emit("task_created", task=task_info(task), **self.event_fields())
        if previous_status != self.application.status:
            lifecycle.emit("status_changed", previous_status=previous_status, **self.event_fields())
        if finished:
            lifecycle.emit("application_finished", **self.event_fields())

    # -- pieces -----------------------------------------------------------------------------

    def _sync_tasks(self, ready: dict) -> list:
        closing = {t.id for t in self.closed}
        for task_id, spec in self.before.items():
            if task_id not in ready and task_id not in closing:
                known_fields = {"id": task_id, "application_id": self.application.id, "element_id": spec.bpmn_id,
                                "name": spec.bpmn_name or spec.bpmn_id}
                self.close_task(rows.TaskRecord(**{**dict.fromkeys(rows.TASK_FIELDS), **known_fields}), "cancelled")
                self.record("task_cancelled", None, task_id=task_id, details={"element_id": spec.bpmn_id})
        rows.close_tasks(self.connection, self.closed)
        known = set(self.before)
        opened, task_rows, candidate_rows = [], [], []
        closing = {t.id for t in self.closed}
        for values in self._extra_tasks:
            if values["id"] in closing:
                continue  # opened and closed within this step
            task_rows.append(values)
            opened.append(rows.TaskRecord(**values))
            names = [("group", g) for g in values["candidate_groups"]] + [("user", u) for u in values["candidate_users"]]
            candidate_rows += [{"task_id": values["id"], "kind": kind, "name": name, "created_at": self.now}
                               for kind, name in dict.fromkeys(names)]
            self.record("task_created", None, task_id=values["id"],
                        details={"element_id": values["element_id"], "kind": values["kind"],
                                 "candidate_groups": values["candidate_groups"],
                                 "candidate_users": values["candidate_users"]})
        for task_id, task in ready.items():
            if task_id in known:
                continue
            a = assignment_for(task, self.now)
            values = dict(id=task_id, application_id=self.application.id, element_id=a.element_id, name=a.name,
                          lane=a.lane, form_key=a.form_key, candidate_groups=a.candidate_groups,
                          candidate_users=a.candidate_users, assignee=a.assignee, due_at=a.due_at,
                          priority=a.priority, status="open", created_at=self.now, completed_at=None,
                          completed_by=None, kind="task", route_id=None, route_step=None)
            task_rows.append(values)
            opened.append(rows.TaskRecord(**values))
            names = [("group", g) for g in a.candidate_groups] + [("user", u) for u in a.candidate_users]
            if a.assignee:
                names.append(("user", a.assignee))
            if not names and self.application.started_by:
                names.append(("user", self.application.started_by))
            candidate_rows += [{"task_id": task_id, "kind": kind, "name": name, "created_at": self.now}
                               for kind, name in dict.fromkeys(names)]
            self.record("task_created", None, task_id=task_id,
                        details={"element_id": a.element_id, "candidate_groups": a.candidate_groups,
                                 "candidate_users": a.candidate_users, "assignee": a.assignee})
        rows.insert_tasks(self.connection, task_rows, candidate_rows)
        return opened

    def _route_thrown_events(self, workflow: BpmnWorkflow) -> None:
        """Messages thrown here that nothing in this application caught go out through jobs."""
        for event in workflow.get_events():
            definition = event.event_definition
            if isinstance(definition, MessageEventDefinition):
                self.service.enqueue(self.session, "message", {
                    "name": definition.name, "key": flatten_correlations(event.correlations),
                    "data": event.payload, "sender": self.application.reference})
                action = "message_sent"
            else:
                action = "event_unhandled"
            self.record(action, None, details={"event": getattr(definition, "name", None)})

    def _enqueue_service_calls(self, workflow: BpmnWorkflow) -> None:
        """Each newly parked service task becomes a job carrying its evaluated call, so the
        worker calls the operation without loading the application first."""
        for task in pending_calls(workflow):
            policy = retry_policy(task.task_spec, self.service.default_retry)
            call = task.internal_data[CALL_KEY]
            params = call["params"]
            if call["operation"] in self.service.operations_with_task_data:
                # The operation works on the application's data (a document to render): it travels
                # with the job, so the worker need not load the workflow to read it.
                data = {k: v for k, v in task.data.items() if not str(k).startswith("_")}
                # Jobs hold JSON: dates become ISO text, other values their text.
                params = {**params, "task_data": orjson.loads(orjson.dumps(data, default=str))}
            self.service.enqueue(self.session, "service", {"element_id": task.task_spec.bpmn_id,
                                                           "operation": call["operation"],
                                                           "params": params,
                                                           "reference": self.application.reference},
                                 application_id=self.application.id, task_id=str(task.id),
                                 max_attempts=policy.max_attempts, backoff_seconds=policy.backoff_seconds,
                                 idempotency_key=f"{self.application.reference}/{task.id}")
            task.internal_data[CALL_KEY]["enqueued"] = True

    def _gone_calls(self, workflow: BpmnWorkflow) -> tuple[set[str], set[str]]:
        """(approval routes, other service calls) that waited before this step and no longer
        do — except the call whose job this step completes (taken in this transaction)."""
        if not self.calls_before:
            return set(), set()
        gone = self.calls_before - waiting_calls(workflow) - {self.completed_call}
        routes = {task_id for task_id in gone if _operation_of(workflow, task_id) == ROUTE_OPERATION}
        return routes, gone - routes

    def _status(self, workflow: BpmnWorkflow, ready: dict) -> str:
        """The public status: an explicit ``status`` property of an open task or of the end event
        reached wins; otherwise open tasks mean "in_review" and a finished process "completed"."""
        if workflow.completed:
            return _end_status(workflow) or "completed"
        statuses = [task_properties(t).get("status") for t in ready.values()]
        explicit = [s for s in statuses if s]
        if explicit:
            return explicit[0]
        if statuses:
            return "in_review"
        return self.application.status


def _operation_of(workflow: BpmnWorkflow, task_id: str) -> str | None:
    task = workflow.get_task_from_id(UUID(task_id))
    return getattr(task.task_spec, "operation_name", None) if task is not None else None


def _end_status(workflow: BpmnWorkflow) -> str | None:
    for task in reversed(workflow.get_tasks(state=TaskState.COMPLETED)):
        status = task_properties(task).get("status")
        if status and isinstance(task.task_spec, EndEvent):
            return status
    return None
