"""Engine objects as the API's JSON (the field names the response schemas document)."""

from __future__ import annotations

from engine.errors import NotFound
from webui.api.schemas import MAX_ID
from webui.db import engine


def stored_id(value: int, what: str) -> int:
    """``value`` as an id of a ``what``; NotFound when it is too large for any row to have."""
    if value > MAX_ID:
        raise NotFound(f"{what} {value} does not exist")
    return value


def _iso(value):
    return value.isoformat() if value is not None else None


def application_summary(application, procedure: str) -> dict:
    return {"id": application.id, "reference": application.reference, "procedure": procedure,
            "status": application.status, "started_by": application.started_by,
            "created_at": _iso(application.created_at), "updated_at": _iso(application.updated_at),
            "completed_at": _iso(application.completed_at)}


def document(row) -> dict:
    return {"public_id": row.public_id, "application_id": row.application_id, "number": row.number,
            "title": row.title, "procedure": row.procedure, "status": row.status, "issued_at": _iso(row.issued_at),
            "sha256": row.sha256, "size": row.size, "revoked_at": _iso(row.revoked_at),
            "revocation_reason": row.revocation_reason}


def application_detail(session, application_id: int) -> dict:
    # A step writes its tasks through Core; rows the session loaded before it are stale.
    session.expire_all()
    view = engine().show(session, application_id)
    documents = engine().issued_documents(session, application_id=application_id)
    return {**application_summary(view.application, view.definition.key), "version": view.definition.version,
            "data": view.data, "open_tasks": [t.as_dict() for t in view.tasks if t.status == "open"],
            "documents": [document(d) for d in documents if d.status != "reserved"]}


def incident(row) -> dict:
    return {"id": row.id, "application_id": row.application_id, "kind": row.kind, "element_id": row.element_id,
            "message": row.message, "attempts": row.attempts, "status": row.status,
            "created_at": _iso(row.created_at), "resolved_at": _iso(row.resolved_at),
            "resolved_by": row.resolved_by, "resolution": row.resolution}
