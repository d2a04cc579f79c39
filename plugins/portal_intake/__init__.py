"""National portal intake: applications made on マイナポータル / ぴったりサービス, taken in.

A poll (intake source ``portal_intake``, a background job every ``interval_seconds``) logs in,
lists the applications the portal still shows as unacknowledged (到達), and for each 受付番号:
fetches it, maps its form onto the mapped Madoguchi procedure (mapping.py), streams its
attachments into document storage with their SHA-256, starts the application — once, keyed
by the 受付番号 — and then reports 受付 back to the portal, which takes it off the list.

Why nothing is lost or doubled: the portal's list is the to-do list, and an application
leaves it only through our 受付 report, sent after the application exists. A crash before
the start leaves nothing behind (orphan files are removed or overwritten next time); a
crash between the start and the report is seen by the next poll (``context.imported``),
which only reports. One application failing does not stop the others in the same poll;
the poll then fails naming each 受付番号 and why, so the job is retried with backoff and,
if the failure persists, becomes an incident (docs/plugins/portal-intake.md discusses this).

The operation ``portal_intake.report_status`` lets a procedure report later statuses
(処理中, 完了 …) from a service task, idempotently.
"""

from __future__ import annotations

import contextlib
import io
import logging
import sys
import unicodedata
from collections.abc import Iterable, Iterator
from pathlib import Path

from sqlalchemy import select, update

from engine.errors import MadoguchiError
from engine.hookspecs import hookimpl
from engine.plugins import Setting, setting_variable
from engine.storage import DocumentStorage, StoredFile, engine_storage
from engine.store.models import IntakeImport
from plugins.portal_intake.client import (
    ARRIVED,
    RECEIVED,
    REPORTABLE,
    ApplicationDetail,
    Attachment,
    AttachmentInvalid,
    PortalClient,
    PortalConfig,
    PortalError,
    PortalUnavailable,
)
from plugins.portal_intake.mapping import Mapping, load_mapping

log = logging.getLogger("madoguchi.portal_intake")

SOURCE = "portal_intake"
#: Stored next to the attachments: the portal's answer as received, the record of what was applied for.
ORIGINAL_NAME = "portal-application.json"


class NotConfigured(MadoguchiError):
    """A setting the intake needs is missing; the message names its environment variable."""


class AttachmentTooLarge(MadoguchiError):
    """An attachment over max_attachment_bytes: refused until someone raises the limit."""


class ReportRefused(MadoguchiError):
    """portal_intake.report_status cannot be done as asked (unknown status, no 受付番号)."""


class IntakeFailed(PortalError):
    """Some applications of a poll could not be taken in; the others were.

    Retryable (the job tries again with backoff; each retry is a whole poll, so new
    applications keep coming in) unless every failure is one a retry cannot help — a code
    missing from the mapping, a form that does not fit, a refused request: then the job
    becomes an incident at once, for a person to act on.
    """

    def __init__(self, failures: list[tuple[str, Exception]], skipped: int):
        self.failures = failures
        self.retryable = bool(skipped) or any(getattr(error, "retryable", True) is not False
                                              for _, error in failures)
        lines = [f"受付番号 {number}: {type(error).__name__}: {error}" for number, error in failures]
        tail = f"; {skipped} more not tried in this poll (the portal stopped answering)" if skipped else ""
        super().__init__(f"{len(failures)} portal application(s) not taken in{tail} — " + "; ".join(lines))


# -- settings -----------------------------------------------------------------------------------

@hookimpl
def madoguchi_plugin_settings():
    return {
        "base_url": Setting(default="", description="Receiving API address (over the 特定通信 line); empty: intake off"),
        "login_id": Setting(default="", description="Login id the portal issued to this municipality"),
        "password": Setting(default="", secret=True, description="Password of the login id"),
        "mapping_file": Setting(default="", description="JSON mapping: national procedure code → procedure, "
                                                        "form item → field (relative to MADOGUCHI_HOME)"),
        "interval_seconds": Setting(default=300.0, description="Seconds between polls"),
        "timeout_seconds": Setting(default=30.0, description="Seconds to wait for each answer of the portal"),
        "max_per_poll": Setting(default=200, description="Most applications listed per poll"),
        "max_attachment_bytes": Setting(default=1024 ** 3, description="Largest attachment accepted (bytes)"),
        "ca_file": Setting(default="", description="CA certificates (PEM) for the portal's TLS, if not the system's"),
        "skip": Setting(default="", description="受付番号 to leave on the portal (handled by hand), comma-separated"),
    }


def _plugin_name(engine) -> str:
    # "plugins.portal_intake" when loaded as a module, or an entry point's name.
    return engine.plugin_manager.get_name(sys.modules[__name__]) or __name__


def _settings(engine) -> dict:
    return engine.plugin_settings(__name__)


def _variable(engine, name: str) -> str:
    return setting_variable(_plugin_name(engine), name)


def _client_config(engine, settings: dict) -> PortalConfig:
    for name in ("base_url", "login_id", "password"):
        if not settings.get(name):
            raise NotConfigured(f"portal intake: {_variable(engine, name)} is not set")
    return PortalConfig(base_url=settings["base_url"], login_id=settings["login_id"], password=settings["password"],
                        timeout_seconds=float(settings["timeout_seconds"]), ca_file=settings.get("ca_file") or "",
                        setting_prefix=_variable(engine, ""))


def _mapping(engine, settings: dict) -> Mapping:
    variable = _variable(engine, "mapping_file")
    if not settings.get("mapping_file"):
        raise NotConfigured(f"portal intake: {variable} is not set (the national procedure → procedure mapping)")
    path = Path(settings["mapping_file"])
    if not path.is_absolute():
        path = Path(engine.settings.home) / path
    return load_mapping(path, variable)


# -- hooks --------------------------------------------------------------------------------------

@hookimpl
def madoguchi_startup(engine):
    """Refuse to start with a broken configuration, rather than fail in every poll."""
    settings = _settings(engine)
    if settings.get("base_url"):
        _client_config(engine, settings)
        _mapping(engine, settings)
        engine_storage(engine)


@hookimpl
def madoguchi_intake_sources(engine):
    settings = _settings(engine)
    if not settings.get("base_url"):
        return None  # not configured: no polling (the plugin is harmless when merely installed)
    return {SOURCE: PortalIntakeSource(engine, float(settings["interval_seconds"]))}


@hookimpl
def madoguchi_operations(engine):
    return {"portal_intake.report_status": lambda params, context: report_status(engine, params, context)}


# -- the poll -------------------------------------------------------------------------------------

class PortalIntakeSource:
    def __init__(self, engine, interval_seconds: float):
        self.engine = engine
        self.interval_seconds = interval_seconds

    def poll(self, context) -> None:
        settings = context.settings
        config = _client_config(self.engine, settings)
        mapping = _mapping(self.engine, settings)  # read every poll: a fixed mapping applies at the next retry
        storage = engine_storage(self.engine)
        failures: list[tuple[str, Exception]] = []
        skip = {number.strip() for number in (settings.get("skip") or "").split(",") if number.strip()}
        with PortalClient(config) as client:
            entries = [e for e in _unique(client.list_new(limit=int(settings["max_per_poll"])))
                       if e.receipt_number not in skip]
            for index, entry in enumerate(entries):
                take_in = _TakeIn(self.engine, context, client, storage, mapping, settings)
                try:
                    take_in.run(entry.receipt_number, entry.status)
                except PortalUnavailable as exc:
                    # The portal stopped answering: the rest would only time out one by one.
                    failures.append((entry.receipt_number, exc))
                    raise IntakeFailed(failures, skipped=len(entries) - index - 1) from exc
                except Exception as exc:  # one application's trouble must not keep the others out
                    log.warning("portal intake: 受付番号 %s not taken in: %s: %s", entry.receipt_number,
                                type(exc).__name__, exc)
                    failures.append((entry.receipt_number, exc))
        if failures:
            raise IntakeFailed(failures, skipped=0)


def _unique(entries) -> list:
    """The list once per 受付番号 (a portal listing one twice must not make us try it twice)."""
    seen, unique = set(), []
    for entry in entries:
        if entry.receipt_number not in seen:
            seen.add(entry.receipt_number)
            unique.append(entry)
    return unique


class _TakeIn:
    """Taking in one application: fetch, map, store files, start, report 受付."""

    def __init__(self, engine, context, client: PortalClient, storage: DocumentStorage, mapping: Mapping,
                 settings: dict):
        self.engine, self.context, self.client = engine, context, client
        self.storage, self.mapping, self.settings = storage, mapping, settings

    def run(self, receipt_number: str, portal_status: str) -> None:
        imported = self.context.imported(receipt_number)
        if imported is None:
            reference = self._import(receipt_number)
            log.info("portal intake: 受付番号 %s imported as application %s", receipt_number, reference)
            reported = None
        else:
            reported = imported.status_reported  # imported earlier; the 受付 report did not get through
        if portal_status == ARRIVED or reported is None:
            self.client.report_status(receipt_number, RECEIVED, request_id=f"{SOURCE}:{receipt_number}:{RECEIVED}")
            self.context.record_status(receipt_number, RECEIVED)

    def _import(self, receipt_number: str) -> str:
        detail = self.client.application(receipt_number)
        rule = self.mapping.rule_for(detail.procedure_code, receipt_number, detail.procedure_name)
        fields = rule.apply(detail.form, receipt_number)  # before downloading: a form that does not fit costs nothing
        original, files = self._store_files(detail)
        data = {**fields, "portal": {
            "source": SOURCE, "receipt_number": receipt_number, "procedure_code": detail.procedure_code,
            "procedure_name": detail.procedure_name, "arrived_at": detail.arrived_at,
            "original": _describe(original, ORIGINAL_NAME), "attachments": files}}
        try:
            result = self.context.start(rule.procedure, data, external_id=receipt_number)
        except Exception:
            # Nothing refers to the files unless the start committed (it may have, if only
            # its answer was lost): then keep them; else remove them.
            with contextlib.suppress(Exception):
                if self.context.imported(receipt_number) is None:
                    self._delete([original.key, *(f["key"] for f in files)])
            raise
        return result.reference

    def _store_files(self, detail: ApplicationDetail) -> tuple[StoredFile, list[dict]]:
        """Store the original answer and every attachment under intake/<受付番号>/; all or none."""
        base = f"intake/{detail.receipt_number}"
        written: list[str] = []
        try:
            written.append(f"{base}/{ORIGINAL_NAME}")
            original = self.storage.put(written[-1], io.BytesIO(detail.raw), "application/json")
            taken, files = {ORIGINAL_NAME}, []
            for attachment in detail.attachments:
                name = safe_file_name(attachment.file_name, taken)
                written.append(f"{base}/{name}")  # before the put: a damaged file must be removed too
                stored = self._download(detail.receipt_number, attachment, written[-1])
                files.append(_describe(stored, attachment.file_name))
            return original, files
        except BaseException:
            self._delete(written)
            raise

    def _download(self, receipt_number: str, attachment: Attachment, key: str) -> StoredFile:
        limit = int(self.settings["max_attachment_bytes"])
        what = f"受付番号 {receipt_number}, attachment {attachment.attachment_id}"
        if limit and attachment.size is not None and attachment.size > limit:
            raise AttachmentTooLarge(f"{what} has {attachment.size} bytes, more than "
                                    f"{_variable(self.engine, 'max_attachment_bytes')}={limit}")
        with self.client.download(receipt_number, attachment) as chunks:
            stored = self.storage.put(key, _limited(chunks, limit, what, _variable(self.engine, "max_attachment_bytes")),
                                      attachment.content_type)
        if attachment.size is not None and stored.size != attachment.size:
            raise AttachmentInvalid(f"{what}: received {stored.size} bytes, the portal announced {attachment.size}")
        if attachment.sha256 is not None and stored.sha256 != attachment.sha256:
            raise AttachmentInvalid(f"{what}: the SHA-256 of the received bytes differs from the portal's")
        return stored

    def _delete(self, keys: Iterable[str]) -> None:
        for key in keys:
            with contextlib.suppress(Exception):
                self.storage.delete(key)


def _describe(stored: StoredFile, name: str) -> dict:
    return {"name": name, "key": stored.key, "size": stored.size, "sha256": stored.sha256,
            "content_type": stored.content_type}


def _limited(chunks: Iterator[bytes], limit: int, what: str, variable: str) -> Iterator[bytes]:
    total = 0
    for chunk in chunks:
        total += len(chunk)
        if limit and total > limit:
            raise AttachmentTooLarge(f"{what} is larger than {variable}={limit} bytes")
        yield chunk


_UNSAFE = set('<>:"/\\|?*')


def safe_file_name(name: str, taken: set[str]) -> str:
    """An applicant's file name, made safe as the last part of a storage key, unique in ``taken``."""
    name = unicodedata.normalize("NFC", name).replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if ch.isprintable() and ch not in _UNSAFE).strip().lstrip(".").strip()
    stem, dot, extension = name.rpartition(".")
    if not dot:
        stem, extension = name, ""
    stem, extension = stem[:120] or "attachment", extension[:20]
    candidate, n = f"{stem}.{extension}" if extension else stem, 1
    while candidate in taken:
        n += 1
        candidate = f"{stem}-{n}.{extension}" if extension else f"{stem}-{n}"
    taken.add(candidate)
    return candidate


# -- the operation --------------------------------------------------------------------------------

def report_status(engine, params: dict, context) -> dict:
    """Service-task operation: report ``params["status"]`` (処理中, 完了 …) for this application.

    ``receipt_number`` defaults to the 受付番号 the application was imported under. The task's
    idempotency key goes to the portal as the request id, so a retried task reports once.
    """
    status = params.get("status")
    if status not in REPORTABLE:
        raise ReportRefused(f"portal_intake.report_status: status {status!r} is not one of {', '.join(REPORTABLE)}")
    settings = _settings(engine)
    config = _client_config(engine, settings)
    database = engine.database()
    try:
        receipt_number = params.get("receipt_number") or _receipt_number(database, context.application_id)
        with PortalClient(config) as client:
            client.report_status(str(receipt_number), status, request_id=context.idempotency_key,
                                 comment=params.get("comment"))
        with database.transaction() as session:
            session.execute(update(IntakeImport).where(IntakeImport.source == SOURCE,
                                                       IntakeImport.external_id == str(receipt_number))
                            .values(status_reported=status))
    finally:
        database.dispose()
    return {"portal_status": status}


def _receipt_number(database, application_id: int | None) -> str:
    with database.transaction() as session:
        number = session.scalar(select(IntakeImport.external_id).where(IntakeImport.source == SOURCE,
                                                                        IntakeImport.application_id == application_id))
    if number is None:
        raise ReportRefused(f"portal_intake.report_status: application {application_id} was not taken in from the "
                          "national portal; pass the 受付番号 as the parameter receipt_number")
    return number
