"""The engine's public face: what the command line, the web layer and plugins call.

Every method receives an SQLAlchemy session and works inside the caller's transaction; the
caller commits (``with database.transaction() as session: ...``). Nothing here opens or
commits a transaction behind the caller's back.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine
from sqlalchemy.orm import Session

from engine import audit, identity, tasklist
from engine.applications import ApplicationService, StepResult
from engine.config import Settings
from engine.definitions import DefinitionCatalog, DeployResult
from engine.scripting import SandboxEnvironment, ScriptLimits
from engine.store.database import Database, upgrade_database
from engine.store.models import Application, Definition, HumanTask, User, utcnow
from engine.views import ApplicationView, application_view


class Engine:
    """One per process. Holds caches (parsed specs) that are safe to share between threads."""

    def __init__(self, settings: Settings | None = None, *, operations: set[str] | None = None):
        self.settings = settings or Settings.from_env()
        limits = ScriptLimits(max_iterations=self.settings.script_max_iterations,
                              max_seconds=self.settings.script_max_seconds)
        self.script_engine = PythonScriptEngine(environment=SandboxEnvironment(limits=limits))
        self.catalog = DefinitionCatalog(max_upload_bytes=self.settings.max_upload_bytes, operations=operations)
        self.applications = ApplicationService(self.catalog, self.script_engine)

    # -- database -------------------------------------------------------------------------

    def database(self) -> Database:
        return Database(self.settings.database_url)

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

    # -- timers ---------------------------------------------------------------------------

    def due_timer_applications(self, session: Session, now: datetime | None = None, limit: int = 100) -> list[int]:
        return self.applications.due_timer_applications(session, now or utcnow(), limit)

    def next_timer_at(self, session: Session, before: datetime | None = None) -> datetime | None:
        return self.applications.next_timer_at(session, before)

    def fire_timers(self, session: Session, application_id: int) -> StepResult | None:
        return self.applications.fire_timers(session, application_id)

    # -- people ---------------------------------------------------------------------------

    def add_user(self, session: Session, name: str, *, groups: list[str] | None = None,
                 password: str | None = None, display_name: str | None = None, actor: str | None = None) -> User:
        return identity.add_user(session, name, groups=groups, password=password, display_name=display_name,
                                 actor=actor)

    def users(self, session: Session):
        return identity.users(session)

    # -- audit ----------------------------------------------------------------------------

    def verify_audit(self, session: Session) -> list[audit.AuditFinding]:
        return list(audit.verify_chains(session))
