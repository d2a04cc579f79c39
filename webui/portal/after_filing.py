"""Portal views after filing: correcting a returned application (差し戻し), withdrawing it
(取下げ), downloading the documents issued for it — all on the applicant's own applications
only; anyone else's answers 404, like one that does not exist.

My Page and the application page show what these pages need through ``portal_drafts`` and
``portal_application_extras`` (template functions), so their own views stay as they are.
"""

from __future__ import annotations

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from engine.applicants import application_form as forms
from engine.errors import BadInput, Conflict, NotFound
from webui.db import engine, transaction
from webui.portal import MAX_ID, blueprint
from webui.portal.applicant_session import applicant_required, current_applicant
from webui.portal.apply import posted_values, validated
from webui.portal.form_view import field_label, language, shown_fields, shown_value, summary

MAX_REASON = 2000


def _not_yours():
    abort(404, description=_("There is no such application in your account."))


def _correction(db_session, application_id: int):
    """(the open correction, its form) of the applicant's application; 404 when there is none."""
    try:
        correction = engine().applicant_correction(db_session, current_applicant().id, application_id)
    except NotFound:
        _not_yours()
    if correction is None:
        abort(404, description=_("This application is not waiting for a correction from you."))
    form = engine().applicant_task_form(db_session, application_id, correction.form_key)
    if form is None:
        abort(404, description=_("This application is not waiting for a correction from you."))
    return correction, form


def _render_correction(filed, correction, form, values, errors, status=200):
    return render_template("portal/apply/form.html", form=form, procedure_name=filed.title(language()),
                           fields=shown_fields(form, values, errors), errors=errors,
                           form_title=_("Correct your application %(reference)s", reference=filed.reference),
                           correction=correction, draft_id=None, can_save_draft=False,
                           action=url_for("portal.correct_application", application_id=filed.id)), status


@blueprint.route(f"/mypage/applications/<int(max={MAX_ID}):application_id>/correct", methods=["GET", "POST"])
@applicant_required
def correct_application(application_id: int):
    applicant_id = current_applicant().id
    with transaction() as db_session:
        correction, form = _correction(db_session, application_id)
        filed = engine().applicant_application(db_session, applicant_id, application_id)
    if request.method == "GET":
        return _render_correction(filed, correction, form, forms.as_posted(form, correction.data), {})
    values = posted_values(form)
    action = request.form.get("action")
    if action == "edit":
        return _render_correction(filed, correction, form, values, {})
    data, errors = validated(form, values)
    if errors:
        return _render_correction(filed, correction, form, values, errors, 422)
    if action != "submit":
        return render_template("portal/apply/confirm.html", procedure_name=filed.title(language()),
                               form_title=_("Correct your application %(reference)s", reference=filed.reference),
                               answers=summary(form, data), hidden=forms.as_posted(form, data), draft_id=None,
                               action=url_for("portal.correct_application", application_id=application_id),
                               changes=_changes(form, correction.data, data))
    # What the office already holds beyond this form (the profile sent along) stays as it is.
    kept = {k: v for k, v in correction.data.items() if form.field(k) is None and not str(k).startswith("_")
            and k in ("applicant", "language")}
    try:
        with transaction() as db_session:
            engine().applicant_resubmit(db_session, applicant_id, application_id, {**kept, **data},
                                        [f.name for f in form.fields])
    except Conflict:
        abort(409, description=_("This application is no longer waiting for a correction: reload My Page."))
    flash(_("Your corrected application is sent. The office will look at it again."), "success")
    return redirect(url_for("portal.my_application", application_id=application_id))


def _changes(form, before: dict, after: dict) -> list[tuple[str, str, str]]:
    return [(field_label(form, f.name), shown_value(form, f.name, before.get(f.name)),
             shown_value(form, f.name, after.get(f.name)))
            for f in form.fields if before.get(f.name) != after.get(f.name)]


@blueprint.route(f"/mypage/applications/<int(max={MAX_ID}):application_id>/withdraw", methods=["GET", "POST"])
@applicant_required
def withdraw_application(application_id: int):
    applicant_id = current_applicant().id
    with transaction() as db_session:
        try:
            filed = engine().applicant_application(db_session, applicant_id, application_id)
            allowed = engine().applicant_can_withdraw(db_session, applicant_id, application_id)
        except NotFound:
            _not_yours()
    if not allowed:
        abort(404, description=_("This application cannot be withdrawn on line. Please contact the office."))
    error = ""
    if request.method == "POST":
        reason = request.form.get("reason", "").strip()
        if not reason:
            error = _("Enter why you withdraw the application.")
        elif len(reason) > MAX_REASON:
            error = _("The reason can be at most %(limit)s characters.", limit=MAX_REASON)
        else:
            try:
                with transaction() as db_session:
                    engine().applicant_withdraw(db_session, applicant_id, application_id, reason)
            except (Conflict, BadInput):
                abort(409, description=_("This application can no longer be withdrawn: reload My Page."))
            flash(_("Your application is withdrawn."), "success")
            return redirect(url_for("portal.my_application", application_id=application_id))
    return render_template("portal/apply/withdraw.html", filed=filed, error=error,
                           reason=request.form.get("reason", "")), (422 if error else 200)


@blueprint.get("/mypage/documents/<public_id>")
@applicant_required
def download_document(public_id: str):
    try:
        with transaction() as db_session:
            document, stream = engine().applicant_download_document(db_session, current_applicant().id, public_id)
            content = stream.read()
            stream.close()
            name = f"{document.number or document.public_id}.pdf"
    except (NotFound, Conflict):
        abort(404, description=_("There is no such document in your account."))
    response = Response(content, mimetype="application/pdf")
    response.headers["Content-Disposition"] = _attachment(name)
    return response


def _attachment(name: str) -> str:
    from urllib.parse import quote

    return f"attachment; filename=\"document.pdf\"; filename*=UTF-8''{quote(name)}"


@blueprint.app_context_processor
def _portal_form_helpers():
    return {"portal_drafts": _drafts, "portal_application_extras": _extras, "portal_correction": _correction_of}


def _correction_of(application_id: int):
    with transaction() as db_session:
        return engine().applicant_correction(db_session, current_applicant().id, application_id)


def _drafts() -> list[dict]:
    """My Page: the signed-in applicant's drafts, with the procedure's name and where to go on."""
    applicant = current_applicant()
    if applicant is None:
        return []
    with transaction() as db_session:
        drafts = engine().applicant_drafts(db_session, applicant.id)
        slugs = {e.definition_key: e for e in engine().catalogue_entries(db_session) if e.definition_key}
        english = language() == "en"
        return [{"id": d.id, "updated_at": d.updated_at,
                 "name": ((slugs[d.procedure_key].name_en if english and slugs[d.procedure_key].name_en
                           else slugs[d.procedure_key].name_ja) if d.procedure_key in slugs else d.procedure_key),
                 "url": url_for("portal.apply", slug=slugs[d.procedure_key].slug, draft=d.id)
                 if d.procedure_key in slugs else None}
                for d in drafts]


def _extras(application_id: int) -> dict:
    """The application page: the correction asked for, the history of changes, the documents,
    whether it can be withdrawn."""
    applicant_id = current_applicant().id
    with transaction() as db_session:
        correction = engine().applicant_correction(db_session, applicant_id, application_id)
        history = engine().applicant_resubmissions(db_session, applicant_id, application_id)
        form = None
        if correction is not None:
            form = engine().applicant_task_form(db_session, application_id, correction.form_key)
        elif history:  # the field names of the history, labelled by the procedure's start form
            filed = engine().applicant_application(db_session, applicant_id, application_id)
            form = engine().applicant_start_form(db_session, filed.procedure_key)
        documents = [{"public_id": d.public_id, "title": d.title, "number": d.number, "issued_at": d.issued_at,
                      "status": d.status}
                     for d in engine().applicant_documents(db_session, applicant_id, application_id)]
        can_withdraw = engine().applicant_can_withdraw(db_session, applicant_id, application_id)
    changes = [{"at": r.at, "changes": [(field_label(form, c.field) if form else c.field,
                                          shown_value(form, c.field, c.before) if form else str(c.before or ""),
                                          shown_value(form, c.field, c.after) if form else str(c.after or ""))
                                         for c in r.changes]} for r in history]
    return {"correction": correction, "history": changes, "documents": documents, "can_withdraw": can_withdraw}

