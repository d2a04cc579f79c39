"""The tus 1.0.0 resumable-upload protocol (https://tus.io/protocols/resumable-upload),
core + creation + termination, over the engine's attachment uploads.

Used by the portal (``/uploads/``, applicant session + CSRF header) and the API
(``/api/v1/uploads/``, bearer token); each supplies who owns the upload and how errors are
written. Bodies are read from ``request.stream`` a chunk at a time, never as a whole; each
PATCH may carry up to :data:`MAX_PATCH_BYTES` (instead of the app's MAX_CONTENT_LENGTH, which
is for forms), so a multi-gigabyte file arrives in several PATCH requests.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Iterator
from datetime import UTC
from email.utils import format_datetime

from flask import Response, request
from werkzeug.exceptions import ClientDisconnected, RequestEntityTooLarge

from engine.attachments import AttachmentRefused, OffsetMismatch
from engine.errors import Conflict, MadoguchiError, NotFound
from webui.db import engine, transaction

VERSION = "1.0.0"
EXTENSIONS = "creation,termination"
OFFSET_MEDIA_TYPE = "application/offset+octet-stream"
#: The most one PATCH request may carry; clients send larger files in several PATCHes.
MAX_PATCH_BYTES = 256 * 1024 * 1024
#: How much of a request body is held at a time.
READ_SIZE = 256 * 1024
_MAX_METADATA = 4096

#: (status, message) → a response in the caller's style (problem+json, plain JSON …).
ErrorWriter = Callable[[int, str], Response]


def raise_patch_limit() -> None:
    """Let a PATCH body be up to MAX_PATCH_BYTES; must run before ``request.stream`` is first read."""
    if request.method == "PATCH":
        request.max_content_length = MAX_PATCH_BYTES


def _http_date(moment) -> str:
    # usegmt wants the UTC timezone object itself; PostgreSQL hands back an equivalent offset.
    return format_datetime(moment.astimezone(UTC), usegmt=True)


def with_headers(response: Response, **headers) -> Response:
    response.headers["Tus-Resumable"] = VERSION
    response.headers["Cache-Control"] = "no-store"
    for name, value in headers.items():
        response.headers[name.replace("_", "-")] = str(value)
    return response


def empty(status: int, **headers) -> Response:
    return with_headers(Response(status=status), **headers)


def options(max_size: int) -> Response:
    return empty(204, Tus_Version=VERSION, Tus_Extension=EXTENSIONS, Tus_Max_Size=max_size)


def version_refused(error: ErrorWriter) -> Response | None:
    """412 unless the client speaks tus 1.0.0 (the header the protocol requires on every request)."""
    if request.headers.get("Tus-Resumable") != VERSION:
        return with_headers(error(412, f"send the header Tus-Resumable: {VERSION}"), Tus_Version=VERSION)
    return None


def metadata() -> dict[str, str]:
    """``Upload-Metadata``: comma-separated ``key base64value`` pairs (ValueError when malformed)."""
    raw = request.headers.get("Upload-Metadata", "")
    if len(raw) > _MAX_METADATA:
        raise ValueError(f"Upload-Metadata is longer than {_MAX_METADATA} characters")
    found = {}
    for pair in filter(None, (p.strip() for p in raw.split(","))):
        key, _, value = pair.partition(" ")
        try:
            found[key] = base64.b64decode(value.strip(), validate=True).decode("utf-8") if value else ""
        except (binascii.Error, UnicodeDecodeError):
            raise ValueError(f"Upload-Metadata {key!r} is not Base64 of UTF-8 text") from None
    return found


def _whole_number(header: str) -> int | None:
    value = request.headers.get(header, "")
    return int(value) if value.isascii() and value.isdigit() and len(value) <= 19 else None


def create(owner: str, location: Callable[[str], str], error: ErrorWriter,
           refused: Callable[[AttachmentRefused], Response]) -> Response:
    """POST: a new upload of ``Upload-Length`` bytes named by the ``filename`` metadata (and
    governed by the ``procedure`` metadata's [attachments] policy)."""
    length = _whole_number("Upload-Length")
    if length is None:
        return with_headers(error(400, "send Upload-Length: the file's size in bytes "
                                       "(Upload-Defer-Length is not supported)"))
    try:
        meta = metadata()
    except ValueError as problem:
        return with_headers(error(400, str(problem)))
    name = meta.get("filename") or meta.get("name") or ""
    try:
        with transaction() as session:
            upload = engine().create_upload(session, owner=owner, file_name=name, length=length,
                                            procedure_key=meta.get("procedure") or None)
    except AttachmentRefused as problem:
        return with_headers(refused(problem))
    except NotFound as problem:
        return with_headers(error(404, str(problem)))
    return empty(201, Location=location(upload.id), Upload_Offset=0,
                 Upload_Expires=_http_date(upload.expires_at))


def head(owner: str, upload_id: str, error: ErrorWriter) -> Response:
    try:
        with transaction() as session:
            upload = engine().upload_state(session, upload_id, owner)
    except NotFound as problem:
        return with_headers(error(404, str(problem)))
    return empty(200, Upload_Offset=upload.offset, Upload_Length=upload.length,
                 Upload_Expires=_http_date(upload.expires_at))


def body_pieces() -> Iterator[bytes]:
    """The request body a chunk at a time; a client that goes away mid-body just ends it (what
    arrived is kept, and the client resumes from there)."""
    stream = request.stream
    while True:
        try:
            piece = stream.read(READ_SIZE)
        except ClientDisconnected:
            return
        if not piece:
            return
        yield piece


def patch(owner: str, upload_id: str, error: ErrorWriter, refused: Callable[[AttachmentRefused], Response]) -> Response:
    """PATCH: append the body at ``Upload-Offset``; the file is checked and stored with its last byte."""
    if request.mimetype != OFFSET_MEDIA_TYPE:
        return with_headers(error(415, f"send the piece as Content-Type: {OFFSET_MEDIA_TYPE}"))
    offset = _whole_number("Upload-Offset")
    if offset is None:
        return with_headers(error(400, "send Upload-Offset: the byte this piece starts at"))
    try:
        upload = engine().append_upload(upload_id, owner, offset, body_pieces())
    except OffsetMismatch as problem:
        return with_headers(error(409, str(problem)), Upload_Offset=problem.offset)
    except AttachmentRefused as problem:
        return with_headers(refused(problem))
    except RequestEntityTooLarge:
        return with_headers(error(413, f"one PATCH may carry at most {MAX_PATCH_BYTES} bytes: "
                                       "send the file in smaller pieces"))
    except NotFound as problem:
        return with_headers(error(404, str(problem)))
    except Conflict as problem:
        return with_headers(error(409, str(problem)))
    return empty(204, Upload_Offset=upload.offset,
                 Upload_Expires=_http_date(upload.expires_at))


def delete(owner: str, upload_id: str, error: ErrorWriter) -> Response:
    """DELETE (termination): the upload and its bytes are removed."""
    try:
        with transaction() as session:
            engine().terminate_upload(session, upload_id, owner)
    except NotFound as problem:
        return with_headers(error(404, str(problem)))
    except MadoguchiError as problem:
        return with_headers(error(409, str(problem)))
    return empty(204)


def refusal_status(problem: AttachmentRefused) -> int:
    return {"size": 413, "type": 415, "content": 415}.get(problem.reason, 400)


__all__ = ["MAX_PATCH_BYTES", "OFFSET_MEDIA_TYPE", "VERSION", "body_pieces", "create", "delete", "empty", "head",
           "options", "patch", "raise_patch_limit", "refusal_status", "version_refused", "with_headers"]
