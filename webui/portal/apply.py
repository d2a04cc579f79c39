"""Portal views: applying on line — the start form, drafts, the confirmation page, the receipt.

One form, three buttons, no JavaScript needed: "Check your answers" validates on the server
and shows the confirmation page (the answers ride along as hidden fields), "Save as draft"
keeps them for later, and on the confirmation page "Send" files the application (validated
again: hidden fields are as untrusted as any other input) while "Change" goes back to the form.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import abort, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _

from engine.applicants import application_form as forms
from engine.errors import BadInput, NotFound
from webui.db import engine, transaction
from webui.portal import blueprint
from webui.portal.applicant_session import current_applicant
from webui.portal.form_view import language, problem_messages, shown_fields, summary

#: Where the receipt of an application filed without an account is remembered (its reference).
RECEIPT_KEY = "portal_receipt"
#: Form fields named ``applicant_<x>`` are filled from the profile's ``<x>`` (engine.applicants.prefill).
PREFILL_PREFIX = "applicant_"


@dataclass(frozen=True)
class Procedure:
    slug: str
    key: str
    name: str
    identity_level: str


def _procedure(db_session, slug: str) -> Procedure:
    """An on-line procedure of the catalogue deployed here; 404 otherwise."""
    try:
        found = engine().catalogue_procedure(db_session, slug)
    except NotFound:
        abort(404)
    if not engine().catalogue_is_deployed(db_session, found):
        abort(404)
    english = language() == "en"
    return Procedure(found.slug, found.definition_key, found.name_en if english and found.name_en else found.name_ja,
                     found.identity_level)


def _start_form(db_session, key: str) -> forms.ApplicantForm:
    form = engine().applicant_start_form(db_session, key)
    if form is None:
        abort(404, description=_("This procedure has no on-line form."))
    return form


def _sign_in_needed(entry) -> bool:
    return entry.identity_level != "none" and current_applicant() is None


def posted_values(form: forms.ApplicantForm) -> dict[str, str]:
    """The form's inputs as posted (text), for showing the form again."""
    values = {}
    for item in form.fields:
        value = request.form.get(item.name)
        if value is not None:
            values[item.name] = value[:10_000]
    return values


def prefilled(form: forms.ApplicantForm, profile: dict) -> dict[str, str]:
    applicant = profile.get("applicant") or {}
    return {item.name: str(applicant[item.name[len(PREFILL_PREFIX):]]) for item in form.fields
            if item.name.startswith(PREFILL_PREFIX) and applicant.get(item.name[len(PREFILL_PREFIX):])}


def validated(form: forms.ApplicantForm, values: dict[str, str]) -> tuple[dict, dict[str, str]]:
    """(typed, checked data; error message per field)."""
    data, problems = forms.read_posted(form, values)
    data, more = forms.check(form, data)
    return data, problem_messages(form, problems + [p for p in more if p.field not in {q.field for q in problems}])


def _draft_id() -> int | None:
    raw = request.values.get("draft", "")
    return int(raw) if raw.isdigit() else None


def render_form(form, entry, values, errors, *, draft_id=None, status=200):
    return render_template("portal/apply/form.html", form=form, procedure=entry, procedure_name=entry.name,
                           fields=shown_fields(form, values, errors), errors=errors,
                           form_title=form.title(language()) or entry.name, draft_id=draft_id,
                           action=url_for("portal.apply", slug=entry.slug),
                           can_save_draft=current_applicant() is not None), status


@blueprint.route("/procedures/<slug>/apply", methods=["GET", "POST"])
def apply(slug: str):
    applicant = current_applicant()  # read before the transaction: it opens one of its own
    draft_id = _draft_id()
    with transaction() as db_session:
        entry = _procedure(db_session, slug)
        key = entry.key
        if _sign_in_needed(entry):
            return redirect(url_for("portal.sign_in", next=url_for("portal.apply", slug=slug)))
        form = _start_form(db_session, key)
        values = {}
        if request.method == "GET" and draft_id is not None:
            draft = _own_draft(db_session, applicant, draft_id)
            if draft.procedure_key != key:
                abort(404)
            values = dict(draft.data)
        elif request.method == "GET" and applicant is not None:
            values = prefilled(form, engine().applicant_prefill(db_session, applicant.id))
    if request.method == "GET":
        return render_form(form, entry, values, {}, draft_id=draft_id)
    values = posted_values(form)
    action = request.form.get("action")
    if action == "draft":
        return _save_draft(form, entry, key, values, draft_id)
    if action == "edit":
        return render_form(form, entry, values, {}, draft_id=draft_id)
    data, errors = validated(form, values)
    if errors:
        return render_form(form, entry, values, errors, draft_id=draft_id, status=422)
    if action == "submit":
        if entry.identity_level == "jpki":  # signed first (webui/portal/identity.py), which files it
            from webui.portal.identity import sign_page

            return sign_page(entry, form, data, draft_id)
        return _file(entry, key, data, draft_id)
    return render_template("portal/apply/confirm.html", procedure_name=entry.name,
                           form_title=form.title(language()) or entry.name, answers=summary(form, data),
                           hidden=forms.as_posted(form, data), draft_id=draft_id,
                           action=url_for("portal.apply", slug=slug))


def _own_draft(db_session, applicant, draft_id: int):
    if applicant is None:
        abort(404)
    try:
        return engine().applicant_draft(db_session, applicant.id, draft_id)
    except NotFound:
        abort(404, description=_("There is no such draft in your account."))


def _save_draft(form, entry, key: str, values: dict[str, str], draft_id: int | None):
    applicant = current_applicant()
    if applicant is None:
        abort(403)
    try:
        with transaction() as db_session:
            engine().applicant_save_draft(db_session, applicant.id, key, values, draft_id)
    except NotFound:
        abort(404, description=_("There is no such draft in your account."))
    except BadInput:
        flash(_("The draft could not be saved: delete an older draft on My Page, or shorten your answers."),
              "error")
        return render_form(form, entry, values, {}, draft_id=draft_id, status=422)
    flash(_("Your draft is saved. You can finish it from My Page."), "success")
    return redirect(url_for("portal.mypage"))


def _file(entry, key: str, data: dict, draft_id: int | None):
    applicant = current_applicant()
    with transaction() as db_session:
        if draft_id is not None:
            _own_draft(db_session, applicant, draft_id)
        result = engine().applicant_file(db_session, key, applicant.id if applicant else None, data)
        if draft_id is not None:
            engine().applicant_delete_draft(db_session, applicant.id, draft_id)
        application = result.application
        receipt = {"reference": application.reference, "procedure": entry.name,
                   "application_id": application.id if applicant else None}
        from webui.portal.identity import after_filing_url  # the pay page when the fee is due now

        after = after_filing_url(db_session, entry, application.reference)
    session[RECEIPT_KEY] = receipt
    return redirect(after)


@blueprint.get("/procedures/<slug>/apply/receipt")
def apply_receipt(slug: str):
    receipt = session.get(RECEIPT_KEY)
    if not receipt:
        return redirect(url_for("portal.procedure", slug=slug))
    return render_template("portal/apply/receipt.html", receipt=receipt)


@blueprint.post("/mypage/drafts/<int:draft_id>/delete")
def delete_draft(draft_id: int):
    applicant = current_applicant()
    if applicant is None:
        return redirect(url_for("portal.sign_in"))
    try:
        with transaction() as db_session:
            engine().applicant_delete_draft(db_session, applicant.id, draft_id)
    except NotFound:
        abort(404, description=_("There is no such draft in your account."))
    flash(_("The draft is deleted."), "success")
    return redirect(url_for("portal.mypage"))


# The returns, withdrawal and download pages register their routes when imported.
from webui.portal import after_filing  # noqa: E402,F401
