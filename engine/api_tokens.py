"""Scoped bearer tokens for integrators (docs/api.md).

A token is ``mdg_`` followed by 32 random bytes (URL-safe Base64). Only its SHA-256 is
stored, so a copy of the database grants nothing; the prefix lets people and secret
scanners recognise a Madoguchi token. A token acts as one staff user and may do only what
its scopes name; it stops working when revoked or expired.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import audit, identity
from engine.errors import BadInput, Conflict, NotFound
from engine.store.models import utcnow
from engine.store.models_api import ApiToken

TOKEN_PREFIX = "mdg_"
#: What each scope allows; a token names the scopes it needs, nothing is implied.
SCOPES: dict[str, str] = {
    "applications:read": "list applications and read one (status, data, open tasks, documents)",
    "applications:write": "start applications and withdraw them (取下げ) where the procedure allows it",
    "tasks:read": "list the open tasks of the token's user and of their groups",
    "tasks:write": "claim and complete tasks, decide on approval-route tasks, as the token's user",
    "messages:write": "send messages to waiting applications (correlation)",
    "documents:read": "read an issued document's register entry and download the sealed PDF",
    "documents:verify": "check an uploaded PDF against the register",
    "incidents:read": "list incidents",
    "incidents:write": "retry an incident's job",
}
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")
_DURATION = re.compile(r"^(\d+)([dhw])$")
_UNITS = {"h": timedelta(hours=1), "d": timedelta(days=1), "w": timedelta(weeks=1)}


class TokenRefused(Exception):
    """The bearer token is missing, unknown, revoked or expired (``reason`` says which)."""

    def __init__(self, reason: str):
        self.reason = reason
        super().__init__(reason)


@dataclass(frozen=True)
class Grant:
    """What a presented token allows: act as ``user`` within ``scopes``."""

    token_id: int
    token_name: str
    user: str
    scopes: frozenset[str]


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def parse_lifetime(text: str) -> timedelta:
    """``90d``, ``12h`` or ``2w`` → a timedelta (BadInput naming the format otherwise)."""
    match = _DURATION.match(text.strip())
    if not match or int(match.group(1)) == 0:
        raise BadInput(f"--expires {text!r}: write a positive number of hours, days or weeks, like 12h, 90d or 2w")
    return int(match.group(1)) * _UNITS[match.group(2)]


def create(session: Session, *, name: str, user: str, scopes: list[str], lifetime: timedelta | None,
           actor: str | None) -> tuple[ApiToken, str]:
    """A new token and its secret — the only time the secret exists outside the caller."""
    if not _NAME.match(name or ""):
        raise BadInput(f"token name {name!r}: use 1–100 letters, digits, '.', '_' or '-', starting with a letter or digit")
    if not scopes:
        raise BadInput("a token needs at least one scope (--scope), one of: " + ", ".join(SCOPES))
    unknown = sorted(set(scopes) - set(SCOPES))
    if unknown:
        raise BadInput(f"unknown scope(s) {', '.join(unknown)}; the scopes are: {', '.join(SCOPES)}")
    if identity.staff_user(session, user) is None:
        raise BadInput(f"user {user!r}: no such staff user — a token acts as an existing staff user")
    if session.scalar(select(ApiToken.id).where(ApiToken.name == name)) is not None:
        raise Conflict(f"a token named {name!r} exists already; choose another name or revoke that one")
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    now = utcnow()
    row = ApiToken(name=name, prefix=secret[:12], token_hash=digest(secret), user_name=user,
                   scopes=sorted(set(scopes)), created_at=now, created_by=actor,
                   expires_at=now + lifetime if lifetime else None)
    session.add(row)
    session.flush()
    audit.append_event(session, action="api_token_created", actor=actor,
                       details={"token": name, "user": user, "scopes": row.scopes,
                                "expires_at": row.expires_at.isoformat() if row.expires_at else None})
    return row, secret


def tokens(session: Session) -> list[ApiToken]:
    return list(session.scalars(select(ApiToken).order_by(ApiToken.created_at, ApiToken.id)))


def revoke(session: Session, name: str, *, actor: str | None) -> ApiToken:
    row = session.scalar(select(ApiToken).where(ApiToken.name == name))
    if row is None:
        raise NotFound(f"no token named {name!r} (see `madoguchi tokens list`)")
    if row.revoked_at is None:
        row.revoked_at, row.revoked_by = utcnow(), actor
        audit.append_event(session, action="api_token_revoked", actor=actor, details={"token": name})
    return row


def authenticate(session: Session, secret: str, *, now: datetime | None = None) -> Grant:
    """The grant of a presented secret, recording when it was last used; TokenRefused otherwise."""
    if not secret or not secret.startswith(TOKEN_PREFIX):
        raise TokenRefused("missing or malformed bearer token")
    wanted = digest(secret)
    row = session.scalar(select(ApiToken).where(ApiToken.token_hash == wanted))
    # The lookup is by hash, so timing says nothing about the secret; the compare is a guard.
    if row is None or not hmac.compare_digest(row.token_hash, wanted):
        raise TokenRefused("unknown token")
    now = now or utcnow()
    if row.revoked_at is not None:
        raise TokenRefused("the token was revoked")
    if row.expires_at is not None and row.expires_at <= now:
        raise TokenRefused("the token has expired")
    row.last_used_at = now
    return Grant(row.id, row.name, row.user_name, frozenset(row.scopes))


def status_of(row: ApiToken, now: datetime | None = None) -> str:
    now = now or utcnow()
    if row.revoked_at is not None:
        return "revoked"
    if row.expires_at is not None and row.expires_at <= now:
        return "expired"
    return "active"


def token_dict(row: ApiToken) -> dict:
    return {"name": row.name, "prefix": row.prefix, "user": row.user_name, "scopes": list(row.scopes),
            "status": status_of(row), "created_at": row.created_at.isoformat(), "created_by": row.created_by,
            "expires_at": row.expires_at.isoformat() if row.expires_at else None,
            "revoked_at": row.revoked_at.isoformat() if row.revoked_at else None,
            "last_used_at": row.last_used_at.isoformat() if row.last_used_at else None}
