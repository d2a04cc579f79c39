"""The engine's public face: what the command line, the web layer and plugins call.

Every method receives an SQLAlchemy session and works inside the caller's transaction; the
caller commits (``with database.transaction() as session: ...``). Nothing here opens or
commits a transaction behind the caller's back — except the worker, which is a caller.
"""

from __future__ import annotations

import threading
from datetime import datetime
from pathlib import Path

from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine
from sqlalchemy.orm import Session

from engine import audit, identity, incidents, tasklist
from engine.admin_actions import AdminActions
from engine.api_facade import ApiFacade
from engine.applicant_facade import ApplicantFacade
from engine.applications import ApplicationService, StepResult
from engine.approvals import people
from engine.approvals.plan import ROUTE_OPERATION
from engine.approvals.records import decisions_of, verify_decisions
from engine.approvals.route import RouteService
from engine.attachments.facade import AttachmentsFacade
from engine.capacity import CAPACITY_OPERATION, CapacityService
from engine.catalogue_facade import CatalogueFacade
from engine.config import Settings
from engine.definitions import DefinitionCatalog, DeployResult
from engine.intake import Intake
from engine.issuance.documents import ISSUE_OPERATION, IssuanceService
from engine.jobs.worker import Worker, WorkerOptions
from engine.lifecycle import IncidentInfo, Lifecycle
from engine.messages import SendResult
from engine.office_actions import OfficeActions
from engine.plugins import (
    build_plugin_manager,
    call_all,
    collect_callables,
    collect_named,
    declared_settings,
    describe,
    plugin_name,
    resolve_settings,
)
from engine.runtime.retry_policy import RetryPolicy
from engine.scripting import SandboxEnvironment, ScriptLimits
from engine.store.database import Database, upgrade_database
from engine.store.models import Application, Definition, HumanTask, Incident, Job, User, utcnow
from engine.triggers import Schedules
from engine.views import ApplicationView, application_view

#: Operations the engine runs itself rather than a plugin.
BUILTIN_OPERATIONS = frozenset({ROUTE_OPERATION})


class Engine(OfficeActions, AdminActions, CatalogueFacade, ApplicantFacade, ApiFacade, AttachmentsFacade):
    """One per process. Holds caches (parsed specs) that are safe to share between threads."""

    def __init__(self, settings: Settings | None = None, *, plugins: tuple = ()):
        self.settings = settings or Settings.from_env()
        self._database: Database | None = None
        self._database_lock = threading.Lock()
        self.plugin_manager = build_plugin_manager(extra=plugins, modules=self.settings.plugin_modules,
                                                   blocked=self.settings.blocked_plugins)
        self.declared_settings = declared_settings(self.plugin_manager)
        self.issuance = IssuanceService(self)
        self.operations = {**collect_callables(self.plugin_manager, "madoguchi_operations", engine=self),
                           ISSUE_OPERATION: self.issuance.operation,
                           CAPACITY_OPERATION: CapacityService(self).operation}
        self.job_handlers = collect_callables(self.plugin_manager, "madoguchi_job_handlers", engine=self)
        limits = ScriptLimits(max_iterations=self.settings.script_max_iterations,
                              max_seconds=self.settings.script_max_seconds)
        self.script_engine = PythonScriptEngine(environment=SandboxEnvironment(limits=limits))
        self.catalog = DefinitionCatalog(max_upload_bytes=self.settings.max_upload_bytes,
                                         operations=set(self.operations) | BUILTIN_OPERATIONS, after_deploy=self._after_deploy)
        self.applications = ApplicationService(
            self.catalog, self.script_engine,
            default_retry=RetryPolicy(self.settings.job_max_attempts, self.settings.job_backoff_seconds),
            message_buffer_seconds=self.settings.message_buffer_seconds,
        )
        self.applications.routes = RouteService(self.applications, self.settings)
        self.applications.operations_with_task_data = frozenset({ISSUE_OPERATION})
        self.messages = self.applications.messages
        self.applications.lifecycle = Lifecycle(self.plugin_manager)
        self.schedules = Schedules(self.applications, self.script_engine)
        self.intake = Intake(self)
        call_all(self.plugin_manager, "madoguchi_startup", engine=self)

    def announce_incident(self, session: Session, incident: Incident) -> None:
        """Tell plugins (``madoguchi_incident_raised``) — inside the transaction that raised it."""
        lifecycle = self.applications.lifecycle
        application = self.application(session, incident.application_id) if incident.application_id else None
        lifecycle.emit(
            "incident_raised", application_id=incident.application_id,
            reference=application.reference if application else None,
            procedure=self.catalog.key_of(session, application.definition_id) if application else None,
            status=application.status if application else None, actor="system:worker",
            enqueue=lambda kind, payload, **options: self.applications.enqueue(
                session, kind, payload, application_id=incident.application_id, **options),
            incident=IncidentInfo(id=incident.id, kind=incident.kind, element_id=incident.element_id,
                                  message=incident.message, attempts=incident.attempts))

    # -- notifications ------------------------------------------------------------------------

    def notifiers(self) -> dict[str, object]:
        return self.plugin_objects("madoguchi_notifiers", check=callable, what="a callable")

    def notify(self, session: Session, channel: str, *, recipient: str, template: str, data: dict | None = None,
               language: str = "ja", application_id: int | None = None) -> Job:
        """Queue one notification for delivery by the channel's notifier (a background job)."""
        return self.applications.enqueue(session, "notification", {
            "channel": channel, "recipient": recipient, "template": template, "language": language,
            "data": data or {}}, application_id=application_id)

    # -- plugins ----------------------------------------------------------------------------

    def plugin_settings(self, plugin: str) -> dict:
        """The settings a plugin declared, with values from the environment (see hookspecs).

        ``plugin`` is the name the plugin is registered under, or its module's ``__name__``
        (so a plugin can always write ``engine.plugin_settings(__name__)``).
        """
        name = self._registered_name(plugin)
        return resolve_settings(self.declared_settings.get(name, {}), name)

    def _registered_name(self, plugin: str) -> str:
        if plugin in self.declared_settings or self.plugin_manager.get_plugin(plugin) is not None:
            return plugin
        for candidate in self.plugin_manager.get_plugins():
            if getattr(candidate, "__name__", None) == plugin:
                return plugin_name(self.plugin_manager, candidate)
        return plugin

    def plugins(self, include_defaults: bool = True) -> list[dict]:
        return describe(self.plugin_manager, self.declared_settings, include_defaults)

    def plugin_objects(self, hook_name: str, *, check=lambda thing: thing is not None,
                       what: str = "an object") -> dict[str, object]:
        """The merged ``{name: thing}`` answers of a factory hook (notifiers, payment providers …)."""
        return collect_named(self.plugin_manager, hook_name, check=check, what=what, engine=self)

    def _after_deploy(self, session: Session, definition: Definition, compiled) -> None:
        self.schedules.register(session, definition, compiled.spec)
        self._catalogue_after_deploy(session, definition)

    # -- database -------------------------------------------------------------------------

    def database(self) -> Database:
        """This engine's database (one connection pool per engine, shared by its callers)."""
        with self._database_lock:
            if self._database is None:
                self._database = Database(self.settings.database_url)
            return self._database

    def upgrade_database(self) -> None:
        upgrade_database(self.settings.database_url)

    # -- definitions ----------------------------------------------------------------------

    def deploy(self, session: Session, path: Path | str, *, actor: str | None = None) -> DeployResult:
        return self.catalog.deploy_path(session, Path(path), actor=actor)

    def definitions(self, session: Session) -> list[Definition]:
        return self.catalog.all(session)

    # -- applications ---------------------------------------------------------------------

    def start(self, session: Session, key: str, *, data: dict | None = None, actor: str | None = None) -> StepResult:
        return self.applications.start(session, key, data=data, actor=actor)

    def complete(self, session: Session, task_id: str, *, actor: str, data: dict | None = None) -> StepResult:
        return self.applications.complete(session, task_id, actor=actor, data=data)

    def claim(self, session: Session, task_id: str, *, actor: str) -> HumanTask:
        return self.applications.claim(session, task_id, actor=actor)

    def unclaim(self, session: Session, task_id: str, *, actor: str) -> HumanTask:
        return self.applications.unclaim(session, task_id, actor=actor)

    def show(self, session: Session, application_id: int) -> ApplicationView:
        application = self.applications.get(session, application_id)
        workflow = self.applications.workflow_of(session, application)
        return application_view(session, application, workflow)

    def application(self, session: Session, application_id: int) -> Application:
        return self.applications.get(session, application_id)

    # -- task lists -----------------------------------------------------------------------

    def tasks(self, session: Session, *, user: str | None = None, group: str | None = None,
              application_id: int | None = None, limit: int = 50, offset: int = 0) -> list[tasklist.TaskRow]:
        return tasklist.open_tasks(session, user=user, group=group, application_id=application_id,
                                   limit=limit, offset=offset)

    # -- messages -------------------------------------------------------------------------

    def send_message(self, session: Session, name: str, *, key: str | None = None, data: dict | None = None,
                     sender: str | None = None) -> SendResult:
        return self.messages.send(session, name, key, data, sender)

    # -- jobs, timers and incidents ---------------------------------------------------------

    def enqueue_job(self, session: Session, kind: str, payload: dict | None = None, *,
                    application_id: int | None = None, due_at: datetime | None = None,
                    max_attempts: int | None = None) -> Job:
        """Queue a plugin-defined job (its kind must be handled by a plugin's job handler)."""
        options = {"max_attempts": max_attempts} if max_attempts else {}
        return self.applications.enqueue(session, kind, payload or {}, application_id=application_id,
                                         due_at=due_at, **options)

    def worker(self, database: Database, options: WorkerOptions | None = None, name: str | None = None) -> Worker:
        options = options or WorkerOptions(lease_seconds=self.settings.job_lease_seconds)
        return Worker(self, database, options, name)

    def incidents(self, session: Session, *, status: str | None = "open",
                  application_id: int | None = None) -> list[Incident]:
        return incidents.list_incidents(session, status=status, application_id=application_id)

    def retry_incident(self, session: Session, incident_id: int, *, actor: str | None = None) -> Incident:
        return incidents.retry(session, incident_id, actor=actor)

    def resolve_incident(self, session: Session, incident_id: int, *, actor: str | None = None,
                         data: dict | None = None) -> Incident:
        return incidents.resolve(session, incident_id, self.applications, actor=actor, data=data)

    # -- people ---------------------------------------------------------------------------

    def add_user(self, session: Session, name: str, *, groups: list[str] | None = None,
                 password: str | None = None, display_name: str | None = None, actor: str | None = None) -> User:
        return identity.add_user(session, name, groups=groups, password=password, display_name=display_name,
                                 actor=actor)

    def users(self, session: Session):
        return identity.users(session)

    def authenticate(self, session: Session, name: str, password: str):
        """The staff user (name, display name, groups) if the password is right, else None."""
        return identity.authenticate(session, name, password)

    def staff_user(self, session: Session, name: str):
        return identity.staff_user(session, name)

    # -- audit ----------------------------------------------------------------------------

    # -- approval routes (docs/approval.md) -------------------------------------------------

    def decide(self, session: Session, task_id: str, *, actor: str, decision: str, comment: str | None = None,
               to: int | str | None = None, data: dict | None = None, deadline=None) -> StepResult:
        """Act on an approval route's task: approve, return (to an earlier step), reject, …

        ``deadline`` (a date or ``YYYY-MM-DD``): the day by which whoever gets the case back
        should answer — required to return to the applicant, optional for an internal return."""
        submission = {**(data or {}), "decision": decision}
        if comment is not None:
            submission["comment"] = comment
        if to is not None:
            submission["to"] = to
        if deadline is not None:
            submission["deadline"] = deadline.isoformat() if hasattr(deadline, "isoformat") else deadline
        return self.applications.complete(session, task_id, actor=actor, data=submission)

    def recall(self, session: Session, application_id: int, *, actor: str) -> StepResult:
        """引戻し: take the case back before the next approver acts."""
        return self.applications.routes.recall(session, application_id, actor)

    def add_absence(self, session: Session, user: str, starts_at, ends_at, *, substitute: str | None = None,
                    reason: str | None = None, actor: str | None = None):
        return people.add_absence(session, user, starts_at, ends_at, substitute, reason, actor)

    def absences(self, session: Session, *, user: str | None = None, current_at=None):
        return people.absences(session, user=user, current_at=current_at)

    def remove_absence(self, session: Session, absence_id: int, *, actor: str | None = None) -> None:
        people.remove_absence(session, absence_id, actor)

    def decisions(self, session: Session, application_id: int):
        self.applications.get(session, application_id)
        return decisions_of(session, application_id)

    # -- issued documents (docs/documents.md) ---------------------------------------------------

    def issued_documents(self, session: Session, *, application_id: int | None = None):
        return self.issuance.documents(session, application_id=application_id)

    def issued_document(self, session: Session, public_id: str):
        return self.issuance.document(session, public_id)

    def revoke_document(self, session: Session, public_id: str, *, actor: str, reason: str):
        return self.issuance.revoke(session, public_id, actor=actor, reason=reason)

    def void_document(self, session: Session, public_id: str, *, actor: str, reason: str):
        return self.issuance.void(session, public_id, actor=actor, reason=reason)

    def download_document(self, session: Session, public_id: str, *, actor: str | None, channel: str,
                          client: str | None = None):
        """(document, open binary stream); the download is recorded (its time starts appeal periods)."""
        return self.issuance.download(session, public_id, actor=actor, channel=channel, client=client)

    def document_downloads(self, session: Session, public_id: str):
        return self.issuance.downloads(session, public_id)

    def verify_document(self, session: Session, pdf: bytes):
        """valid / altered / revoked / unknown, with the register's facts (engine.issuance.verification)."""
        from engine.issuance.verification import verify_pdf

        return verify_pdf(self, session, pdf)

    def procedure_report(self, session: Session, *, since: datetime, until: datetime):
        """Per procedure: applications per month, share on line, median days, overdue tasks."""
        from engine.reports import procedure_report

        return procedure_report(session, since, until, utcnow())

    def diagram(self, session: Session, application_id: int):
        """The application's BPMN and where it stands (engine.diagram.DiagramState)."""
        from engine.diagram import diagram_state

        application = self.applications.get(session, application_id)
        definition = session.get(Definition, application.definition_id)
        workflow = self.applications.workflow_of(session, application)
        return diagram_state(workflow, self.catalog.files(session, definition.id), definition.process_id)

    def verify_audit(self, session: Session) -> list[audit.AuditFinding]:
        """Findings of the audit chains and of the signed decision records."""
        return list(audit.verify_chains(session)) + verify_decisions(session)

    # -- the office: approvers' task lists and task pages (engine.office_queries) -------------

    def office_tasks(self, session: Session, *, user: str, tab: str = "mine", filters=None, sort: str = "received",
                     page: int = 1, per_page: int = 50):
        """One page of a tab (mine, groups, delegated, overdue) of ``user``'s open tasks, filtered
        (``office_queries.TaskFilters``) and sorted (received, due), with the count of every tab."""
        from engine import office_queries

        return office_queries.office_tasks(session, user=user, tab=tab, filters=filters, sort=sort, page=page,
                                           per_page=per_page)

    def procedures(self, session: Session) -> list[tuple[str, str | None]]:
        """(key, title) of every deployed procedure (its latest version's title)."""
        from engine import office_queries

        return office_queries.procedures(session)

    def task(self, session: Session, task_id: str) -> HumanTask:
        """A task, open or closed (NotFound if there is none)."""
        from engine import office_queries

        return office_queries.task(session, task_id)

    def may_see_task(self, session: Session, task_id: str, user: str) -> bool:
        """Whether ``user`` may look at the task: a candidate, the assignee, whoever completed it,
        the substitute of an absent holder, or a holder of a later step of its route."""
        from engine import office_queries

        return office_queries.may_see(session, office_queries.task(session, task_id), user)

    def task_form(self, session: Session, task_id: str) -> dict | None:
        """The JSON Schema of the task's form (its ``formKey``), or None."""
        from engine import office_queries

        return office_queries.task_form(session, self.catalog, office_queries.task(session, task_id))

    def task_form_errors(self, session: Session, task_id: str, data: dict) -> list:
        """How ``data`` fails the task's form, field by field (``office_queries.FieldError``); [] if it passes."""
        from engine import office_queries

        return office_queries.form_errors(self.task_form(session, task_id), data)

    def route_choices(self, session: Session, task_id: str):
        """For a route task: its decisions, those needing a reason, the steps a return may go to
        (``office_queries.RouteChoices``); None for a task of the diagram."""
        from engine import office_queries

        return office_queries.route_choices(session, office_queries.task(session, task_id))

    # -- the admin pages: versions and diffs, the applications cockpit (engine.admin_queries) ---

    def definition_versions(self, session: Session, key: str) -> list[Definition]:
        """Every version of procedure ``key``, oldest first (NotFound if none is deployed)."""
        from engine import admin_queries

        return admin_queries.definition_versions(session, key)

    def definition_version(self, session: Session, key: str, version: int):
        """(the version, its files as ``admin_queries.VersionFile``: path, kind, size)."""
        from engine import admin_queries

        definition = admin_queries.definition_version(session, key, version)
        return definition, admin_queries.version_files(session, definition.id)

    def definition_diff(self, session: Session, key: str, old: int, new: int):
        """Per file, the unified diff from version ``old`` to ``new`` (``admin_queries.FileDiff``)."""
        from engine import admin_queries

        return admin_queries.diff_versions(session, key, old, new)

    def search_applications(self, session: Session, *, reference: str | None = None, procedure: str | None = None,
                            status: str | None = None, started_by: str | None = None, page: int = 1,
                            per_page: int = 50):
        """One page (``admin_queries.ApplicationPage``) of applications, newest first: part of the
        reference, the procedure key, the status and who started it narrow the search."""
        from engine import admin_queries

        search = admin_queries.ApplicationSearch(reference=reference, procedure=procedure, status=status,
                                                 started_by=started_by)
        return admin_queries.search_applications(session, search, page=page, per_page=per_page)

    def application_statuses(self, session: Session) -> list[str]:
        from engine import admin_queries

        return admin_queries.application_statuses(session)

    def application_jobs(self, session: Session, application_id: int) -> list[Job]:
        """The background jobs of an application (pending, running, or failed into an incident)."""
        from engine import admin_queries

        self.applications.get(session, application_id)
        return admin_queries.application_jobs(session, application_id)

    # -- the form builder: a version's source files (engine.form_builder) ----------------------

    def definition_files(self, session: Session, key: str, version: int | None = None):
        """(the version of ``key`` — the latest when ``version`` is None —, its source files as
        ``SourceFile``: path, kind, content), NotFound if there is no such version."""
        from engine import admin_queries

        if version is None:
            definition = self.catalog.latest(session, key)
        else:
            definition = admin_queries.definition_version(session, key, version)
        return definition, self.catalog.files(session, definition.id)
