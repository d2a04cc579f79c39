"""One-time links sent by mail: unguessable, expiring, single-use.

A link carries 32 random bytes. The database keeps only their SHA-256, so a copy of the
database (a backup, a leak) holds no link that works; expiry and single use are enforced by
the row, and taking a link up is one guarded UPDATE, so two clicks at once cannot both succeed.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from engine.store.models import utcnow
from engine.store.models_applicants import ApplicantToken

VERIFY_EMAIL = "verify_email"
RESET_PASSWORD = "reset_password"
#: How long each kind of link works.
LIFETIMES = {VERIFY_EMAIL: timedelta(hours=24), RESET_PASSWORD: timedelta(hours=1)}


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def issue(session: Session, applicant_id: int, purpose: str, *, now: datetime | None = None) -> str:
    """A new link secret for ``purpose``; earlier unused links of the same purpose stop working."""
    now = now or utcnow()
    session.execute(delete(ApplicantToken).where(
        ApplicantToken.applicant_id == applicant_id, ApplicantToken.purpose == purpose,
        ApplicantToken.used_at.is_(None)))
    token = secrets.token_urlsafe(32)
    session.add(ApplicantToken(applicant_id=applicant_id, purpose=purpose, token_hash=_digest(token),
                               created_at=now, expires_at=now + LIFETIMES[purpose]))
    session.flush()
    return token


def peek(session: Session, token: str, purpose: str, *, now: datetime | None = None) -> int | None:
    """The applicant a still-usable link belongs to, without using it up (to show a form)."""
    row = _usable(session, token, purpose, now or utcnow())
    return row.applicant_id if row is not None else None


def consume(session: Session, token: str, purpose: str, *, now: datetime | None = None) -> int | None:
    """Use the link up; the applicant's id, or None if it is unknown, expired or already used."""
    now = now or utcnow()
    row = _usable(session, token, purpose, now)
    if row is None:
        return None
    taken = session.execute(update(ApplicantToken).where(
        ApplicantToken.id == row.id, ApplicantToken.used_at.is_(None)).values(used_at=now))
    return row.applicant_id if taken.rowcount == 1 else None


def _usable(session: Session, token: str, purpose: str, now: datetime) -> ApplicantToken | None:
    if not token or len(token) > 100:
        return None
    row = session.scalars(select(ApplicantToken).where(ApplicantToken.token_hash == _digest(token))).first()
    if row is None or row.purpose != purpose or row.used_at is not None or row.expires_at <= now:
        return None
    return row
