"""Deploying procedures and finding their runnable specs.

A deployment is immutable: a new version gets the next number for its key; the same
content deployed again is a no-op. Specs are rebuilt from the stored source files the first
time a version is used in this process and then cached; versions never change, so the cache
is correct on every node without coordination.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from engine.audit import append_event
from engine.bpmn.bundle import Bundle, SourceFile, read_bundle
from engine.bpmn.calls import called_process_ids, defined_process_ids
from engine.bpmn.compiler import CompiledProcess, compile_sources
from engine.errors import Conflict, DeployRefused, NotFound
from engine.store import rows
from engine.store.models import Definition, DefinitionFile

DEPENDENCY_PREFIX = "dependencies/"


@dataclass(frozen=True)
class DeployResult:
    definition: Definition
    created: bool


class DefinitionCatalog:
    def __init__(self, *, max_upload_bytes: int, operations: set[str] | None = None, after_deploy=None):
        self.max_upload_bytes = max_upload_bytes
        self.operations = operations if operations is not None else set()
        #: Called as after_deploy(session, definition, compiled) for each new version.
        self.after_deploy = after_deploy
        self._compiled: dict[int, CompiledProcess] = {}
        self._sources: dict[int, list[SourceFile]] = {}
        self._keys: dict[int, str] = {}
        self._lock = threading.Lock()

    # -- deploy ---------------------------------------------------------------------------

    def deploy_path(self, session: Session, path: Path, *, actor: str | None = None) -> DeployResult:
        return self.deploy_bundle(session, read_bundle(path, self.max_upload_bytes), actor=actor)

    def deploy_bundle(self, session: Session, bundle: Bundle, *, actor: str | None = None) -> DeployResult:
        dependencies = self._dependencies(session, bundle)
        files = bundle.files + dependencies
        compiled, problems = compile_sources(
            files, main_process=bundle.main_process, operations=self.operations,
            max_bytes=self.max_upload_bytes, own_process_ids=defined_process_ids(bundle.of_kind("bpmn")),
        )
        if problems:
            raise DeployRefused(problems)
        key = bundle.key or compiled.process_id
        stored = Bundle(bundle.key, bundle.title, bundle.main_process, bundle.manifest, files)
        content_hash = stored.content_hash()
        existing = session.scalars(
            select(Definition).where(Definition.key == key, Definition.content_hash == content_hash)
        ).first()
        if existing is not None:
            return DeployResult(existing, created=False)
        version = (session.scalar(select(func.max(Definition.version)).where(Definition.key == key)) or 0) + 1
        title = bundle.title or getattr(compiled.spec, "description", None) or compiled.process_id
        definition = Definition(key=key, version=version, content_hash=content_hash, process_id=compiled.process_id,
                                title=title, manifest={**bundle.manifest, "processes": compiled.process_ids},
                                deployed_by=actor)
        session.add(definition)
        try:
            session.flush()
        except IntegrityError as exc:
            raise Conflict(f"another deployment of {key!r} happened at the same time; deploy again") from exc
        for source in files:
            session.add(DefinitionFile(definition_id=definition.id, path=source.path, kind=source.kind,
                                       content=source.content))
        append_event(session, action="definition_deployed", actor=actor,
                     details={"key": key, "version": version, "definition_id": definition.id,
                              "content_hash": content_hash})
        if self.after_deploy is not None:
            self.after_deploy(session, definition, compiled)
        with self._lock:
            self._compiled[definition.id] = compiled
        return DeployResult(definition, created=True)

    def _dependencies(self, session: Session, bundle: Bundle) -> list[SourceFile]:
        """Called processes that live in other, already deployed definitions, pinned by copy."""
        wanted = called_process_ids(bundle.of_kind("bpmn")) - defined_process_ids(bundle.of_kind("bpmn"))
        files: list[SourceFile] = []
        for process_id in sorted(wanted):
            definition = self.latest_defining(session, process_id)
            if definition is None:
                continue  # the compiler reports the unknown target with its line
            prefix = f"{DEPENDENCY_PREFIX}{definition.key}/v{definition.version}/"
            for stored in self._files(session, definition.id):
                if stored.kind in ("bpmn", "dmn"):
                    path = stored.path if stored.path.startswith(DEPENDENCY_PREFIX) else prefix + stored.path
                    files.append(SourceFile(path, stored.kind, stored.content))
        return list({f.path: f for f in files}.values())

    # -- look-ups -------------------------------------------------------------------------

    def latest(self, session: Session, key: str):
        """The newest version of ``key`` (a plain record with the definitions columns)."""
        definition = rows.latest_definition(session.connection(), key)
        if definition is None:
            raise NotFound(f"no procedure with key {key!r} is deployed")
        return definition

    def latest_defining(self, session: Session, process_id: str) -> Definition | None:
        """The newest definition version whose files define ``process_id`` (main or not)."""
        main = session.scalars(
            select(Definition).where(Definition.process_id == process_id)
            .order_by(Definition.id.desc()).limit(1)
        ).first()
        if main is not None:
            return main
        for definition in session.scalars(select(Definition).order_by(Definition.id.desc())):
            if process_id in (definition.manifest or {}).get("processes", []):
                return definition
        return None

    def all(self, session: Session) -> list[Definition]:
        return list(session.scalars(select(Definition).order_by(Definition.key, Definition.version)))

    def _files(self, session: Session, definition_id: int) -> list[DefinitionFile]:
        return list(session.scalars(select(DefinitionFile).where(DefinitionFile.definition_id == definition_id)
                                    .order_by(DefinitionFile.path)))

    def files(self, session: Session, definition_id: int) -> list[SourceFile]:
        """The source files of a version (immutable, so cached)."""
        cached = self._sources.get(definition_id)
        if cached is None:
            cached = [SourceFile(f.path, f.kind, f.content) for f in self._files(session, definition_id)]
            with self._lock:
                self._sources[definition_id] = cached
        return cached

    def key_of(self, session: Session, definition_id: int) -> str:
        """The procedure key of a version (immutable, so cached)."""
        key = self._keys.get(definition_id)
        if key is None:
            key = session.connection().execute(
                select(Definition.__table__.c.key).where(Definition.__table__.c.id == definition_id)).scalar_one()
            self._keys[definition_id] = key
        return key

    def compiled_by_id(self, session: Session, definition_id: int) -> CompiledProcess:
        cached = self._compiled.get(definition_id)
        if cached is not None:
            return cached
        definition = session.get(Definition, definition_id)
        if definition is None:
            raise NotFound(f"definition {definition_id} does not exist")
        return self.compiled(session, definition)

    def compiled(self, session: Session, definition: Definition) -> CompiledProcess:
        """The runnable spec of a version, built once per process."""
        cached = self._compiled.get(definition.id)
        if cached is not None:
            return cached
        compiled, problems = compile_sources(
            self.files(session, definition.id), main_process=definition.process_id,
            operations=self.operations, max_bytes=self.max_upload_bytes,
        )
        if problems:  # only if the engine got stricter since the deployment
            raise DeployRefused(problems)
        with self._lock:
            return self._compiled.setdefault(definition.id, compiled)
