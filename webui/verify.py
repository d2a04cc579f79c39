"""Public verification of issued documents: upload a PDF, or follow the QR code on one."""

from __future__ import annotations

from flask import Blueprint, render_template, request

from engine.errors import NotFound
from engine.issuance.documents import document_summary
from webui.db import engine, transaction

blueprint = Blueprint("verify", __name__, url_prefix="/verify")

#: A sealed one-page document is well under a megabyte; refuse anything far larger early.
MAX_PDF_BYTES = 20 * 1024 * 1024


@blueprint.get("/")
def index():
    return render_template("verify/index.html")


@blueprint.post("/")
def check_file():
    upload = request.files.get("document")
    if upload is None or not upload.filename:
        return render_template("verify/index.html", problem="missing"), 400
    content = upload.stream.read(MAX_PDF_BYTES + 1)
    if len(content) > MAX_PDF_BYTES:
        return render_template("verify/index.html", problem="too_large"), 413
    with transaction() as session:
        verdict = engine().verify_document(session, content)
    return render_template("verify/result.html", verdict=verdict, filename=upload.filename)


@blueprint.get("/<document_id>")
def document(document_id: str):
    """Where the QR code leads: what the register says about the document (no file needed)."""
    with transaction() as session:
        try:
            found = document_summary(engine().issued_document(session, document_id))
        except NotFound:
            found = None
    claimed = request.args.get("h")
    matches = None if not (found and claimed) else claimed == found["content_sha256"]
    status = 404 if found is None else 200
    return render_template("verify/document.html", document=found, claimed=claimed, matches=matches), status
