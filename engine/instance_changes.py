"""What an admin changes about a running application as a whole: cancel it, or move it to a
newer version of its procedure.

Both are steps like any other (engine.steps.Step): the application row is locked, the workflow
loaded, changed, and written back with its task projection, subscriptions, jobs and audit
events in the caller's transaction.

Migration follows SpiffWorkflow's own support (``SpiffWorkflow.bpmn.util.diff``): the stored
state is loaded against the old spec, ``diff_workflow`` aligns old and new task specs by BPMN
id, and ``migrate_workflow`` re-binds the tasks to the new spec and re-predicts what follows
every ready or waiting task. We refuse when a current position (a ready, waiting or started
task) has no element with the same id in the new version — moving it somewhere else would be
a guess. What moving means for the application:

- its data stays (workflow data, and the data of every finished task);
- a ready task keeps its id, so an open human task stays open, claimed or not;
- a waiting timer starts again from the moment of migration;
- a started task (a service call or approval route whose job is out) goes on as it was: its
  job is not queued again; only what follows it is predicted again from the new version.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from SpiffWorkflow.bpmn.serializer.workflow import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.util.diff import diff_workflow, migrate_workflow
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from engine.errors import BadInput, Conflict, NotFound
from engine.runtime.runner import all_tasks, run_until_waiting
from engine.runtime.service import serializer_config
from engine.steps import Step, StepResult
from engine.store.models import Application, Definition, Incident, Job, utcnow
from engine.views import application_data

#: Task states that are a position of the application: where it is now.
POSITION_STATES = TaskState.READY | TaskState.WAITING | TaskState.STARTED
CANCELLED = "cancelled"
MAX_REASON = 2000


class _CancelStep(Step):
    """A step whose application ends as ``cancelled`` (or ``ending``), whatever its diagram would say."""

    ending = CANCELLED

    def _status(self, workflow, ready) -> str:
        return self.ending


def cancel(applications, session: Session, application_id: int, *, actor: str, reason: str,
           ending: str = CANCELLED) -> StepResult:
    """End a running application: its open tasks, jobs, timers and message subscriptions go,
    open incidents are closed, its status becomes ``ending`` (``cancelled`` by an admin,
    ``withdrawn`` by its applicant); plugins hear of it through ``madoguchi_status_changed``
    and ``madoguchi_application_finished``."""
    reason = (reason or "").strip()
    if not reason:
        raise BadInput("reason: say why the application is cancelled (it is kept in the audit trail)")
    if len(reason) > MAX_REASON:
        raise BadInput(f"reason: at most {MAX_REASON} characters, got {len(reason)}")
    application = applications._lock(session, application_id)
    if application.completed_at is not None:
        raise Conflict(f"application {application.reference} has already ended ({application.status}); "
                       "there is nothing to cancel")
    workflow = applications._load_locked(session, application)
    step = _CancelStep(applications, session, application, utcnow(), actor, workflow)
    step.ending = ending
    step.record("application_cancelled" if ending == CANCELLED else f"application_{ending}", actor,
                details={"reason": reason, "status_before": application.status})
    # A finished workflow shows its process data: keep the data the application had reached.
    workflow.data.update(application_data(workflow))
    workflow.cancel()
    _close_incidents(session, application_id, actor, step)
    # Waiting work goes; a job already running finds its task cancelled and does nothing.
    session.execute(delete(Job).where(Job.application_id == application_id, Job.status != "running")
                    .execution_options(synchronize_session=False))
    return step.finish(workflow)


def _close_incidents(session: Session, application_id: int, actor: str, step: Step) -> None:
    for incident in session.scalars(select(Incident).where(Incident.application_id == application_id,
                                                           Incident.status == "open")):
        incident.status, incident.resolution = "resolved", CANCELLED
        incident.resolved_at, incident.resolved_by = step.now, actor
        step.record("incident_resolved", actor, details={"incident_id": incident.id, "resolution": CANCELLED})


# -- migration ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Position:
    """Where the application is now, and what that becomes in the new version."""

    element_id: str
    name: str
    state: str  # ready, waiting, started
    found: bool  # the new version has an element with this id
    new_name: str | None = None
    changed: bool = False  # found, but defined differently (name, type, properties …)


@dataclass
class MigrationPreview:
    application_id: int
    reference: str
    key: str
    from_version: int
    to_version: int
    positions: list[Position] = field(default_factory=list)
    #: Elements only in the new version / only in the old one (by id).
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    #: Names of the application's data (kept as they are).
    data_keys: list[str] = field(default_factory=list)

    @property
    def missing(self) -> list[str]:
        return [p.element_id for p in self.positions if not p.found]

    @property
    def possible(self) -> bool:
        return not self.missing

    def refusal(self) -> str:
        return (f"application {self.reference} cannot move to version {self.to_version} of {self.key}: "
                f"it is at {', '.join(self.missing)}, which version {self.to_version} does not have; "
                "add an element with the same id to the new version, or let the application move on first")

    def as_dict(self) -> dict:
        return {"application_id": self.application_id, "reference": self.reference, "key": self.key,
                "from_version": self.from_version, "to_version": self.to_version, "possible": self.possible,
                "missing": self.missing, "added": self.added, "removed": self.removed, "data_keys": self.data_keys,
                "positions": [p.__dict__ for p in self.positions]}


def _registry():
    # The registry converts task specs to dicts, which is how SpiffWorkflow compares them.
    return BpmnWorkflowSerializer.configure(serializer_config())


def _target(applications, session: Session, application, to_version: int) -> tuple[Definition, Definition]:
    current = session.get(Definition, application.definition_id)
    if not isinstance(to_version, int) or isinstance(to_version, bool):
        raise BadInput(f"to_version: a version number, got {to_version!r}")
    if to_version <= current.version:
        raise BadInput(f"to_version: application {application.reference} runs version {current.version} of "
                       f"{current.key}; give a newer version")
    target = session.scalars(select(Definition).where(Definition.key == current.key,
                                                      Definition.version == to_version)).first()
    if target is None:
        raise NotFound(f"{current.key} has no version {to_version}; deploy it first")
    return current, target


def _element_names(compiled) -> dict[str, str]:
    """Element id -> name over the main process and the sub-processes it uses."""
    names = {}
    for spec in (compiled.spec, *compiled.subprocess_specs.values()):
        for task_spec in spec.task_specs.values():
            bpmn_id = getattr(task_spec, "bpmn_id", None)
            if bpmn_id:
                names[bpmn_id] = getattr(task_spec, "bpmn_name", None) or bpmn_id
    return names


def _specs_by_id(compiled) -> dict[str, object]:
    specs = {}
    for spec in (compiled.spec, *compiled.subprocess_specs.values()):
        for task_spec in spec.task_specs.values():
            if getattr(task_spec, "bpmn_id", None):
                specs[task_spec.bpmn_id] = task_spec
    return specs


def _preview(applications, session: Session, application, workflow, to_version: int) -> MigrationPreview:
    if application.completed_at is not None:
        raise Conflict(f"application {application.reference} has already ended ({application.status}); "
                       "only running applications move to a new version")
    current, target = _target(applications, session, application, to_version)
    old = applications.catalog.compiled_by_id(session, current.id)
    new = applications.catalog.compiled_by_id(session, target.id)
    old_names, new_names = _element_names(old), _element_names(new)
    old_specs, new_specs = _specs_by_id(old), _specs_by_id(new)
    registry = _registry()
    preview = MigrationPreview(application.id, application.reference, current.key, current.version, target.version,
                               added=sorted(set(new_names) - set(old_names)),
                               removed=sorted(set(old_names) - set(new_names)),
                               data_keys=sorted(k for k in application_data(workflow) if not str(k).startswith("_")))
    seen = set()
    for task in all_tasks(workflow):
        element = getattr(task.task_spec, "bpmn_id", None)
        if not element or not task.state & POSITION_STATES or element in seen:
            continue
        seen.add(element)
        found = element in new_specs
        changed = found and registry.convert(old_specs[element]) != registry.convert(new_specs[element]) \
            if element in old_specs else found
        preview.positions.append(Position(element, old_names.get(element, element), TaskState.get_name(task.state).lower(),
                                          found, new_names.get(element), bool(changed)))
    preview.positions.sort(key=lambda p: p.element_id)
    return preview


def _repredict_started(workflow) -> None:
    """``migrate_workflow`` resets ready and waiting tasks only. A started task (a service call
    or approval route whose job is out, a sub-process under way) keeps its state and internal
    data, so its job is not queued twice — but what follows it was predicted from the old
    version: predict it again from the new one."""
    for task in workflow.get_tasks(state=TaskState.STARTED, skip_subprocesses=True):
        task._drop_children(force=True)
        task.task_spec._predict(task, mask=TaskState.PREDICTED_MASK | TaskState.FUTURE | TaskState.STARTED)


def migration_preview(applications, session: Session, application_id: int, to_version: int) -> MigrationPreview:
    """What moving the application to ``to_version`` would do; changes nothing."""
    application = applications.get(session, application_id)
    workflow = applications.workflow_of(session, application)
    return _preview(applications, session, application, workflow, to_version)


def migrate(applications, session: Session, application_id: int, *, to_version: int, actor: str
            ) -> tuple[MigrationPreview, StepResult]:
    """Move a running application to a newer version of its procedure (refused, naming the
    elements, when one of its current positions does not exist there)."""
    application = applications._lock(session, application_id)
    workflow = applications._load_locked(session, application)
    preview = _preview(applications, session, application, workflow, to_version)
    if not preview.possible:
        raise Conflict(preview.refusal())
    target = session.scalars(select(Definition).where(Definition.key == preview.key,
                                                      Definition.version == to_version)).one()
    new = applications.catalog.compiled_by_id(session, target.id)
    step = Step(applications, session, application, utcnow(), actor, workflow)
    top_diff, sub_diffs = diff_workflow(_registry(), workflow, new.spec, new.subprocess_specs)
    for sub_id, sub_diff in sub_diffs.items():
        if sub_diff is None:
            raise Conflict(f"application {application.reference} is inside a sub-process that version {to_version} "
                           f"of {preview.key} does not define ({workflow.subprocesses[sub_id].spec.name})")
    migrate_workflow(top_diff, workflow, new.spec)
    for sub_id, sub_diff in sub_diffs.items():
        sub = workflow.subprocesses[sub_id]
        migrate_workflow(sub_diff, sub, new.subprocess_specs[sub.spec.name])
    workflow.subprocess_specs = new.subprocess_specs
    for part in (workflow, *workflow.subprocesses.values()):
        _repredict_started(part)
    run_until_waiting(workflow)
    # The row names its version; the step below writes the rest (and checks nobody wrote meanwhile).
    applications_table = Application.__table__
    session.connection().execute(applications_table.update().where(applications_table.c.id == application.id)
                                 .values(definition_id=target.id))
    application.definition_id = target.id
    step.record("application_migrated", actor, details={
        "key": preview.key, "from_version": preview.from_version, "to_version": preview.to_version,
        "positions": [p.element_id for p in preview.positions]})
    return preview, step.finish(workflow)

