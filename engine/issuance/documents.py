"""Issuing sealed documents from a diagram, and the register behind them.

A diagram issues a document with a service task whose operation is ``issue_document``
(parameter ``template``: a template of the bundle, ``documents/<template>.toml``). It runs
as a job like any service call, in three parts:

1. a short transaction takes the next 文書番号 and records it in the register (``reserved``);
2. outside any transaction the document is rendered, sealed (PAdES) and stored;
3. a short transaction marks it ``issued`` with the SHA-256 of the sealed bytes.

The job then completes the task with ``{"document": {...}}``. A retried job finds its own
row (one document per application and issuing task) and never takes a second number; a
job that finds the document already issued just reports it. The stored file is never
replaced: each attempt writes a new key and only the one recorded as issued counts.
"""

from __future__ import annotations

import hashlib
import io
import secrets
import threading
import uuid
from dataclasses import dataclass
from datetime import timedelta, timezone
from uuid import UUID

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from engine.errors import BadInput, Conflict, NotFound
from engine.issuance.numbering import format_number, take_serial
from engine.storage import engine_storage
from engine.store.models import Application, Definition, DocumentDownload, IssuedDocument, utcnow

#: The service-task operation that issues a sealed document.
ISSUE_OPERATION = "issue_document"

#: Fiscal years and printed dates follow the calendar in Japan.
_JST = timezone(timedelta(hours=9), "JST")

DOCUMENTS = IssuedDocument.__table__
DOWNLOADS = DocumentDownload.__table__


@dataclass(frozen=True)
class Reservation:
    document_id: int
    public_id: str
    number: str
    status: str
    template_path: str
    template_content: bytes
    data: dict
    procedure: str


@dataclass(frozen=True)
class Trust:
    roots: tuple
    crls: tuple


def document_summary(document: IssuedDocument, verify_base: str | None = None) -> dict:
    summary = {
        "id": document.public_id, "number": document.number, "title": document.title,
        "status": document.status, "procedure": document.procedure, "application_id": document.application_id,
        "fiscal_year": document.fiscal_year, "serial": document.serial, "template": document.template,
        "issued_at": document.issued_at.isoformat() if document.issued_at else None,
        "sha256": document.sha256, "content_sha256": document.content_sha256, "size": document.size,
        "signer": document.signer,
        "revoked_at": document.revoked_at.isoformat() if document.revoked_at else None,
        "revocation_reason": document.revocation_reason,
    }
    if verify_base:
        summary["verify_url"] = verify_url(verify_base, document.public_id)
    return summary


def verify_url(base: str, public_id: str) -> str:
    return f"{base.rstrip('/')}/verify/{public_id}"


class IssuanceService:
    """The ``issue_document`` operation and the register's reads and writes."""

    def __init__(self, engine):
        self.engine = engine
        self._templates: dict[str, object] = {}
        self._trust = None
        self._lock = threading.Lock()

    # -- the operation (called by a worker, outside any transaction) ------------------------------

    def operation(self, params: dict, context) -> dict:
        database = self.engine.database()
        with database.transaction() as session:
            reservation = self._reserve(session, context.application_id, context.task_id, params)
            if reservation.status == "issued":
                return self._result(session, reservation.public_id)
        pdf, digest, title, issued_at = self._produce(reservation)
        storage = engine_storage(self.engine)
        key = f"documents/{reservation.procedure}/{reservation.public_id}-{secrets.token_hex(4)}.pdf"
        stored = storage.put(key, io.BytesIO(pdf), "application/pdf")
        with database.transaction() as session:
            won = session.execute(update(DOCUMENTS).where(
                DOCUMENTS.c.id == reservation.document_id, DOCUMENTS.c.status == "reserved").values(
                status="issued", issued_at=issued_at, sha256=stored.sha256, content_sha256=digest,
                size=stored.size, storage_key=key, title=title, signer=self.sealer().signer_name)).rowcount
            result = self._result(session, reservation.public_id)
        if not won:  # another worker issued it meanwhile (our lease had expired): theirs counts
            storage.delete(key)
        return result

    def _result(self, session: Session, public_id: str) -> dict:
        document = self.document(session, public_id)
        return {"document": document_summary(document, self.engine.settings.public_url)}

    def _reserve(self, session: Session, application_id: int, task_id: str, params: dict) -> Reservation:
        existing = session.scalars(select(IssuedDocument).where(
            IssuedDocument.application_id == application_id, IssuedDocument.task_id == task_id)).first()
        application = session.get(Application, application_id)
        definition = session.get(Definition, application.definition_id)
        name = params.get("template")
        if not isinstance(name, str) or not name.strip():
            raise BadInput("issue_document needs the parameter template: the name of a template in the "
                           "bundle's documents/ folder (e.g. \"certificate\")")
        template_file = self._template_file(session, definition, name.strip())
        data = self._data(session, application, task_id, params)
        procedure = definition.key
        if existing is not None:
            return Reservation(existing.id, existing.public_id, existing.number, existing.status,
                               template_file.path, template_file.content, data, procedure)
        from engine.issuance.wareki import fiscal_year

        year = fiscal_year(utcnow().astimezone(_JST).date())
        serial = take_serial(session, procedure, year)
        numbering = (definition.manifest or {}).get("numbering") or {}
        number = format_number(numbering.get("format"), procedure=procedure, fiscal_year=year, serial=serial)
        public_id = str(uuid.uuid4())
        document_id = session.execute(insert(DOCUMENTS).values(
            public_id=public_id, application_id=application_id, task_id=task_id, procedure=procedure,
            fiscal_year=year, serial=serial, number=number, template=template_file.path, title=name,
            status="reserved", reserved_at=utcnow()).returning(DOCUMENTS.c.id)).scalar_one()
        return Reservation(document_id, public_id, number, "reserved", template_file.path,
                           template_file.content, data, procedure)

    def _template_file(self, session: Session, definition: Definition, name: str):
        wanted = {f"documents/{name}.toml", f"documents/{name}", name}
        for source in self.engine.catalog.files(session, definition.id):
            if source.kind == "document" and source.path in wanted:
                return source
        raise BadInput(f"procedure {definition.key} version {definition.version} has no document template "
                       f"documents/{name}.toml — add it to the bundle and deploy again")

    def _data(self, session: Session, application: Application, task_id: str, params: dict) -> dict:
        data = params.get("task_data")
        if not isinstance(data, dict):  # a job queued without the data: read it from the workflow
            workflow = self.engine.applications.workflow_of(session, application)
            task = workflow.get_task_from_id(UUID(task_id))
            if task is None:
                raise Conflict(f"the issuing task {task_id} of application {application.id} no longer exists")
            data = {k: v for k, v in task.data.items() if not str(k).startswith("_")}
        data = dict(data)
        extra = params.get("data")
        if isinstance(extra, dict):
            data.update(extra)
        data.setdefault("reference", application.reference)
        return data

    def _produce(self, reservation: Reservation) -> tuple[bytes, str, str, object]:
        """Render and seal; (sealed PDF, content digest, title, issued at)."""
        from engine.issuance.render import IssueFacts, prepare, render_document

        template = self._template(reservation.template_path, reservation.template_content)
        issued_at = utcnow()
        prepared = prepare(template, reservation.data, number=reservation.number, issued_at=issued_at,
                           document_id=reservation.public_id)
        facts = IssueFacts(number=reservation.number, issued_at=issued_at, document_id=reservation.public_id,
                           # The QR code carries the id and the statement's hash, so a paper copy
                           # can be checked against the register without typing anything.
                           verify_url=verify_url(self.engine.settings.public_url, reservation.public_id)
                           + f"?h={prepared.digest}",
                           content_sha256=prepared.digest)
        pdf = render_document(prepared, facts)
        sealed = self.sealer().seal(pdf, reason=f"{template.title} {reservation.number}",
                                    document_id=reservation.public_id)
        return sealed, prepared.digest, template.title, issued_at

    def _template(self, path: str, content: bytes):
        from engine.issuance.template import parse_template

        key = hashlib.sha256(content).hexdigest()
        template = self._templates.get(key)
        if template is None:
            template = parse_template(content, path)
            with self._lock:
                self._templates[key] = template
        return template

    def sealer(self):
        """The organisation's seal. ``Sealer.from_settings`` keeps it per process and reloads it
        when the seal file changes, so the key is not re-read per document yet a renewed seal is used."""
        from engine.issuance.seal import Sealer
        from engine.issuance.seal_settings import SealSettings

        return Sealer.from_settings(SealSettings.from_env(self.engine.settings.home))

    def trust(self) -> Trust:
        """The roots (and CRLs) a verifier trusts, read once per process and again when a file changes."""
        from engine.issuance.seal_settings import SealSettings, load_crls, load_trust_roots

        settings = SealSettings.from_env(self.engine.settings.home)
        files = [*settings.trust_paths(), *settings.crl_files]
        stamp = tuple((str(p), p.stat().st_mtime_ns if p.exists() else None) for p in files)
        cached = self._trust
        if cached is None or cached[0] != stamp:
            cached = (stamp, Trust(tuple(load_trust_roots(settings)), tuple(load_crls(settings))))
            self._trust = cached
        return cached[1]

    # -- the register ---------------------------------------------------------------------------

    def document(self, session: Session, public_id: str) -> IssuedDocument:
        document = session.scalars(select(IssuedDocument).where(IssuedDocument.public_id == str(public_id))).first()
        if document is None:
            raise NotFound(f"there is no issued document {public_id}")
        return document

    def documents(self, session: Session, *, application_id: int | None = None) -> list[IssuedDocument]:
        query = select(IssuedDocument).order_by(IssuedDocument.id)
        if application_id is not None:
            query = query.where(IssuedDocument.application_id == application_id)
        return list(session.scalars(query))

    def revoke(self, session: Session, public_id: str, *, actor: str, reason: str) -> IssuedDocument:
        if not (reason or "").strip():
            raise BadInput("a revocation needs a reason (it is shown to anyone who verifies the document)")
        document = self.document(session, public_id)
        if document.status != "issued":
            raise Conflict(f"document {public_id} is {document.status}; only an issued document can be revoked")
        now = utcnow()
        session.execute(update(DOCUMENTS).where(DOCUMENTS.c.id == document.id).values(
            status="revoked", revoked_at=now, revoked_by=actor, revocation_reason=reason))
        self.engine.applications.record_event(session, document.application_id, "document_revoked", actor,
                                              {"document": public_id, "number": document.number,
                                               "reason": reason})
        session.refresh(document)
        return document

    def void(self, session: Session, public_id: str, *, actor: str, reason: str) -> IssuedDocument:
        """Mark a reserved number whose issuance was abandoned as 欠番, with the reason."""
        document = self.document(session, public_id)
        if document.status != "reserved":
            raise Conflict(f"document {public_id} is {document.status}; only a reserved number can be voided")
        session.execute(update(DOCUMENTS).where(DOCUMENTS.c.id == document.id).values(
            status="void", revoked_at=utcnow(), revoked_by=actor, revocation_reason=reason))
        session.refresh(document)
        return document

    def download(self, session: Session, public_id: str, *, actor: str | None, channel: str,
                 client: str | None = None):
        """(document, binary stream) — and the download is recorded with its time."""
        document = self.document(session, public_id)
        if document.status not in ("issued", "revoked"):
            raise Conflict(f"document {public_id} is {document.status}, not issued")
        stream = engine_storage(self.engine).open(document.storage_key)
        at = utcnow()
        session.execute(insert(DOWNLOADS).values(document_id=document.id, actor=actor, channel=channel,
                                                 client=(client or None) and client[:300], at=at))
        self.engine.applications.record_event(session, document.application_id, "document_downloaded", actor,
                                              {"document": public_id, "number": document.number,
                                               "channel": channel})
        return document, stream

    def downloads(self, session: Session, public_id: str) -> list[DocumentDownload]:
        document = self.document(session, public_id)
        return list(session.scalars(select(DocumentDownload).where(DocumentDownload.document_id == document.id)
                                    .order_by(DocumentDownload.at)))


__all__ = ["ISSUE_OPERATION", "IssuanceService", "document_summary", "verify_url"]
