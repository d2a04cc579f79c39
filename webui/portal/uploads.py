"""Portal attachment uploads: tus at /uploads/ for the upload script, and a plain multipart
fallback for forms sent without JavaScript (docs/portal.md, "Attachments").

Uploads belong to the signed-in applicant (``applicant:<id>``); another applicant's upload
answers 404 as if it did not exist. Every state-changing request carries the session's CSRF
token in the ``X-CSRF-Token`` header (the global check in :mod:`webui.security`).

The widget (``portal/_upload_field.html``) posts, in the form that includes it, either the
upload's id in the hidden field ``<field>`` (the script uploaded the file) or the file itself
as ``<field>.file`` (no script). The view that receives such a form calls
:func:`attachment_from_form`, and registers its endpoint with :func:`accept_attachments` so
its request body may be as large as the procedure's limit.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from flask import jsonify, request, url_for
from flask_babel import gettext as _

from engine.attachments import AttachmentRefused, human_size
from engine.attachments.types import TYPES
from engine.errors import MadoguchiError, NotFound
from webui import tus
from webui.db import engine, transaction
from webui.portal import blueprint
from webui.portal.applicant_session import current_applicant

_TUS_ENDPOINTS = {"portal.upload_create", "portal.upload"}
#: Form endpoints that carry attachments → how to tell their procedure key from (session, URL values).
ATTACHMENT_FORMS: dict[str, Callable[[object, dict], str | None]] = {}
#: Room for the other fields and the multipart framing around the file.
_FORM_OVERHEAD = 1024 * 1024


def accept_attachments(endpoint: str, procedure_key: Callable[[object, dict], str | None] = lambda _s, _v: None) -> None:
    """Let POSTs to the portal's ``endpoint`` carry files up to the procedure's limit;
    ``procedure_key(db_session, url_values)`` names the procedure (None: the default limit)."""
    ATTACHMENT_FORMS[endpoint] = procedure_key


@blueprint.url_value_preprocessor
def _body_limits(endpoint, values) -> None:
    # Runs before the CSRF check reads the form: the limit must be set before the body is touched.
    if endpoint in _TUS_ENDPOINTS:
        tus.raise_patch_limit()
    elif endpoint in ATTACHMENT_FORMS and request.method == "POST":
        try:
            with transaction() as session:
                key = ATTACHMENT_FORMS[endpoint](session, dict(values or {}))
                limit = engine().attachment_policy(session, key).max_bytes
        except NotFound:
            return  # the view answers for an unknown procedure
        request.max_content_length = limit + _FORM_OVERHEAD


def _owner() -> str | None:
    applicant = current_applicant()
    return f"applicant:{applicant.id}" if applicant else None


def _error(status: int, message: str):
    response = jsonify(error=message)
    response.status_code = status
    return response


def refusal_text(problem: AttachmentRefused) -> str:
    """What the applicant reads when a file is refused: the file, and the limit or the types."""
    if problem.reason == "type":
        return _("%(name)s: this type of file is not accepted. Allowed types: %(types)s.",
                 name=problem.file_name, types=", ".join(problem.allowed))
    if problem.reason == "content":
        return _("%(name)s: the content of the file is not what its name says. Upload the document itself, "
                 "saved in its own format (for example a real PDF, not a renamed file).", name=problem.file_name)
    if problem.reason == "size" and problem.limit:
        return _("%(name)s is larger than the limit of %(limit)s for this procedure.",
                 name=problem.file_name, limit=human_size(problem.limit))
    if problem.reason == "size":
        return _("%(name)s is empty. Choose the file again.", name=problem.file_name)
    return _("Choose a file whose name has at most 255 characters and no control characters.")


def _refused(problem: AttachmentRefused):
    return _error(tus.refusal_status(problem), refusal_text(problem))


def _signed_out():
    return tus.with_headers(_error(401, _("Your session has ended. Sign in again, then choose the file again.")))


@blueprint.route("/uploads/", methods=["OPTIONS", "POST"], endpoint="upload_create")
def upload_create():
    if request.method == "OPTIONS":
        return tus.options(max_size=engine().settings.attachment_max_bytes)
    owner = _owner()
    if owner is None:
        return _signed_out()
    return tus.version_refused(_error) or tus.create(owner, lambda upload_id: url_for("portal.upload", upload_id=upload_id),
                                                    _error, _refused)


@blueprint.route("/uploads/<upload_id>", methods=["HEAD", "PATCH", "DELETE"], endpoint="upload")
def upload(upload_id: str):
    owner = _owner()
    if owner is None:
        return _signed_out()
    refused = tus.version_refused(_error)
    if refused:
        return refused
    if request.method == "HEAD":
        return tus.head(owner, upload_id, _error)
    if request.method == "DELETE":
        return tus.delete(owner, upload_id, _error)
    return tus.patch(owner, upload_id, _error, _refused)


# -- forms -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class FormAttachment:
    """What a form's attachment field brought: the reference for the data, the upload's id
    (for the hidden field when the form is shown again), or the applicant's error message."""

    reference: dict | None = None
    upload_id: str | None = None
    error: str | None = None


def attachment_from_form(field: str, procedure_key: str | None) -> FormAttachment:
    """The attachment posted in ``field`` by the signed-in applicant: the file sent with the
    form (``<field>.file``, read from werkzeug's temporary file a chunk at a time, checked like
    any upload), else the finished upload named in ``<field>``; an empty FormAttachment when
    neither was sent."""
    owner = _owner()
    sent = request.files.get(f"{field}.file")
    upload_id = (request.form.get(field) or "").strip()
    if sent is None or not sent.filename:
        if not upload_id:
            return FormAttachment()
        if owner is None:
            return FormAttachment(error=_("Sign in to attach files."))
        try:
            with transaction() as session:
                return FormAttachment(engine().take_attachment(session, upload_id, owner), upload_id)
        except NotFound:
            return FormAttachment(error=_("The file has not finished uploading, or was removed. Choose it again."))
    if owner is None:
        return FormAttachment(error=_("Sign in to attach files."))
    try:
        with sent.stream as stream:
            upload = engine().receive_attachment(owner=owner, file_name=sent.filename, stream=stream,
                                                 procedure_key=procedure_key)
        with transaction() as session:
            return FormAttachment(engine().take_attachment(session, upload.id, owner), upload.id)
    except AttachmentRefused as problem:
        return FormAttachment(error=refusal_text(problem))
    except MadoguchiError as problem:
        return FormAttachment(error=str(problem))


@blueprint.app_context_processor
def _widget_helpers() -> dict:
    def attachment_rules(procedure_key: str | None) -> dict:
        """The accepted types (for ``accept`` and the hint) and the size limit of a procedure."""
        with transaction() as session:
            policy = engine().attachment_policy(session, procedure_key)
        return {"types": policy.types, "accept": ",".join(f".{t}" for t in policy.types) + ","
                + ",".join(sorted({TYPES[t].content_type for t in policy.types})),
                "max_bytes": policy.max_bytes, "limit": human_size(policy.max_bytes)}

    return {"attachment_rules": attachment_rules, "human_size": human_size}


__all__ = ["ATTACHMENT_FORMS", "FormAttachment", "accept_attachments", "attachment_from_form", "refusal_text"]
