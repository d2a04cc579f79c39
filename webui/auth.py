"""Staff sign-in with a password (argon2), sessions, sign-out."""

from __future__ import annotations

from functools import wraps

from flask import Blueprint, current_app, flash, g, redirect, render_template, request, session, url_for
from flask_babel import gettext as _

from webui.db import engine, transaction

blueprint = Blueprint("auth", __name__)


def current_user():
    """The signed-in staff user (name, display name, groups), or None; loaded once per request."""
    if "user" not in g:
        name = session.get("user")
        g.user = None
        if name:
            with transaction() as db_session:
                g.user = engine().staff_user(db_session, name)
            if g.user is None:  # the account was removed: the session ends
                session.clear()
    return g.user


def login_required(view):
    @wraps(view)
    def wrapper(*args, **kwargs):
        if current_user() is None:
            return redirect(url_for("auth.sign_in", next=request.full_path.rstrip("?")))
        return view(*args, **kwargs)

    return wrapper


def _safe_next(target: str | None) -> str:
    if target and target.startswith("/") and not target.startswith("//"):
        return target
    return url_for("office.tasks")


@blueprint.route("/sign-in", methods=["GET", "POST"])
def sign_in():
    if request.method == "GET":
        return render_template("sign_in.html", next=request.args.get("next", ""))
    name = request.form.get("name", "").strip()
    password = request.form.get("password", "")
    throttle = current_app.extensions["madoguchi.throttle"]
    keys = (f"addr:{request.remote_addr}", f"user:{name}")
    if throttle.blocked(*keys):
        flash(_("Too many sign-in attempts. Wait a minute and try again."), "error")
        return render_template("sign_in.html", next=request.form.get("next", ""), name=name), 429
    with transaction() as db_session:
        user = engine().authenticate(db_session, name, password) if name and password else None
    if user is None:
        throttle.failed(*keys)  # only failures count: a busy office shares one address
        flash(_("The user name or the password is not right."), "error")
        return render_template("sign_in.html", next=request.form.get("next", ""), name=name), 401
    start_session(user.name, via="password")
    return redirect(_safe_next(request.form.get("next")))


def start_session(user_name: str, *, via: str) -> None:
    """A new session for a user who just proved who they are: nothing of the earlier cookie
    survives (no session fixation) but the chosen language."""
    language = session.get("lang")
    session.clear()
    session.permanent = True
    session["user"] = user_name
    session["signed_in_via"] = via
    if language:
        session["lang"] = language


@blueprint.post("/sign-out")
def sign_out():
    language = session.get("lang")
    session.clear()
    if language:
        session["lang"] = language
    flash(_("You have signed out."), "info")
    return redirect(url_for("auth.sign_in"))


@blueprint.app_context_processor
def _user_in_templates():
    return {"current_user": current_user}
