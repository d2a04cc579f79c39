"""/api/v1/documents: an issued document's register entry, its sealed PDF, verification."""

from __future__ import annotations

from flask import Response
from flask_smorest import Blueprint

from webui.api import problems
from webui.api.auth import current_grant, requires
from webui.api.problems import MEDIA_TYPE as PROBLEM
from webui.api.problems import problem
from webui.api.schemas import DocumentSchema, ProblemSchema, VerdictSchema, VerifyUpload
from webui.api.shapes import document
from webui.db import engine, transaction

blueprint = Blueprint("api_documents", __name__, url_prefix="/api/v1/documents",
                      description="Issued documents: register entry, sealed PDF, verification")
problems.register(blueprint)

#: A sealed document is well under a megabyte; refuse anything far larger early.
MAX_PDF_BYTES = 20 * 1024 * 1024
_CHUNK = 64 * 1024


@blueprint.route("/<public_id>", methods=["GET"])
@requires(blueprint, "documents:read")
@blueprint.response(200, DocumentSchema)
@blueprint.alt_response(404, schema=ProblemSchema, content_type=PROBLEM, description="No such document")
def get(public_id: str):
    """What the register says about an issued document."""
    with transaction() as session:
        return document(engine().issued_document(session, public_id))


@blueprint.route("/<public_id>/pdf", methods=["GET"])
@requires(blueprint, "documents:read")
@blueprint.response(200, description="The sealed PDF", content_type="application/pdf")
@blueprint.alt_response(404, schema=ProblemSchema, content_type=PROBLEM, description="No such document")
@blueprint.alt_response(409, schema=ProblemSchema, content_type=PROBLEM, description="Not issued (reserved or void)")
def download(public_id: str):
    """The sealed PDF as issued; the download is recorded (channel ``api``)."""
    grant = current_grant()
    with transaction() as session:
        _row, stream = engine().download_document(session, public_id, actor=grant.user, channel="api",
                                                 client=f"token:{grant.token_name}")

    def chunks():
        with stream:
            while chunk := stream.read(_CHUNK):
                yield chunk

    response = Response(chunks(), mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'attachment; filename="{public_id}.pdf"'
    return response


@blueprint.route("/verify", methods=["POST"])
@requires(blueprint, "documents:verify")
@blueprint.arguments(VerifyUpload, location="files")
@blueprint.response(200, VerdictSchema)
@blueprint.alt_response(413, schema=ProblemSchema, content_type=PROBLEM, description="Larger than 20 MB")
def verify(files: dict):
    """Check a PDF against the register: valid, altered, revoked or unknown."""
    content = files["file"].stream.read(MAX_PDF_BYTES + 1)
    if len(content) > MAX_PDF_BYTES:
        return problem(413, "the file is larger than 20 MB; a sealed document is far smaller")
    with transaction() as session:
        return engine().verify_document(session, content).as_dict()
