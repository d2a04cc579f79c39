"""Applicant accounts: register, confirm the address, sign in, reset the password, edit the profile.

Nothing here says whether an address is registered to someone who has not proved they own
it: registering a taken address and asking to reset an unknown one look the same from
outside (the owner of a taken address gets a mail saying so instead).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, fields
from datetime import date, datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from engine.applicants import tokens
from engine.applicants.profile import (
    LANGUAGES,
    PROFILE_FIELDS,
    FieldProblem,
    ProfileInvalid,
    clean_profile,
    email_problem,
    normalise_email,
    password_problem,
)
from engine.audit import append_event
from engine.errors import NotFound
from engine.identity import check_password, hash_password
from engine.store.models import utcnow
from engine.store.models_applicants import Applicant


@functools.cache
def _dummy_hash() -> str:
    """Verified when no account has the address, so a wrong address costs as long as a wrong password."""
    return hash_password("no such applicant")


#: ``send(session, recipient, template, data, language)``: queue one mail (Engine.notify).
MailSender = Callable[[Session, str, str, dict, str], None]
#: ``link(token)``: the absolute URL of a one-time link (the portal knows its routes).
LinkMaker = Callable[[str], str]


@dataclass(frozen=True)
class ApplicantAccount:
    """What the portal and the command line see of an account (never the password hash)."""

    id: int
    email: str
    kind: str
    verified: bool
    language: str
    session_version: int
    name: str
    name_kana: str | None
    birth_date: date | None
    postcode: str | None
    address: str | None
    phone: str | None
    company_name: str | None
    company_name_kana: str | None
    corporate_number: str | None
    representative: str | None
    created_at: datetime

    @property
    def display_name(self) -> str:
        return self.company_name if self.kind == "business" and self.company_name else self.name

    def as_dict(self) -> dict:
        values = {f.name: getattr(self, f.name) for f in fields(self)}
        values["birth_date"] = self.birth_date.isoformat() if self.birth_date else None
        values["created_at"] = self.created_at.isoformat(timespec="seconds")
        return values


def account_of(row: Applicant) -> ApplicantAccount:
    return ApplicantAccount(
        id=row.id, email=row.email, kind=row.kind, verified=row.email_verified_at is not None,
        language=row.language, session_version=row.session_version, name=row.name, name_kana=row.name_kana,
        birth_date=row.birth_date, postcode=row.postcode, address=row.address, phone=row.phone,
        company_name=row.company_name, company_name_kana=row.company_name_kana,
        corporate_number=row.corporate_number, representative=row.representative, created_at=row.created_at)


def _by_email(session: Session, email: str) -> Applicant | None:
    return session.scalars(select(Applicant).where(Applicant.email == normalise_email(email))).first()


def get(session: Session, applicant_id: int) -> Applicant:
    row = session.get(Applicant, applicant_id)
    if row is None:
        raise NotFound(f"no applicant account {applicant_id}")
    return row


def create(session: Session, *, email: str, password: str, kind: str, profile: dict, language: str = "ja",
           verified: bool = False, actor: str | None = None) -> Applicant:
    """A new account; raises ProfileInvalid naming every bad field (a taken address included)."""
    email = normalise_email(email)
    problems = [p for p in (email_problem(email), password_problem(password)) if p]
    try:
        clean = clean_profile(kind, profile)
    except ProfileInvalid as exc:
        problems += exc.problems
        clean = {}
    if language not in LANGUAGES:
        problems.append(FieldProblem("language", "invalid_language", f"language must be one of {', '.join(LANGUAGES)}"))
    if problems:
        raise ProfileInvalid(problems)
    if _by_email(session, email) is not None:
        raise ProfileInvalid([FieldProblem("email", "email_taken", f"{email} already has an account")])
    now = utcnow()
    row = Applicant(email=email, password_hash=hash_password(password), kind=kind, language=language,
                    email_verified_at=now if verified else None, session_version=1, created_at=now,
                    updated_at=now, **clean)
    session.add(row)
    session.flush()
    append_event(session, action="applicant_registered", actor=actor or f"applicant:{row.id}",
                 details={"applicant_id": row.id, "kind": kind, "verified": verified})
    return row


def register(session: Session, *, email: str, password: str, kind: str, profile: dict, language: str,
             send: MailSender, verify_link: LinkMaker) -> None:
    """Self-registration from the portal: the account waits for its address to be confirmed.

    A taken address raises nothing: its owner gets a mail saying someone tried to register it
    (with the way to reset the password), and the caller shows the same "check your mail" page.
    """
    existing = _by_email(session, email)
    if existing is not None and not email_problem(normalise_email(email)):
        # Check the rest of the form all the same, so the answer does not depend on the address.
        problems = [p for p in (password_problem(password),) if p]
        try:
            clean_profile(kind, profile)
        except ProfileInvalid as exc:
            problems += exc.problems
        if problems:
            raise ProfileInvalid(problems)
        send(session, existing.email, "account_exists", {"applicant_name": existing.name}, existing.language)
        return
    row = create(session, email=email, password=password, kind=kind, profile=profile, language=language)
    send_verification(session, row, send=send, verify_link=verify_link)


def send_verification(session: Session, row: Applicant, *, send: MailSender, verify_link: LinkMaker) -> None:
    token = tokens.issue(session, row.id, tokens.VERIFY_EMAIL)
    send(session, row.email, "account_verification",
         {"applicant_name": row.name, "link": verify_link(token),
          "valid_hours": int(tokens.LIFETIMES[tokens.VERIFY_EMAIL].total_seconds() // 3600)}, row.language)


def verify_email(session: Session, token: str) -> Applicant | None:
    """Confirm the address a verification link was sent to; None for a bad, used or old link."""
    applicant_id = tokens.consume(session, token, tokens.VERIFY_EMAIL)
    if applicant_id is None:
        return None
    row = get(session, applicant_id)
    if row.email_verified_at is None:
        row.email_verified_at = utcnow()
        append_event(session, action="applicant_email_verified", actor=f"applicant:{row.id}",
                     details={"applicant_id": row.id})
    return row


def authenticate(session: Session, email: str, password: str) -> Applicant | None:
    """The account if ``password`` is its password (verified or not); None otherwise."""
    row = _by_email(session, email)
    if row is None:
        check_password(_dummy_hash(), password)
        return None
    if not check_password(row.password_hash, password):
        return None
    row.last_signed_in_at = utcnow()
    return row


def request_password_reset(session: Session, email: str, *, send: MailSender, reset_link: LinkMaker) -> None:
    """Mail a reset link if an account has the address; nothing otherwise (and no error)."""
    row = _by_email(session, email)
    if row is None:
        return
    token = tokens.issue(session, row.id, tokens.RESET_PASSWORD)
    send(session, row.email, "password_reset",
         {"applicant_name": row.name, "link": reset_link(token),
          "valid_minutes": int(tokens.LIFETIMES[tokens.RESET_PASSWORD].total_seconds() // 60)}, row.language)


def reset_link_is_usable(session: Session, token: str) -> bool:
    return tokens.peek(session, token, tokens.RESET_PASSWORD) is not None


def reset_password(session: Session, token: str, password: str) -> Applicant | None:
    """Set a new password through a reset link; None for a bad, used or old link.

    Every earlier session of the account ends; the address counts as confirmed (the link
    reached it)."""
    problem = password_problem(password)
    if problem:
        raise ProfileInvalid([problem])
    applicant_id = tokens.consume(session, token, tokens.RESET_PASSWORD)
    if applicant_id is None:
        return None
    row = get(session, applicant_id)
    _set_password(session, row, password)
    if row.email_verified_at is None:
        row.email_verified_at = utcnow()
    append_event(session, action="applicant_password_reset", actor=f"applicant:{row.id}",
                 details={"applicant_id": row.id})
    return row


def change_password(session: Session, applicant_id: int, current: str, new: str) -> Applicant:
    row = get(session, applicant_id)
    problems = []
    if not check_password(row.password_hash, current):
        problems.append(FieldProblem("current_password", "wrong_password", "the current password is not right"))
    problem = password_problem(new, "new_password")
    if problem:
        problems.append(problem)
    if problems:
        raise ProfileInvalid(problems)
    _set_password(session, row, new)
    append_event(session, action="applicant_password_changed", actor=f"applicant:{row.id}",
                 details={"applicant_id": row.id})
    return row


def _set_password(session: Session, row: Applicant, password: str) -> None:
    row.password_hash = hash_password(password)
    row.updated_at = utcnow()
    # Ends every session signed in with the old password (they carry the old version).
    session.execute(update(Applicant).where(Applicant.id == row.id)
                    .values(session_version=Applicant.session_version + 1))
    session.refresh(row)


def update_profile(session: Session, applicant_id: int, values: dict, *, language: str | None = None) -> Applicant:
    """Replace the profile fields (the kind of account and the address stay as they are)."""
    row = get(session, applicant_id)
    clean = clean_profile(row.kind, {field: values.get(field) for field in PROFILE_FIELDS})
    if language is not None:
        if language not in LANGUAGES:
            raise ProfileInvalid([FieldProblem("language", "invalid_language", "choose Japanese or English")])
        row.language = language
    changed = sorted(field for field, value in clean.items() if getattr(row, field) != value)
    for field, value in clean.items():
        setattr(row, field, value)
    row.updated_at = utcnow()
    if changed:  # which fields, not their values: the audit trail is no copy of personal data
        append_event(session, action="applicant_profile_changed", actor=f"applicant:{row.id}",
                     details={"applicant_id": row.id, "changed": changed})
    return row


def all_accounts(session: Session, *, limit: int = 100, offset: int = 0) -> list[Applicant]:
    return list(session.scalars(select(Applicant).order_by(Applicant.id).limit(limit).offset(offset)))

