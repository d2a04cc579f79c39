"""Portal views: applying on line — the start form, drafts, the confirmation page, the receipt.

One form, three buttons, no JavaScript needed: "Check your answers" validates on the server
and shows the confirmation page (the answers ride along as hidden fields), "Save as draft"
keeps them for later, and on the confirmation page "Send" files the application (validated
again: hidden fields are as untrusted as any other input) while "Change" goes back to the form.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from flask import abort, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _

from engine.applicants import application_form as forms
from engine.errors import BadInput, NotFound
from webui.db import engine, transaction
from webui.portal import MAX_ID, blueprint
from webui.portal.applicant_session import current_applicant
from webui.portal.form_view import language, problem_messages, shown_fields, summary
from webui.portal.uploads import accept_attachments, attachment_from_form

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


class PostedValues(dict):
    """The posted inputs (text), with the refusals of attached files beside them: a refused file
    is reported by the field, not by the schema, so :func:`validated` adds these."""

    attachment_errors: dict[str, str]


def posted_values(form: forms.ApplicantForm, procedure_key: str | None = None) -> PostedValues:
    """The form's inputs as posted (text), for showing the form again. An attachment field's
    value is its reference as JSON: of the file just sent (or uploaded by the script), else the
    one the page carried, checked to be the applicant's own upload."""
    values, errors = PostedValues(), {}
    for item in form.fields:
        if forms.is_attachment(item):
            reference, error = _posted_attachment(item.name, procedure_key)
            if error:
                errors[item.name] = error
            if reference is not None:
                values[item.name] = json.dumps(reference, ensure_ascii=False, sort_keys=True)
            continue
        value = request.form.get(item.name)
        if value is not None:
            values[item.name] = value[:10_000]
    values.attachment_errors = errors
    return values


def _posted_attachment(name: str, procedure_key: str | None) -> tuple[dict | None, str | None]:
    """(reference, refusal) of an attachment field. A kept file (a draft's, the confirmation
    page's, the application under correction) comes back as its JSON reference in the hidden
    input; anything else there is an upload id or a new file (webui.portal.uploads)."""
    sent = request.files.get(f"{name}.file")
    kept = (request.form.get(name) or "").strip()
    if (sent is None or not sent.filename) and kept.startswith("{"):
        applicant = current_applicant()
        try:
            reference = json.loads(kept)
            if applicant is None or not isinstance(reference, dict):
                raise BadInput("not an attachment reference")
            with transaction() as db_session:
                return engine().attach_uploads(db_session, reference, f"applicant:{applicant.id}"), None
        except (ValueError, BadInput):
            return None, _("The attached file could not be found. Choose it again.")
    found = attachment_from_form(name, procedure_key)
    return found.reference, found.error


def prefilled(form: forms.ApplicantForm, profile: dict) -> dict[str, str]:
    applicant = profile.get("applicant") or {}
    return {item.name: str(applicant[item.name[len(PREFILL_PREFIX):]]) for item in form.fields
            if item.name.startswith(PREFILL_PREFIX) and applicant.get(item.name[len(PREFILL_PREFIX):])}


def validated(form: forms.ApplicantForm, values: dict[str, str]) -> tuple[dict, dict[str, str]]:
    """(typed, checked data; error message per field)."""
    data, problems = forms.read_posted(form, values)
    data, more = forms.check(form, data)
    refused = getattr(values, "attachment_errors", {})
    messages = problem_messages(form, problems + [p for p in more if p.field not in {q.field for q in problems}])
    return data, {**messages, **refused}


def _draft_id() -> int | None:
    raw = request.values.get("draft", "")
    if not raw:
        return None
    # Only ASCII digits of a 32-bit id can name a draft: "²" is a digit to isdigit() but not to
    # int(), and a larger number overflows the database's integer.
    if not (raw.isascii() and raw.isdigit() and int(raw) <= MAX_ID):
        abort(404, description=_("There is no such draft in your account."))
    return int(raw)


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
    values = posted_values(form, key)
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


def _key_of_slug(db_session, url_values: dict) -> str | None:
    return engine().catalogue_procedure(db_session, url_values.get("slug", "")).definition_key


# Files may travel with these forms when JavaScript is off: their bodies may be as large as the
# procedure's limit. A correction is checked against the default limit.
accept_attachments("portal.apply", _key_of_slug)
accept_attachments("portal.correct_application")


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


@blueprint.post(f"/mypage/drafts/<int(max={MAX_ID}):draft_id>/delete")
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
