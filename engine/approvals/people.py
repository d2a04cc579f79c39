"""Who holds a route step, and who is away: group members, absences and their substitutes.

代決 (deciding for an absent decision-maker) and 引上げ (a higher approver acting ahead of an
absent lower one) both depend on who is absent *at the moment of acting*, so they are
looked up then, not when the task was created.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from engine.approvals.plan import candidates_of
from engine.audit import append_event
from engine.errors import BadInput, NotFound
from engine.store.models import Absence, Group, Membership, User, utcnow

ABSENCES = Absence.__table__


def holders(session: Session, targets: list[str]) -> list[str]:
    """The people a step's targets name: members of its groups and its named users."""
    groups, users = candidates_of(targets)
    names = list(users)
    if groups:
        names += session.scalars(
            select(User.name).join(Membership, Membership.user_id == User.id)
            .join(Group, Group.id == Membership.group_id).where(Group.name.in_(groups))
            .order_by(User.name)).all()
    return list(dict.fromkeys(names))


def absent(session: Session, users: list[str], at: datetime) -> dict[str, str | None]:
    """Those of ``users`` away at ``at``, each with their substitute (代決者) or None."""
    if not users:
        return {}
    rows = session.execute(
        select(ABSENCES.c.user, ABSENCES.c.substitute)
        .where(ABSENCES.c.user.in_(users), ABSENCES.c.starts_at <= at, ABSENCES.c.ends_at > at)
        .order_by(ABSENCES.c.starts_at)).all()
    found: dict[str, str | None] = {}
    for user, substitute in rows:
        if found.get(user) is None:
            found[user] = substitute
    return found


def add_absence(session: Session, user: str, starts_at: datetime, ends_at: datetime,
                substitute: str | None = None, reason: str | None = None, actor: str | None = None) -> Absence:
    """Record an absence (audited on the system trail: who may decide for whom matters later)."""
    if ends_at <= starts_at:
        raise BadInput(f"the absence of {user} ends ({ends_at.isoformat()}) before it starts "
                       f"({starts_at.isoformat()})")
    known = set(session.scalars(select(User.name).where(User.name.in_([user, substitute or user]))))
    for name in (user, substitute):
        if name is not None and name not in known:
            raise BadInput(f"there is no staff user {name!r} — add them with `madoguchi users add`")
    if substitute == user:
        raise BadInput(f"{user} cannot be their own substitute")
    new_id = session.execute(insert(ABSENCES).values(
        user=user, starts_at=starts_at, ends_at=ends_at, substitute=substitute, reason=reason,
        created_at=utcnow()).returning(ABSENCES.c.id)).scalar_one()
    append_event(session, action="absence_added", actor=actor, details={
        "absence_id": new_id, "user": user, "starts_at": starts_at.isoformat(), "ends_at": ends_at.isoformat(),
        "substitute": substitute, "reason": reason})
    return session.get(Absence, new_id)


def absences(session: Session, *, user: str | None = None, current_at: datetime | None = None) -> list[Absence]:
    query = select(Absence).order_by(Absence.starts_at, Absence.id)
    if user:
        query = query.where(Absence.user == user)
    if current_at is not None:
        query = query.where(Absence.ends_at > current_at)
    return list(session.scalars(query))


def remove_absence(session: Session, absence_id: int, actor: str | None = None) -> None:
    found = session.execute(select(ABSENCES).where(ABSENCES.c.id == absence_id)).first()
    if found is None:
        raise NotFound(f"there is no absence {absence_id}")
    session.execute(delete(ABSENCES).where(ABSENCES.c.id == absence_id))
    append_event(session, action="absence_removed", actor=actor, details={
        "absence_id": absence_id, "user": found.user, "starts_at": found.starts_at.isoformat(),
        "ends_at": found.ends_at.isoformat(), "substitute": found.substitute})
