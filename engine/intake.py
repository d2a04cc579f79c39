"""Intake sources: applications that arrive from elsewhere (the national portal …).

Each source a plugin provides (``madoguchi_intake_sources``) is polled by a background job of
kind ``intake`` — one job per source, which reschedules itself ``interval_seconds`` later.
A poll starts applications through :class:`IntakeContext`; each import is recorded under the
source's own id for it (the 受付番号), in the same transaction as the new application, so
polling again or crashing half-way never imports an application twice and never loses one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select, update

from engine.plugins import call_each
from engine.store.models import IntakeImport, Job, utcnow

#: Poll interval for a source that does not say.
DEFAULT_INTERVAL_S = 60.0


@dataclass
class ImportResult:
    application_id: int
    reference: str
    created: bool
    #: The last status the source was told about (``record_status``), None if none yet.
    status_reported: str | None = None


class IntakeContext:
    """What an intake source's ``poll`` gets: settings, and a way to start applications."""

    def __init__(self, engine, source: str, idempotency_key: str):
        self.engine = engine
        self.source = source
        self.idempotency_key = idempotency_key
        self.settings = engine.plugin_settings(_provider(engine, source))
        self._database = None

    def database(self):
        # One connection pool per poll: engine.database() builds a new pool on every call,
        # and a poll importing a hundred applications must not open hundreds of them.
        if self._database is None:
            self._database = self.engine.database()
        return self._database

    def close(self) -> None:
        if self._database is not None:
            self._database.dispose()
            self._database = None

    def imported(self, external_id: str) -> ImportResult | None:
        """The application already imported for ``external_id``, if any."""
        with self.database().transaction() as session:
            row = session.scalars(select(IntakeImport).where(IntakeImport.source == self.source,
                                                             IntakeImport.external_id == external_id)).first()
            if row is None:
                return None
            application = self.engine.application(session, row.application_id)
            return ImportResult(row.application_id, application.reference, created=False,
                                status_reported=row.status_reported)

    def record_status(self, external_id: str, status: str) -> None:
        """Remember that the source was told ``status`` for ``external_id`` (e.g. 受付)."""
        with self.database().transaction() as session:
            session.execute(update(IntakeImport).where(IntakeImport.source == self.source,
                                                       IntakeImport.external_id == external_id)
                            .values(status_reported=status))

    def start(self, procedure: str, data: dict, *, external_id: str, actor: str | None = None,
              after=None) -> ImportResult:
        """Start an application of ``procedure`` for ``external_id`` — once.

        ``after(session, application_id)`` (optional) runs in the same transaction, e.g. to
        record attachments: it commits with the application or not at all.
        """
        with self.database().transaction() as session:
            existing = session.scalars(select(IntakeImport).where(
                IntakeImport.source == self.source, IntakeImport.external_id == external_id)
                .with_for_update()).first()
            if existing is not None:
                application = self.engine.application(session, existing.application_id)
                return ImportResult(existing.application_id, application.reference, created=False)
            result = self.engine.start(session, procedure, data=data, actor=actor or f"intake:{self.source}")
            session.add(IntakeImport(source=self.source, external_id=external_id,
                                     application_id=result.application.id, created_at=utcnow()))
            if after is not None:
                after(session, result.application.id)
            session.flush()  # a concurrent import of the same id fails here, on the unique key
            return ImportResult(result.application.id, result.application.reference, created=True)


def _provider(engine, source: str) -> str:
    """The plugin that provides ``source``: its settings are the source's settings (a source's
    name need not be its plugin's, e.g. source "portal_intake" of plugin "plugins.portal_intake")."""
    for owner, sources in call_each(engine.plugin_manager, "madoguchi_intake_sources", engine=engine):
        if isinstance(sources, dict) and source in sources:
            return owner
    return source


class Intake:
    def __init__(self, engine):
        self.engine = engine

    def sources(self) -> dict[str, object]:
        return self.engine.plugin_objects("madoguchi_intake_sources",
                                          check=lambda source: callable(getattr(source, "poll", None)),
                                          what="an object with poll(context)")

    def ensure_scheduled(self, session) -> None:
        """Give every source its polling job, if it has none yet (run when a worker starts)."""
        for name in self.sources():
            key = f"intake:{name}"
            if session.scalars(select(Job.id).where(Job.singleton_key == key)).first() is None:
                self.engine.applications.enqueue(session, "intake", {"source": name}, singleton_key=key,
                                                 idempotency_key=key)

    def poll(self, job) -> None:
        """Run one poll of a source; the caller (the job runner) reschedules it."""
        name = job.payload["source"]
        source = self.sources().get(name)
        if source is None:
            return  # the plugin was removed: the job ends
        context = IntakeContext(self.engine, name, job.idempotency_key)
        try:
            source.poll(context)
        finally:
            context.close()

    def reschedule(self, session, job) -> None:
        name = job.payload["source"]
        source = self.sources().get(name)
        if source is None:
            return
        interval = float(getattr(source, "interval_seconds", DEFAULT_INTERVAL_S))
        self.engine.applications.enqueue(session, "intake", {"source": name}, singleton_key=f"intake:{name}",
                                         idempotency_key=f"intake:{name}",
                                         due_at=utcnow() + timedelta(seconds=interval))
