"""Portal views: signing a submission with JPKI, for procedures whose identity level is jpki.

After "Send" on the confirmation page (webui/portal/apply.py) the applicant lands on the
signing page, which carries the answers along as hidden fields, like the confirmation page.
In production the applicant's card-reader app (マイナポータルAP, JPKI利用者ソフト) signs the
exact bytes shown there and the applicant pastes the signature it produced; for the demo the
"development card" button signs on the server (engine.jpki_development_signer, refused when
MADOGUCHI_ENVIRONMENT=production). Either way the signature is checked by the JPKI plugin
before the application is started, and a refusal names its reason (expired, revoked, not a
signing certificate, the answers changed …).
"""

from __future__ import annotations

import base64
import binascii

from flask import abort, redirect, render_template, request, session, url_for
from flask_babel import gettext as _

from engine.applicant_signing import SignatureRefused
from engine.errors import BadInput
from engine.jpki_development_signer import DevelopmentSignerRefused
from webui.db import engine, transaction
from webui.portal import apply as applying
from webui.portal import blueprint
from webui.portal.applicant_session import current_applicant
from webui.portal.form_view import language, summary

#: The largest signature accepted (a CMS signature with a certificate chain is a few kB).
MAX_SIGNATURE_CHARACTERS = 64 * 1024


def sign_page(entry, form, data: dict, draft_id: int | None, *, error: str | None = None, status: int = 200):
    """The signing page for answers already checked (called by the apply flow on "Send")."""
    from engine.applicants import application_form as forms

    signed = engine().applicant_signed_bytes(entry.key, data).decode("utf-8")
    return render_template("portal/sign/sign.html", procedure_name=entry.name,
                           form_title=form.title(language()) or entry.name, answers=summary(form, data),
                           hidden=forms.as_posted(form, data), draft_id=draft_id, signed=signed, error=error,
                           development=engine().development_signer_available(),
                           action=url_for("portal.apply_sign", slug=entry.slug)), status


@blueprint.post("/procedures/<slug>/apply/sign")
def apply_sign(slug: str):
    applicant = current_applicant()
    if applicant is None:
        return redirect(url_for("portal.sign_in", next=url_for("portal.apply", slug=slug)))
    draft_id = applying._draft_id()
    with transaction() as db_session:
        entry = applying._procedure(db_session, slug)
        form = applying._start_form(db_session, entry.key)
        if draft_id is not None:
            applying._own_draft(db_session, applicant, draft_id)
    if entry.identity_level != "jpki":
        abort(404)
    values = applying.posted_values(form)
    data, errors = applying.validated(form, values)
    if errors:  # the hidden answers were changed on the way: start again from the form
        return applying.render_form(form, entry, values, errors, draft_id=draft_id, status=422)
    try:
        signature = _signature(entry.key, applicant.id, data)
        with transaction() as db_session:
            result = engine().applicant_file_signed(db_session, entry.key, applicant.id, data, signature)
            if draft_id is not None:
                engine().applicant_delete_draft(db_session, applicant.id, draft_id)
            application = result.application
            receipt = {"reference": application.reference, "procedure": entry.name,
                       "application_id": application.id}
            after = after_filing_url(db_session, entry, application.reference)
    except SignatureRefused as refused:
        reason = refused.reason_ja if language() == "ja" else refused.reason
        return sign_page(entry, form, data, draft_id, status=422,
                         error=_("The signature was not accepted: %(reason)s", reason=reason))
    except DevelopmentSignerRefused as refused:
        return sign_page(entry, form, data, draft_id, status=422,
                         error=_("The development card cannot sign here: %(reason)s", reason=str(refused)))
    session[applying.RECEIPT_KEY] = receipt
    return redirect(after)


def _signature(key: str, applicant_id: int, data: dict) -> bytes:
    if request.form.get("action") == "development":
        with transaction() as db_session:
            return engine().applicant_development_signature(db_session, applicant_id, key, data)
    text = "".join(request.form.get("signature", "").split())[:MAX_SIGNATURE_CHARACTERS]
    if not text:
        raise SignatureRefused("no_signature", "no signature was submitted", "署名が入力されていません")
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise SignatureRefused("malformed", "the signature is not base64 text as the card-reader app gives it",
                               "署名がBase64形式ではありません（カードリーダーアプリが出力した文字列を貼り付けてください）") from None


def after_filing_url(db_session, entry, application_reference: str) -> str:
    """Where the applicant goes once the application is filed: the pay page when the fee is
    paid at submission, else the receipt."""
    try:
        fee = engine().submission_requirements(db_session, entry.key)["fee"]
    except BadInput:
        fee = {"when": None}
    if fee.get("when") == "submission":
        return url_for("portal.application_payment", reference=application_reference)
    return url_for("portal.apply_receipt", slug=entry.slug)
