"""取下げ by the applicant: where the procedure allows it, the application ends as ``withdrawn``.

A procedure allows it in its manifest (``procedure.toml``)::

    [portal]
    withdraw = true

Ending uses the same step as an admin's cancel (engine.instance_changes.cancel): open tasks,
jobs, timers and message subscriptions end, the step is audited, staff see the status.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from engine.applicants import filings
from engine.errors import BadInput, Conflict
from engine.store.models import Definition

WITHDRAWN = "withdrawn"


def allowed(manifest: dict | None) -> bool:
    portal = (manifest or {}).get("portal")
    return isinstance(portal, dict) and portal.get("withdraw") is True


def withdrawable(engine, session: Session, application_id: int) -> bool:
    """Running, and of a procedure that allows 取下げ (NotFound for no such application)."""
    application = engine.application(session, application_id)
    definition = session.get(Definition, application.definition_id)
    return application.completed_at is None and allowed(definition.manifest)


def can_withdraw(engine, session: Session, applicant_id: int, application_id: int) -> bool:
    filings.one(session, applicant_id, application_id)
    return withdrawable(engine, session, application_id)


def withdraw(engine, session: Session, applicant_id: int, application_id: int, reason: str):
    filings.one(session, applicant_id, application_id)
    return withdraw_application(engine, session, application_id, reason, actor=f"applicant:{applicant_id}")


def withdraw_application(engine, session: Session, application_id: int, reason: str, *, actor: str):
    """The step itself, for the applicant on My Page and for an integrator through the API."""
    if not withdrawable(engine, session, application_id):
        raise Conflict("this application cannot be withdrawn on line (it has ended, or the procedure "
                       "does not allow it): contact the office")
    if not (reason or "").strip():
        raise BadInput("reason: say why you withdraw the application")
    from engine.instance_changes import cancel

    return cancel(engine.applications, session, application_id, actor=actor, reason=reason, ending=WITHDRAWN)
