"""Attachment uploads: received in pieces, checked, then kept in the document storage.

An upload belongs to its owner (``applicant:<id>`` or ``token:<id>``) and to a procedure,
whose ``[attachments]`` policy fixes the largest size and the accepted types. Its bytes are
appended to a staging file (``<MADOGUCHI_HOME>/uploads/``) a chunk at a time; the offset
that is safely on disk is kept in ``attachment_uploads``, so a broken connection costs only
the chunk in flight. When the last byte arrives the file is checked by content
(:mod:`engine.attachments.types`), streamed into the document storage (which hashes it) and
becomes a **reference** that application data holds::

    {"name": "住民票.pdf", "sha256": "…", "key": "attachments/ab/ab12….pdf",
     "size": 123456, "content_type": "application/pdf"}

— the shape intake, the approval records and the office pages already read. Anything refused
(a type off the list, content that is not what the name says, too large) is removed at once:
the staging file, the row, and nothing in the storage.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import secrets
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.attachments.policy import AttachmentPolicy, human_size
from engine.attachments.types import TYPES, extension_of
from engine.errors import BadInput, Conflict, NotFound
from engine.store.models import utcnow
from engine.store.models_attachments import AttachmentUpload

#: An unfinished upload untouched this long is given up (its bytes removed).
EXPIRY = timedelta(hours=24)
MAX_NAME_LENGTH = 255
#: Expired uploads removed per new upload (keeps the clean-up's cost bounded per request).
_EXPIRE_BATCH = 20


class AttachmentRefused(BadInput):
    """A file not accepted. ``reason`` is ``type`` (extension not allowed), ``content`` (the
    bytes are not what the extension says), ``size`` (over ``limit`` bytes) or ``name``."""

    def __init__(self, reason: str, file_name: str, message: str, *, limit: int | None = None,
                 allowed: tuple[str, ...] = ()):
        self.reason, self.file_name, self.limit, self.allowed = reason, file_name, limit, allowed
        super().__init__(message)


class OffsetMismatch(Conflict):
    """A piece sent for another offset than where the upload stands (``offset``)."""

    def __init__(self, upload_id: str, sent: int, offset: int):
        self.offset = offset
        super().__init__(f"upload {upload_id} stands at byte {offset}, not {sent}: ask for its offset and resume there")


@dataclass(frozen=True)
class UploadState:
    id: str
    file_name: str
    length: int
    offset: int
    max_bytes: int
    expires_at: datetime
    #: The attachment reference once the file has arrived and passed the checks.
    reference: dict | None

    @property
    def complete(self) -> bool:
        return self.reference is not None


def state_of(row: AttachmentUpload) -> UploadState:
    reference = None
    if row.status == "complete":
        reference = {"name": row.file_name, "sha256": row.sha256, "key": row.storage_key, "size": row.length,
                     "content_type": row.content_type}
    return UploadState(row.id, row.file_name, row.length, row.offset, row.max_bytes, row.expires_at, reference)


def clean_name(name: str) -> str:
    """The file's own name: without the folders some browsers send, checked for length and
    control characters."""
    base = str(name or "").replace("\\", "/").rsplit("/", 1)[-1].strip()
    if not base or base in (".", ".."):
        raise AttachmentRefused("name", str(name or ""), "the file has no name: choose a file to upload")
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in base):
        raise AttachmentRefused("name", base, f"the file name {base!r} contains control characters: rename the file")
    if len(base) > MAX_NAME_LENGTH:
        raise AttachmentRefused("name", base[:40] + "…", f"the file name is longer than {MAX_NAME_LENGTH} characters: "
                                "rename the file")
    return base


def check_name_and_size(policy: AttachmentPolicy, name: str, size: int | None) -> str:
    """The accepted extension of ``name``; AttachmentRefused naming the file and the rule otherwise."""
    extension = extension_of(name)
    if extension not in policy.types:
        raise AttachmentRefused("type", name, f"{name}: files of this type are not accepted; allowed types: "
                                + ", ".join(policy.types), allowed=policy.types)
    if size is not None and size > policy.max_bytes:
        raise too_large(name, policy.max_bytes)
    return extension


def too_large(name: str, limit: int) -> AttachmentRefused:
    return AttachmentRefused("size", name, f"{name} is larger than the limit of {human_size(limit)} for this "
                             "procedure", limit=limit)


class Staging:
    """The directory of files on their way in; one file per upload, named by its id."""

    def __init__(self, root: Path):
        self.root = root

    def path(self, upload_id: str) -> Path:
        return self.root / upload_id[:2] / f"{upload_id}.part"

    def create(self, upload_id: str) -> Path:
        path = self.path(upload_id)
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
        os.close(fd)
        return path

    def remove(self, upload_id: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.path(upload_id).unlink()

    @contextlib.contextmanager
    def locked(self, upload_id: str) -> Iterator:
        """The staging file open for writing, held by this request alone (Conflict while another
        request is appending to it — a client that retried before its first try ended)."""
        try:
            file = self.path(upload_id).open("r+b")
        except FileNotFoundError:
            raise NotFound(f"upload {upload_id} has no bytes on this server any more: start the upload again") from None
        with file:
            try:
                fcntl.flock(file.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise Conflict(f"upload {upload_id} is receiving another piece right now: wait, "
                               "then ask for its offset") from None
            yield file


def new_upload_id() -> str:
    return secrets.token_hex(16)


def storage_key(upload_id: str, extension: str) -> str:
    return f"attachments/{upload_id[:2]}/{upload_id}.{extension}"


def owned(session: Session, upload_id: str, owner: str) -> AttachmentUpload:
    """The upload if ``owner`` owns it; NotFound otherwise — the same answer whether it exists
    or not, so nobody learns about other people's uploads by guessing ids."""
    row = session.get(AttachmentUpload, str(upload_id)) if len(str(upload_id)) == 32 else None
    if row is None or row.owner != owner:
        raise NotFound(f"there is no upload {upload_id} of yours")
    return row


def write_pieces(file, offset: int, pieces: Iterable[bytes], room: int) -> tuple[int, bool]:
    """Append ``pieces`` at ``offset`` (dropping anything past it from an earlier broken try);
    (bytes written, whether more than ``room`` bytes came). Durable when it returns."""
    file.truncate(offset)
    file.seek(offset)
    written = 0
    for piece in pieces:
        if written + len(piece) > room:
            file.truncate(offset)
            return written, True
        file.write(piece)
        written += len(piece)
    file.flush()
    os.fsync(file.fileno())
    return written, False


def content_refused(name: str, extension: str) -> AttachmentRefused:
    label = TYPES[extension].label
    return AttachmentRefused("content", name, f"{name}: the content is not a {label} file as its name says; "
                             "upload the file itself, saved in its own format")


def expire(session: Session, staging: Staging, now: datetime | None = None) -> int:
    """Remove a batch of unfinished uploads past their expiry; how many went."""
    now = now or utcnow()
    expired = list(session.scalars(select(AttachmentUpload)
                                   .where(AttachmentUpload.status == "receiving", AttachmentUpload.expires_at < now)
                                   .limit(_EXPIRE_BATCH)))
    for row in expired:
        staging.remove(row.id)
        session.delete(row)
    return len(expired)


__all__ = ["AttachmentRefused", "EXPIRY", "OffsetMismatch", "Staging", "UploadState", "check_name_and_size",
           "clean_name", "content_refused", "expire", "new_upload_id", "owned", "state_of",
           "storage_key", "too_large", "write_pieces"]
