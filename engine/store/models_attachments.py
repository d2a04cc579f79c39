"""Tables of attachment uploads: resumable uploads in progress and the files they became."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from engine.store.models import Base, UTCDateTime, utcnow


class AttachmentUpload(Base):
    """One file on its way in (``receiving``) or arrived and checked (``complete``).

    The bytes received so far wait in the staging directory under the upload's id; ``offset``
    is how many of them are safely on disk, so a client may resume from there after a broken
    connection, on any web process. A complete upload has been moved into the document
    storage under ``storage_key`` and is referred to from application data by its reference
    (name, SHA-256, key, size, content type). ``owner`` is ``applicant:<id>`` or ``token:<id>``:
    nobody else can see, continue or delete it.
    """

    __tablename__ = "attachment_uploads"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    owner: Mapped[str] = mapped_column(String(40), index=True)
    procedure_key: Mapped[str | None] = mapped_column(String(200))
    file_name: Mapped[str] = mapped_column(String(255))
    length: Mapped[int] = mapped_column(BigInteger)
    offset: Mapped[int] = mapped_column(BigInteger, default=0)
    max_bytes: Mapped[int] = mapped_column(BigInteger)
    #: "receiving" or "complete".
    status: Mapped[str] = mapped_column(String(12), default="receiving")
    sha256: Mapped[str | None] = mapped_column(String(64))
    storage_key: Mapped[str | None] = mapped_column(String(1024))
    content_type: Mapped[str | None] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    #: When an unfinished upload is given up and its bytes removed.
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    #: Set when application data takes the file: from then on it is the application's, not deletable here.
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
