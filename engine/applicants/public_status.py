"""What an applicant is told about their application: six public statuses, derived from the
engine's internal state without showing any of it (no step names, no staff names).

=============  ======  ===========================================================================
public status  ja      when
=============  ======  ===========================================================================
submitted      送信済  received or in review, and no one at the office has taken it up yet
in_progress    処理中  the office works on it (a task was claimed or done; an internal return
                       to a drafter — 差戻し inside the route — is still 処理中)
returned       差し戻し status ``returned``, or the last approval route ended with
                       ``returned_to_applicant`` and the application waits on
completed      処理完了 finished (not rejected or withdrawn), or its document was issued
rejected       却下    status ``rejected``, or the last approval route ended rejected
withdrawn      取下げ  status ``withdrawn``, or the last approval route ended withdrawn
=============  ======  ===========================================================================
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from engine.store.models import ApprovalRoute, HumanTask

PUBLIC_STATUSES = ("submitted", "in_progress", "returned", "completed", "rejected", "withdrawn")
#: Internal statuses that decide the public one, whatever else is going on.
_BY_STATUS = {"rejected": "rejected", "withdrawn": "withdrawn", "returned": "returned",
          "completed": "completed", "issued": "completed"}
_ROUTE_OUTCOMES = {"returned_to_applicant": "returned", "rejected": "rejected", "withdrawn": "withdrawn"}


def public_status(status: str, finished: bool, last_route: str | None, taken_up: bool) -> str:
    """The public status from the application's status, whether its process has ended, how its
    last approval route ended (or ``running``), and whether anyone at the office took it up."""
    if status == "returned" and not finished and last_route == "running":
        return "in_progress"  # corrected and sent back: the status stays until the next task opens
    if status in _BY_STATUS:
        return _BY_STATUS[status]
    if finished:
        return "completed"
    if last_route in _ROUTE_OUTCOMES:
        return _ROUTE_OUTCOMES[last_route]
    if status in ("received", "in_review") and not taken_up and last_route is None:
        return "submitted"
    return "in_progress"


def facts(session: Session, application_ids: list[int]) -> tuple[dict[int, str], set[int]]:
    """For many applications at once: the status of each one's latest approval route, and
    which were taken up (a task claimed or completed)."""
    if not application_ids:
        return {}, set()
    routes: dict[int, str] = {}
    for application_id, status in session.execute(
            select(ApprovalRoute.application_id, ApprovalRoute.status)
            .where(ApprovalRoute.application_id.in_(application_ids), ApprovalRoute.status != "cancelled")
            .order_by(ApprovalRoute.id)):
        routes[application_id] = status  # ordered by id: the last one wins
    taken = set(session.scalars(
        select(HumanTask.application_id).where(
            HumanTask.application_id.in_(application_ids),
            or_(HumanTask.assignee.is_not(None), HumanTask.completed_by.is_not(None))).distinct()))
    return routes, taken


@dataclass(frozen=True)
class ReturnNotice:
    """What the office told the applicant with its last return (差し戻し): why, and by when."""

    reason: str | None
    deadline: date | None


def return_notices(session: Session, application_ids: list[int]) -> dict[int, ReturnNotice]:
    """For many applications at once: the reason and deadline of each one's latest return to
    the applicant (those never returned are left out)."""
    if not application_ids:
        return {}
    notices: dict[int, ReturnNotice] = {}
    for application_id, outcome in session.execute(
            select(ApprovalRoute.application_id, ApprovalRoute.outcome)
            .where(ApprovalRoute.application_id.in_(application_ids),
                   ApprovalRoute.status == "returned_to_applicant")
            .order_by(ApprovalRoute.id)):
        outcome = outcome or {}
        deadline = outcome.get("deadline")
        notices[application_id] = ReturnNotice(  # ordered by id: the last one wins
            reason=outcome.get("comment"), deadline=date.fromisoformat(deadline) if deadline else None)
    return notices
