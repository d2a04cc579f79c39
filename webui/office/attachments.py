"""The application's attachments from a task page: download (always as a file) and a preview
(PDF and images only, checked by their first bytes), streamed from the document storage."""

from __future__ import annotations

from flask import abort, send_file

from engine.errors import BadInput, NotFound, PermissionRefused
from webui.auth import current_user, login_required
from webui.db import engine, transaction
from webui.office import blueprint

#: The preview is framed by the task page (same origin) and may show nothing but itself.
PREVIEW_POLICY = "default-src 'none'; img-src 'self'; object-src 'self'; " \
                 "frame-ancestors 'self'"


def _open(task_id: str, sha256: str, *, preview: bool):
    try:
        with transaction() as session:
            return engine().open_attachment(session, task_id, sha256, user=current_user().name, preview=preview)
    except PermissionRefused:
        abort(403)
    except NotFound:
        abort(404)
    except BadInput:
        abort(415 if preview else 400)


def _answer(info, stream, *, as_attachment: bool):
    response = send_file(stream, mimetype=info.content_type, as_attachment=as_attachment, download_name=info.name,
                         conditional=False, etag=False, max_age=0)
    if info.size is not None:
        response.content_length = info.size
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    return response


@blueprint.get("/tasks/<task_id>/attachments/<sha256>")
@login_required
def download_attachment(task_id: str, sha256: str):
    info, stream = _open(task_id, sha256, preview=False)
    return _answer(info, stream, as_attachment=True)


@blueprint.get("/tasks/<task_id>/attachments/<sha256>/preview")
@login_required
def preview_attachment(task_id: str, sha256: str):
    info, stream = _open(task_id, sha256, preview=True)
    response = _answer(info, stream, as_attachment=False)
    response.headers["Content-Security-Policy"] = PREVIEW_POLICY
    response.headers["X-Frame-Options"] = "SAMEORIGIN"
    return response
