"""Staff users and groups. Group membership decides who is a candidate for a task."""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from engine.audit import append_event
from engine.errors import BadInput
from engine.store import rows
from engine.store.models import Group, Membership, User


@functools.cache
def _hasher() -> PasswordHasher:
    """argon2id with the library's recommended cost, unless MADOGUCHI_PASSWORD_HASH_COST=low.

    "low" (one pass over 1 MiB) exists for test suites, which create and sign in hundreds of
    users: at the full cost that alone takes minutes of CPU. Hashes carry their own parameters,
    so either kind verifies under either setting; never set it on a real instance.
    """
    if os.environ.get("MADOGUCHI_PASSWORD_HASH_COST", "").strip().lower() == "low":
        return PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    return PasswordHasher()



def hash_password(password: str) -> str:
    return _hasher().hash(password)


def check_password(stored: str | None, password: str) -> bool:
    if not stored:
        return False
    try:
        return _hasher().verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False


#: Verified when the user does not exist, so a wrong name costs as long as a wrong password.
@functools.cache
def _dummy_hash() -> str:
    return _hasher().hash("no such user")


@dataclass(frozen=True)
class StaffUser:
    name: str
    display_name: str | None
    groups: frozenset[str]


def staff_user(session: Session, name: str) -> StaffUser | None:
    user = session.scalars(select(User).where(User.name == name)).first()
    if user is None:
        return None
    return StaffUser(user.name, user.display_name, frozenset(groups_of(session, user.name)))


def authenticate(session: Session, name: str, password: str) -> StaffUser | None:
    """The user if ``password`` is theirs; None otherwise (without saying which part was wrong)."""
    user = session.scalars(select(User).where(User.name == name)).first()
    if user is None or not user.password_hash:
        check_password(_dummy_hash(), password)
        return None
    if not check_password(user.password_hash, password):
        return None
    return StaffUser(user.name, user.display_name, frozenset(groups_of(session, user.name)))


def groups_of(session: Session, user_name: str) -> set[str]:
    return rows.group_names(session.connection(), user_name)


def ensure_group(session: Session, name: str) -> Group:
    group = session.scalars(select(Group).where(Group.name == name)).first()
    if group is None:
        group = Group(name=name)
        session.add(group)
        session.flush()
    return group


def add_user(session: Session, name: str, *, groups: list[str] | None = None, password: str | None = None,
             display_name: str | None = None, actor: str | None = None) -> User:
    """Create the user, or update an existing one: groups are replaced only when given."""
    name = name.strip()
    if not name or len(name) > 100 or any(c.isspace() for c in name):
        raise BadInput(f"{name!r} is not a valid user name (1–100 characters, no spaces)")
    user = session.scalars(select(User).where(User.name == name)).first()
    created = user is None
    if created:
        user = User(name=name, display_name=display_name)
        session.add(user)
        session.flush()
    if password is not None:
        user.password_hash = hash_password(password)
    if display_name is not None:
        user.display_name = display_name
    if groups is not None:
        wanted = {ensure_group(session, g.strip()).id for g in groups if g.strip()}
        if not created:
            session.execute(delete(Membership).where(Membership.user_id == user.id))
        for group_id in sorted(wanted):
            session.add(Membership(user_id=user.id, group_id=group_id))
    details = {"user": name, "password_changed": password is not None}
    if groups is not None:
        details["groups"] = sorted(g.strip() for g in groups if g.strip())
    append_event(session, action="user_added" if created else "user_updated", actor=actor, details=details)
    return user


def users(session: Session) -> list[tuple[User, list[str]]]:
    rows = []
    for user in session.scalars(select(User).order_by(User.name)):
        rows.append((user, sorted(groups_of(session, user.name))))
    return rows
