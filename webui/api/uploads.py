"""/api/v1/uploads: resumable attachment uploads (tus 1.0.0) for integrators (docs/api.md, "Uploads").

An upload belongs to the token that created it (another token gets 404); creating,
continuing, reading and deleting it need the scope ``applications:write``, since its only
use is to go into an application's data.
"""

from __future__ import annotations

from flask import request, url_for
from flask_smorest import Blueprint
from marshmallow import Schema, fields

from engine.attachments import AttachmentRefused
from webui import tus
from webui.api import problems
from webui.api.auth import current_grant, requires
from webui.api.problems import MEDIA_TYPE as PROBLEM
from webui.api.problems import problem
from webui.api.schemas import ProblemSchema
from webui.db import engine, transaction

SCOPE = "applications:write"

blueprint = Blueprint("api_uploads", __name__, url_prefix="/api/v1/uploads",
                      description="Attachment uploads (tus 1.0.0: creation, termination)")
problems.register(blueprint)

_TUS_HEADER = {"name": "Tus-Resumable", "in": "header", "required": True,
               "schema": {"type": "string", "example": tus.VERSION}, "description": f"Always `{tus.VERSION}`"}
_OFFSET_HEADER = {"name": "Upload-Offset", "in": "header", "required": True,
                  "schema": {"type": "integer", "minimum": 0}, "description": "The byte this piece starts at"}


class AttachmentSchema(Schema):
    name = fields.String(metadata={"example": "住民票.pdf"})
    sha256 = fields.String(metadata={"description": "Lower-case hex SHA-256 of the stored bytes"})
    key = fields.String(metadata={"description": "Where the document storage keeps the file"})
    size = fields.Integer()
    content_type = fields.String(metadata={"example": "application/pdf"})


class UploadSchema(Schema):
    id = fields.String()
    name = fields.String()
    length = fields.Integer(metadata={"description": "The file's size in bytes, as announced"})
    offset = fields.Integer(metadata={"description": "Bytes received so far"})
    max_bytes = fields.Integer(metadata={"description": "The procedure's size limit"})
    complete = fields.Boolean()
    expires_at = fields.DateTime(metadata={"description": "When an unfinished upload is given up"})
    attachment = fields.Nested(AttachmentSchema, allow_none=True,
                               metadata={"description": "Put this object into the application's data"})


@blueprint.url_value_preprocessor
def _body_limit(_endpoint, _values) -> None:
    tus.raise_patch_limit()


def _owner() -> str:
    return f"token:{current_grant().token_id}"


def _error(status: int, detail: str):
    return problem(status, detail)


def _refused(refusal: AttachmentRefused):
    members = {"file": refusal.file_name, "reason": refusal.reason}
    if refusal.limit:
        members["limit_bytes"] = refusal.limit
    if refusal.allowed:
        members["allowed_types"] = list(refusal.allowed)
    return problem(tus.refusal_status(refusal), str(refusal), **members)


@blueprint.before_request
def _capabilities():
    """tus OPTIONS on any upload URL: the version, extensions and largest size supported. Answered
    before dispatch (in place of Flask's automatic OPTIONS) and left out of the OpenAPI document."""
    if request.method == "OPTIONS":
        return tus.options(max_size=engine().settings.attachment_max_bytes)
    return None


@blueprint.route("", methods=["POST"])
@requires(blueprint, SCOPE)
@blueprint.doc(parameters=[
    _TUS_HEADER,
    {"name": "Upload-Length", "in": "header", "required": True, "schema": {"type": "integer", "minimum": 1},
     "description": "The file's size in bytes"},
    {"name": "Upload-Metadata", "in": "header", "required": True, "schema": {"type": "string"},
     "description": "`filename <base64>` and optionally `,procedure <base64 procedure key>`"}],
    responses={"201": {"description": "Created; `Location` is the upload's URL"}})
@blueprint.alt_response(413, schema=ProblemSchema, content_type=PROBLEM, description="Larger than the limit")
@blueprint.alt_response(415, schema=ProblemSchema, content_type=PROBLEM, description="A type not accepted")
def create():
    """Start an upload.

    tus creation: the file's name and procedure go in `Upload-Metadata`; its type and size are
    checked against the procedure's `[attachments]` policy before a byte is sent."""
    return tus.version_refused(_error) or tus.create(
        _owner(), lambda upload_id: url_for("api_uploads.piece", upload_id=upload_id), _error, _refused)


@blueprint.route("/<upload_id>", methods=["HEAD"])
@requires(blueprint, SCOPE)
def offset(upload_id: str):
    """Where the upload stands (tus core): `Upload-Offset` and `Upload-Length`."""
    return tus.version_refused(_error) or tus.head(_owner(), upload_id, _error)


@blueprint.route("/<upload_id>", methods=["GET"])
@requires(blueprint, SCOPE)
@blueprint.response(200, UploadSchema)
@blueprint.alt_response(404, schema=ProblemSchema, content_type=PROBLEM, description="No such upload of this token")
def get(upload_id: str):
    """An upload's progress, and its attachment once complete."""
    with transaction() as session:
        upload = engine().upload_state(session, upload_id, _owner())
    return {"id": upload.id, "name": upload.file_name, "length": upload.length, "offset": upload.offset,
            "max_bytes": upload.max_bytes, "complete": upload.complete, "expires_at": upload.expires_at,
            "attachment": upload.reference}


@blueprint.route("/<upload_id>", methods=["PATCH"])
@requires(blueprint, SCOPE)
# The body (application/offset+octet-stream) is described in words: OpenAPI tools have no
# serializer for that media type, and the piece is plain bytes anyway.
@blueprint.doc(parameters=[_TUS_HEADER, _OFFSET_HEADER],
               responses={"204": {"description": "Appended; `Upload-Offset` is the new offset"}})
@blueprint.alt_response(409, schema=ProblemSchema, content_type=PROBLEM, description="Upload-Offset is not where the upload stands")
@blueprint.alt_response(404, schema=ProblemSchema, content_type=PROBLEM, description="No such upload of this token")
@blueprint.alt_response(413, schema=ProblemSchema, content_type=PROBLEM, description="More than announced, or than one PATCH may carry")
@blueprint.alt_response(415, schema=ProblemSchema, content_type=PROBLEM, description="Not what its name says")
def piece(upload_id: str):
    """Append the next piece of the file.

    The body (`application/offset+octet-stream`, at most 256 MiB per request) goes at
    `Upload-Offset`. When the last byte arrives the file is checked by its content and stored;
    GET then shows its attachment."""
    refused = tus.version_refused(_error)
    if refused:
        return refused
    return tus.patch(_owner(), upload_id, _error, _refused)


@blueprint.route("/<upload_id>", methods=["DELETE"])
@requires(blueprint, SCOPE)
@blueprint.doc(parameters=[_TUS_HEADER], responses={"204": {"description": "Removed"}})
@blueprint.alt_response(404, schema=ProblemSchema, content_type=PROBLEM, description="No such upload of this token")
@blueprint.alt_response(409, schema=ProblemSchema, content_type=PROBLEM, description="Part of an application already")
def terminate(upload_id: str):
    """Remove an upload and its bytes (tus termination)."""
    refused = tus.version_refused(_error)
    if refused:
        return refused
    return tus.delete(_owner(), upload_id, _error)


__all__ = ["blueprint"]
