"""Who the applicant is: the portal's own sign-in, apart from staff sign-in.

Applicants and staff are different people and never share a session. The applicant's id
lives under its own key (``applicant``), which staff pages never read, as staff pages'
``user`` key is never read here; signing in as either one starts a new session, so the
other one's sign-in ends. The account's ``session_version`` is kept beside the id: a
password change or reset bumps it, and every session signed in before then ends.
"""

from __future__ import annotations

from functools import wraps

from flask import g, redirect, request, session, url_for

from webui.db import engine, transaction

SESSION_KEY = "applicant"
VERSION_KEY = "applicant_version"


def current_applicant():
    """The signed-in applicant's account (``ApplicantAccount``), or None; loaded once per request."""
    if "applicant" not in g:
        g.applicant = None
        applicant_id = session.get(SESSION_KEY)
        if applicant_id is not None:
            with transaction() as db_session:
                account = engine().applicant(db_session, int(applicant_id))
            if account is None or account.session_version != session.get(VERSION_KEY):
                end_applicant_session()
            else:
                g.applicant = account
    return g.applicant


def start_applicant_session(account) -> None:
    """A new session (no session fixation, no staff sign-in carried over) for the applicant."""
    language = session.get("lang")
    session.clear()
    session.permanent = True
    session[SESSION_KEY] = account.id
    session[VERSION_KEY] = account.session_version
    session["lang"] = language or account.language
    g.applicant = account


def end_applicant_session() -> None:
    language = session.get("lang")
    session.clear()
    if language:
        session["lang"] = language
    g.applicant = None


def applicant_required(view):
    @wraps(view)
    def wrapper(*args, **kwargs):
        if current_applicant() is None:
            return redirect(url_for("portal.sign_in", next=request.full_path.rstrip("?")))
        return view(*args, **kwargs)

    return wrapper


def safe_next(target: str | None) -> str:
    """Only back to a page of this site, and never into the staff areas."""
    if (target and target.startswith("/") and not target.startswith("//") and "\\" not in target
            and not target.startswith(("/office", "/admin", "/reports", "/sign-in"))):
        return target
    return url_for("portal.mypage")
