"""Portal views: applicant accounts — register, confirm the address, sign in and out, reset the
password, edit the profile, and My Page (my applications and their public status).

Staff sign-in is ``/sign-in``; applicants sign in at ``/account/sign-in`` into a session of
their own (see :mod:`webui.portal.applicant_session`).
"""

from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import get_locale
from flask_babel import gettext as _

from engine.applicants.profile import PROFILE_FIELDS, ProfileInvalid
from engine.errors import NotFound
from webui.db import engine, transaction
from webui.portal import MAX_ID, blueprint
from webui.portal.account_messages import field_label, problem_text, public_status_text
from webui.portal.applicant_session import (
    SESSION_KEY,
    applicant_required,
    current_applicant,
    end_applicant_session,
    safe_next,
    start_applicant_session,
)

PAGE_SIZE = 20


def _verify_link(token: str) -> str:
    return url_for("portal.verify_email", token=token, _external=True)


def _reset_link(token: str) -> str:
    return url_for("portal.reset_password", token=token, _external=True)


def _errors(problem: ProfileInvalid) -> dict[str, str]:
    return {field: problem_text(code) for field, code in problem.by_field().items()}


def _throttled(*keys: str) -> bool:
    return not current_app.extensions["madoguchi.throttle"].allow(*keys)


# -- register and confirm ------------------------------------------------------------------------

@blueprint.route("/account/register", methods=["GET", "POST"])
def register():
    if request.method == "GET":
        return render_template("portal/account/register.html", values={"kind": "individual"}, errors={})
    form = request.form
    values = {field: form.get(field, "") for field in ("email", "kind", *PROFILE_FIELDS)}
    if form.get("password", "") != form.get("password_confirm", ""):
        return render_template("portal/account/register.html", values=values,
                               errors={"password_confirm": problem_text("passwords_differ")}), 422
    if _throttled(f"register-addr:{request.remote_addr}"):
        flash(_("Too many attempts. Wait a minute and try again."), "error")
        return render_template("portal/account/register.html", values=values, errors={}), 429
    try:
        with transaction() as db_session:
            engine().register_applicant(
                db_session, email=values["email"], password=form.get("password", ""), kind=values["kind"],
                profile={field: values[field] for field in PROFILE_FIELDS}, language=str(get_locale()),
                verify_link=_verify_link)
    except ProfileInvalid as problem:
        return render_template("portal/account/register.html", values=values, errors=_errors(problem)), 422
    return render_template("portal/account/check_mail.html", email=values["email"].strip().lower(),
                           reason="register")


@blueprint.get("/account/verify/<token>")
def verify_email(token: str):
    with transaction() as db_session:
        account = engine().verify_applicant_email(db_session, token)
    if account is None:
        return render_template("portal/account/link_unusable.html", purpose="verify"), 410
    flash(_("Your e-mail address is confirmed. Sign in to continue."), "info")
    return redirect(url_for("portal.sign_in"))


# -- sign in and out -----------------------------------------------------------------------------

@blueprint.route("/account/sign-in", methods=["GET", "POST"])
def sign_in():
    next_page = request.values.get("next", "")
    if request.method == "GET":
        if current_applicant() is not None:
            return redirect(safe_next(next_page))
        return render_template("portal/account/sign_in.html", next=next_page, email="")
    email = request.form.get("email", "").strip().lower()
    password = request.form.get("password", "")
    throttle = current_app.extensions["madoguchi.throttle"]
    keys = (f"applicant-addr:{request.remote_addr}", f"applicant:{email}")
    if throttle.blocked(*keys):
        flash(_("Too many sign-in attempts. Wait a minute and try again."), "error")
        return render_template("portal/account/sign_in.html", next=next_page, email=email), 429
    with transaction() as db_session:
        account = engine().authenticate_applicant(db_session, email, password) if email and password else None
        if account is not None and not account.verified:
            engine().resend_verification(db_session, account.id, verify_link=_verify_link)
    if account is None:
        throttle.failed(*keys)  # only failures count: many residents may share one address
        flash(_("The e-mail address or the password is not right."), "error")
        return render_template("portal/account/sign_in.html", next=next_page, email=email), 401
    if not account.verified:
        return render_template("portal/account/check_mail.html", email=account.email, reason="unverified"), 403
    start_applicant_session(account)
    return redirect(safe_next(next_page))


@blueprint.post("/account/sign-out")
def sign_out():
    end_applicant_session()
    flash(_("You have signed out."), "info")
    return redirect(url_for("portal.sign_in"))


# -- password reset ------------------------------------------------------------------------------

@blueprint.route("/account/reset", methods=["GET", "POST"])
def request_reset():
    if request.method == "GET":
        return render_template("portal/account/reset_request.html", email="", errors={})
    email = request.form.get("email", "").strip().lower()
    if not email:
        return render_template("portal/account/reset_request.html", email=email,
                               errors={"email": problem_text("required")}), 422
    if _throttled(f"reset-addr:{request.remote_addr}", f"reset:{email}"):
        flash(_("Too many attempts. Wait a minute and try again."), "error")
        return render_template("portal/account/reset_request.html", email=email, errors={}), 429
    with transaction() as db_session:
        engine().request_applicant_password_reset(db_session, email, reset_link=_reset_link)
    # The same answer whether or not the address has an account.
    return render_template("portal/account/check_mail.html", email=email, reason="reset")


@blueprint.route("/account/reset/<token>", methods=["GET", "POST"])
def reset_password(token: str):
    if request.method == "GET":
        with transaction() as db_session:
            usable = engine().applicant_reset_link_is_usable(db_session, token)
        if not usable:
            return render_template("portal/account/link_unusable.html", purpose="reset"), 410
        return render_template("portal/account/reset_form.html", token=token, errors={})
    password = request.form.get("password", "")
    if password != request.form.get("password_confirm", ""):
        return render_template("portal/account/reset_form.html", token=token,
                               errors={"password_confirm": problem_text("passwords_differ")}), 422
    try:
        with transaction() as db_session:
            account = engine().reset_applicant_password(db_session, token, password)
    except ProfileInvalid as problem:
        return render_template("portal/account/reset_form.html", token=token, errors=_errors(problem)), 422
    if account is None:
        return render_template("portal/account/link_unusable.html", purpose="reset"), 410
    end_applicant_session()
    flash(_("Your new password is set. Sign in with it."), "info")
    return redirect(url_for("portal.sign_in"))


# -- profile ---------------------------------------------------------------------------------------

@blueprint.route("/account/profile", methods=["GET", "POST"])
@applicant_required
def profile():
    account = current_applicant()
    if request.method == "GET":
        values = {field: getattr(account, field) or "" for field in PROFILE_FIELDS}
        values["language"] = account.language
        return render_template("portal/account/profile.html", account=account, values=values, errors={})
    values = {field: request.form.get(field, "") for field in PROFILE_FIELDS}
    values["language"] = request.form.get("language", account.language)
    try:
        with transaction() as db_session:
            engine().update_applicant_profile(db_session, account.id, values, language=values["language"])
    except ProfileInvalid as problem:
        return render_template("portal/account/profile.html", account=account, values=values,
                               errors=_errors(problem)), 422
    flash(_("Your profile is saved."), "info")
    return redirect(url_for("portal.profile"))


@blueprint.route("/account/password", methods=["GET", "POST"])
@applicant_required
def change_password():
    account = current_applicant()
    if request.method == "GET":
        return render_template("portal/account/password.html", errors={})
    new = request.form.get("new_password", "")
    if new != request.form.get("password_confirm", ""):
        return render_template("portal/account/password.html",
                               errors={"password_confirm": problem_text("passwords_differ")}), 422
    throttle = current_app.extensions["madoguchi.throttle"]
    keys = (f"applicant-addr:{request.remote_addr}", f"applicant:{account.email}")
    if throttle.blocked(*keys):
        flash(_("Too many attempts. Wait a minute and try again."), "error")
        return render_template("portal/account/password.html", errors={}), 429
    try:
        with transaction() as db_session:
            changed = engine().change_applicant_password(db_session, account.id,
                                                         request.form.get("current_password", ""), new)
    except ProfileInvalid as problem:
        if "current_password" in problem.by_field():
            throttle.failed(*keys)  # a wrong current password is a guess; a weak new one is not
        return render_template("portal/account/password.html", errors=_errors(problem)), 422
    start_applicant_session(changed)  # this session goes on; every other one has ended
    flash(_("Your new password is set."), "info")
    return redirect(url_for("portal.profile"))


# -- My Page ---------------------------------------------------------------------------------------

@blueprint.get("/mypage")
@applicant_required
def mypage():
    account = current_applicant()
    page = max(request.args.get("page", 1, type=int) or 1, 1)
    with transaction() as db_session:
        total = engine().applicant_application_count(db_session, account.id)
        filed = engine().applicant_applications(db_session, account.id, limit=PAGE_SIZE,
                                                offset=(page - 1) * PAGE_SIZE)
    return render_template("portal/account/mypage.html", account=account, filed=filed, total=total, page=page,
                           pages=max((total + PAGE_SIZE - 1) // PAGE_SIZE, 1))


@blueprint.get(f"/mypage/applications/<int(max={MAX_ID}):application_id>")
@applicant_required
def my_application(application_id: int):
    try:
        with transaction() as db_session:
            filed = engine().applicant_application(db_session, current_applicant().id, application_id)
    except NotFound:
        # Someone else's application answers like one that does not exist: ids are not confirmed.
        abort(404, description=_("There is no such application in your account."))
    return render_template("portal/account/application.html", filed=filed)


@blueprint.after_request
def _no_store_for_applicants(response):
    if session.get(SESSION_KEY) and "Cache-Control" not in response.headers:
        response.headers["Cache-Control"] = "no-store"  # pages with personal data
    return response


@blueprint.app_context_processor
def _applicant_in_templates():
    return {"current_applicant": current_applicant, "public_status_text": public_status_text,
            "field_label": field_label}
