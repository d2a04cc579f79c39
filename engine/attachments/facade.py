"""Attachment uploads on the façade (see :mod:`engine.attachments.uploads`).

Mixed into :class:`engine.facade.Engine`. Methods taking a session follow the façade's rules
(the caller's transaction). :meth:`append_upload` and :meth:`receive_attachment` open their
own short transactions instead, as the worker does: they move up to gigabytes between two
database touches, and no transaction (nor lock) should stay open while a client sends them.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from sqlalchemy.orm import Session

from engine.attachments.policy import AttachmentPolicy, policy_from
from engine.attachments.types import TYPES, extension_of, matches
from engine.attachments.uploads import (
    EXPIRY,
    AttachmentRefused,
    OffsetMismatch,
    Staging,
    UploadState,
    check_name_and_size,
    clean_name,
    content_refused,
    expire,
    new_upload_id,
    owned,
    state_of,
    storage_key,
    too_large,
    write_pieces,
)
from engine.errors import BadInput, Conflict, NotFound
from engine.store.models import utcnow
from engine.store.models_attachments import AttachmentUpload


class AttachmentsFacade:
    """Resumable attachment uploads owned by an applicant or an API token."""

    @property
    def upload_staging(self) -> Staging:
        return Staging(Path(self.settings.home) / "uploads")

    def attachment_policy(self, session: Session, procedure_key: str | None) -> AttachmentPolicy:
        """What ``procedure_key`` accepts (its latest version's manifest); the defaults without a key."""
        manifest = self.catalog.latest(session, procedure_key).manifest if procedure_key else None
        return policy_from(manifest, self.settings.attachment_max_bytes)

    def create_upload(self, session: Session, *, owner: str, file_name: str, length: int,
                      procedure_key: str | None = None) -> UploadState:
        """A new upload of ``length`` bytes; AttachmentRefused when the name's type or the size is
        not accepted by the procedure (nothing is created then)."""
        policy = self.attachment_policy(session, procedure_key)
        name = clean_name(file_name)
        if not isinstance(length, int) or isinstance(length, bool) or length <= 0:
            raise AttachmentRefused("size", name, f"{name}: the size must be a positive number of bytes (an empty "
                                    "file is not an attachment)")
        check_name_and_size(policy, name, length)
        staging = self.upload_staging
        expire(session, staging)
        now = utcnow()
        row = AttachmentUpload(id=new_upload_id(), owner=owner, procedure_key=procedure_key, file_name=name,
                               length=length, offset=0, max_bytes=policy.max_bytes, status="receiving",
                               created_at=now, updated_at=now, expires_at=now + EXPIRY)
        session.add(row)
        session.flush()
        staging.create(row.id)
        return state_of(row)

    def upload_state(self, session: Session, upload_id: str, owner: str) -> UploadState:
        return state_of(owned(session, upload_id, owner))

    def append_upload(self, upload_id: str, owner: str, offset: int, pieces: Iterable[bytes]) -> UploadState:
        """Append ``pieces`` at ``offset``; when the last byte is in, check the file and store it.

        Pieces that stop early (a broken connection) still count: the offset moves past what
        arrived. OffsetMismatch when ``offset`` is not where the upload stands; AttachmentRefused
        (the upload then removed) when more bytes come than announced or the content is not
        what the name says."""
        database = self.database()
        with database.transaction() as session:
            state = state_of(owned(session, upload_id, owner))
        if state.complete:
            raise Conflict(f"upload {upload_id} is complete already: use its attachment")
        if offset != state.offset:
            raise OffsetMismatch(upload_id, offset, state.offset)
        staging = self.upload_staging
        with staging.locked(upload_id) as file:
            with database.transaction() as session:  # read again under the lock: another request may have appended
                row = owned(session, upload_id, owner)
                if row.offset != offset:
                    raise OffsetMismatch(upload_id, offset, row.offset)
            written, overflow = write_pieces(file, offset, pieces, state.length - offset)
            if overflow:
                self._discard(upload_id)
                raise AttachmentRefused("size", state.file_name, f"{state.file_name}: more bytes came than the "
                                        f"{state.length} announced; the upload was removed", limit=state.length)
            with database.transaction() as session:
                row = owned(session, upload_id, owner)
                row.offset = offset + written
                row.updated_at = utcnow()
                row.expires_at = row.updated_at + EXPIRY
                state = state_of(row)
        if state.offset == state.length:
            return self._finish(upload_id, owner)
        return state

    def receive_attachment(self, *, owner: str, file_name: str, stream, procedure_key: str | None = None) -> UploadState:
        """A whole file at once (a plain form upload): read from ``stream`` in chunks, refused
        the moment it passes the procedure's limit; checked and stored like a resumable one."""
        database = self.database()
        with database.transaction() as session:
            policy = self.attachment_policy(session, procedure_key)
            name = clean_name(file_name)
            check_name_and_size(policy, name, None)
            # Announce the limit as the length; the real length is set once the stream ends.
            upload = self.create_upload(session, owner=owner, file_name=name, length=policy.max_bytes,
                                        procedure_key=procedure_key)
        staging = self.upload_staging
        try:
            with staging.locked(upload.id) as file:
                written, overflow = write_pieces(file, 0, _pieces(stream), policy.max_bytes)
        except BaseException:
            self._discard(upload.id)
            raise
        if overflow or written == 0:
            self._discard(upload.id)
            if overflow:
                raise too_large(name, policy.max_bytes)
            raise AttachmentRefused("size", name, f"{name} is empty: choose the file again")
        with database.transaction() as session:
            row = owned(session, upload.id, owner)
            row.length = row.offset = written
        return self._finish(upload.id, owner)

    def terminate_upload(self, session: Session, upload_id: str, owner: str) -> None:
        """Remove the upload and its bytes; Conflict once application data holds the file."""
        row = owned(session, upload_id, owner)
        if row.claimed_at is not None:
            raise Conflict(f"{row.file_name} is part of an application now and stays with it")
        if row.storage_key:
            from engine.storage import engine_storage

            engine_storage(self).delete(row.storage_key)
        self.upload_staging.remove(row.id)
        session.delete(row)

    def take_attachment(self, session: Session, upload_id: str, owner: str) -> dict:
        """The reference of ``owner``'s finished upload, for application data; from now on the
        file belongs with the data and can no longer be deleted through the upload."""
        row = owned(session, upload_id, owner)
        state = state_of(row)
        if state.reference is None:
            raise NotFound(f"{row.file_name} has not finished uploading ({row.offset} of {row.length} bytes)")
        if row.claimed_at is None:
            row.claimed_at = utcnow()
            session.flush()  # steps after this one may expire the session's objects
        return dict(state.reference)

    def attach_uploads(self, session: Session, data, owner: str):
        """``data`` with every ``{"upload": "<id>"}`` replaced by that finished upload's reference
        (taken for the application). A reference written out in full (name, sha256, key) must be
        one of ``owner``'s own uploads, so nobody can point their application at someone else's
        file by copying its key; BadInput naming the file otherwise."""
        if isinstance(data, list):
            return [self.attach_uploads(session, value, owner) for value in data]
        if not isinstance(data, dict):
            return data
        if set(data) == {"upload"} and isinstance(data["upload"], str):
            return self.take_attachment(session, data["upload"], owner)
        if isinstance(data.get("name"), str) and isinstance(data.get("sha256"), str):
            return self._own_reference(session, data, owner)
        return {key: self.attach_uploads(session, value, owner) for key, value in data.items()}

    # -- helpers ----------------------------------------------------------------------------

    def _own_reference(self, session: Session, reference: dict, owner: str) -> dict:
        from sqlalchemy import select

        row = session.scalars(select(AttachmentUpload).where(
            AttachmentUpload.owner == owner, AttachmentUpload.status == "complete",
            AttachmentUpload.storage_key == reference.get("key"),
            AttachmentUpload.sha256 == str(reference["sha256"]).lower())).first()
        if row is None:
            raise BadInput(f"attachment {reference['name']!r}: not a file you uploaded; upload it through "
                           "/api/v1/uploads and put {\"upload\": \"<id>\"} in the data")
        return self.take_attachment(session, row.id, owner)

    def _discard(self, upload_id: str) -> None:
        self.upload_staging.remove(upload_id)
        with self.database().transaction() as session:
            row = session.get(AttachmentUpload, upload_id)
            if row is not None:
                session.delete(row)

    def _finish(self, upload_id: str, owner: str) -> UploadState:
        from engine.storage import engine_storage

        with self.database().transaction() as session:
            row = owned(session, upload_id, owner)
            name, key_extension = row.file_name, extension_of(row.file_name)
        path = self.upload_staging.path(upload_id)
        if not matches(path, key_extension):
            self._discard(upload_id)
            raise content_refused(name, key_extension)
        storage = engine_storage(self)
        key = storage_key(upload_id, key_extension)
        content_type = TYPES[key_extension].content_type
        with path.open("rb") as source:
            stored = storage.put(key, source, content_type)
        try:
            with self.database().transaction() as session:
                row = owned(session, upload_id, owner)
                row.status, row.sha256, row.storage_key, row.content_type = "complete", stored.sha256, key, content_type
                row.length = row.offset = stored.size
                row.updated_at = utcnow()
                state = state_of(row)
        except BaseException:
            storage.delete(key)
            raise
        self.upload_staging.remove(upload_id)
        return state


def _pieces(stream, size: int = 256 * 1024):
    while piece := stream.read(size):
        yield piece


__all__ = ["AttachmentsFacade"]
