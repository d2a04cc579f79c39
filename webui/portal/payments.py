"""Portal views: paying fees — the provider's callback endpoint, the pay page, the return page.

A fee is opened by the procedure's ``payment.create`` task (in a background job): at
submission, or after the office fixed it (事後決済). The applicant finds it on the pay page of
the application (linked from the receipt and from My Page), is sent to the provider's
checkout, and comes back to the return page, which shows what the provider reported.

The callback endpoint carries no cookie and no CSRF token: it is authenticated by the
provider's signature (checked by the provider plugin in engine.payments.handle_callback), so
it is exempt from the CSRF check. It answers 2xx only after the commit (so the provider
retries what failed), 4xx with a JSON body naming the problem for a callback that cannot be
trusted or read, and never 5xx for garbage.
"""

from __future__ import annotations

import logging

from flask import abort, jsonify, redirect, render_template, request, session, url_for
from flask_babel import gettext as _

from engine.errors import BadInput, NotFound
from engine.payments import CallbackRefused
from webui.db import engine, transaction
from webui.portal import blueprint
from webui.portal.applicant_session import current_applicant
from webui.security import EXEMPT_ENDPOINTS

log = logging.getLogger("madoguchi.portal.payments")

#: The payment the applicant was last sent to pay (the provider's return URL names none).
PAYING_KEY = "portal_paying"
#: Where apply.py remembers the receipt of the application just filed.
RECEIPT_KEY = "portal_receipt"  # the same key as webui/portal/apply.py
#: The largest callback body read (providers send a few hundred bytes).
MAX_CALLBACK_BYTES = 64 * 1024


# -- the provider's callback -----------------------------------------------------------------------

@blueprint.post("/payments/callbacks/<provider>")
def payment_callback(provider: str):
    if (request.content_length or 0) > MAX_CALLBACK_BYTES:
        return _answer(413, error=f"callback body larger than {MAX_CALLBACK_BYTES} bytes")
    body = request.get_data(cache=False)  # the raw bytes: the signature covers them exactly
    try:
        with transaction() as db_session:
            event = engine().payment_callback(db_session, provider, body, dict(request.headers.items()))
    except CallbackRefused as exc:
        return _answer(400, error=str(exc))
    except NotFound as exc:
        return _answer(404, error=str(exc))
    except BadInput as exc:  # e.g. a message nobody waits for yet: the provider tries again later
        return _answer(409, error=str(exc))
    return _answer(200, reference=event.reference, outcome=event.outcome)


EXEMPT_ENDPOINTS.add("portal.payment_callback")


def _answer(status: int, **body):
    if status >= 400:
        log.warning("payment callback answered %s: %s", status, body.get("error"))
    return jsonify(body), status


# -- the applicant's pages -----------------------------------------------------------------------

def _application_payments(reference: str) -> tuple[list, bool]:
    """(the payments of application ``reference``, whether it is the signed-in applicant's);
    404 unless the application is theirs or is the one this browser just filed."""
    applicant = current_applicant()
    with transaction() as db_session:
        if applicant is not None:
            mine = [p for p in engine().applicant_payments(db_session, applicant.id)
                    if p.application_reference == reference]
            filed = [f for f in engine().applicant_applications(db_session, applicant.id, limit=1000)
                     if f.reference == reference]
            if filed:
                return mine, True
        receipt = session.get(RECEIPT_KEY) or {}
        if receipt.get("reference") == reference:
            return engine().receipt_payments(db_session, reference), False
    abort(404)


@blueprint.get("/applications/<reference>/payment")
def application_payment(reference: str):
    """The pay page: the application's fee and its state (waiting for the office to open it,
    to be paid, paid …). Reloading it shows a payment the background job has just opened."""
    payments, _mine = _application_payments(reference)
    return render_template("portal/pay/application.html", reference=reference, payments=payments,
                           current=payments[0] if payments else None)


@blueprint.get("/applications/<reference>/payment/<payment_reference>/checkout")
def checkout(reference: str, payment_reference: str):
    """Send the applicant to the provider's checkout page for a payment that is due.

    A link, not a form: the site's CSP (form-action 'self') would stop a form whose answer
    redirects to the provider's origin. Nothing changes here but what this browser remembers."""
    payments, _mine = _application_payments(reference)
    payment = next((p for p in payments if p.reference == payment_reference), None)
    if payment is None:
        abort(404)
    if not payment.due:
        return redirect(url_for("portal.application_payment", reference=reference))
    session[PAYING_KEY] = {"application": reference, "payment": payment.reference}
    return redirect(payment.payment_url, code=303)


@blueprint.get("/payments/return")
def payment_return():
    """Where the provider sends the applicant back (MADOGUCHI_PAYMENT_RETURN_URL)."""
    paying = session.get(PAYING_KEY)
    if not paying:
        return redirect(url_for("portal.mypage") if current_applicant() else url_for("portal.home"))
    payments, _mine = _application_payments(paying["application"])
    payment = next((p for p in payments if p.reference == paying["payment"]), None)
    if payment is None:
        abort(404)
    return render_template("portal/pay/return.html", payment=payment, reference=paying["application"])


# -- what My Page and the receipt show ------------------------------------------------------------

PAYMENT_STATES = {
    "created": lambda: _("To be paid"),
    "paid": lambda: _("Paid"),
    "failed": lambda: _("Payment failed"),
    "cancelled": lambda: _("Expired or cancelled"),
    "refunded": lambda: _("Refunded"),
}


def payment_state_text(status: str) -> str:
    return PAYMENT_STATES[status]() if status in PAYMENT_STATES else status


def _fees_due() -> list:
    applicant = current_applicant()
    if applicant is None:
        return []
    with transaction() as db_session:
        return engine().applicant_payments_due(db_session, applicant.id)


@blueprint.app_context_processor
def _payment_helpers():
    return {"portal_fees_due": _fees_due, "payment_state_text": payment_state_text}
