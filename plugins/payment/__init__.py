"""Fees paid online: the ``standin`` payment provider and the payment service-task operations.

Operations (run by a worker, never inside a request; docs/plugins/payment.md):

- ``payment.create`` — params ``amount`` (whole yen), ``description``, optional ``provider``,
  ``currency``, ``return_url``, ``payer``, ``expires_in`` (seconds). Opens a payment with the
  provider, records it, and returns ``payment_reference``, ``payment_url`` and
  ``payment_expires_at`` into the task data. A retry (same idempotency key) returns the same
  payment.
- ``payment.cancel`` — param ``reference``. Cancels an unpaid payment (it expired) and
  returns ``payment_status``: ``cancelled``, or ``paid`` if the applicant paid first.
- ``payment.refund`` — params ``reference``, optional ``amount`` (default: all that is left).
  Also a job kind (payload ``reference``, ``amount``, ``request_id``), for refunds outside a
  procedure (``madoguchi payment refund``).

The outcome of a payment reaches the application as the message ``payment_completed`` or
``payment_failed``, correlated by the payment reference (engine.payments.handle_callback).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace

from engine import payments
from engine.errors import BadInput
from engine.hookspecs import hookimpl
from engine.payments import PaymentRequest
from engine.plugins import Setting
from plugins.payment.gateway_client import StandinProvider

#: How engine.plugin_settings finds our settings (MADOGUCHI_PAYMENT_* as plugins.payment).
PLUGIN = __name__

SETTINGS = {
    "provider": Setting("standin", description="Payment provider of tasks that do not name one"),
    "base_url": Setting("http://127.0.0.1:8090", description="Stand-in gateway: base URL of its API"),
    "merchant_id": Setting("madoguchi", description="Stand-in gateway: our merchant id"),
    "api_key": Setting("", secret=True, description="Stand-in gateway: API key (sent as a bearer token)"),
    "callback_secret": Setting("", secret=True,
                               description="Stand-in gateway: secret its callbacks are signed with (HMAC-SHA256)"),
    "callback_url": Setting("", description="Where the gateway posts callbacks (empty: its own configuration)"),
    "callback_tolerance_seconds": Setting(300, description="Oldest callback signature accepted, in seconds"),
    "return_url": Setting("", description="Where the gateway sends the applicant after paying (default)"),
    "currency": Setting("JPY", description="Currency of tasks that do not name one"),
    "connect_timeout": Setting(3.0, description="Seconds to wait for a connection to the gateway"),
    "read_timeout": Setting(10.0, description="Seconds to wait for the gateway's answer"),
}


def plugin_settings(engine) -> dict:
    # Declared defaults first, so a plugin loaded under another name still has every key.
    return {**{name: s.default for name, s in SETTINGS.items()}, **engine.plugin_settings(PLUGIN)}


@contextmanager
def _transaction(engine) -> Iterator:
    """A transaction of the operation's own: operations get no session (they run outside the
    worker's transactions). The connection is closed again, so no pool outlives the call."""
    database = engine.database()
    try:
        with database.transaction() as session:
            yield session
    finally:
        database.dispose()


def _whole_number(value, name: str, operation: str) -> int:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    elif isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
        raise BadInput(f"{operation}: {name} must be a whole number above 0, got {value!r}")
    return value


class PaymentOperations:
    def __init__(self, engine):
        self.engine = engine

    def create(self, params: dict, context) -> dict:
        settings = plugin_settings(self.engine)
        amount = _whole_number(params.get("amount"), "amount", "payment.create")
        name = params.get("provider") or settings["provider"]
        currency = str(params.get("currency") or settings["currency"])
        with _transaction(self.engine) as session:
            # Recorded by an earlier attempt whose result was lost (the worker died after it):
            # answer without asking the provider again.
            done = payments.find_by_idempotency_key(session, context.application_id, context.idempotency_key)
            if done is not None:
                return _created(done.reference, done.details)
        expires_in = params.get("expires_in")
        request = PaymentRequest(
            amount=amount, currency=currency,
            description=str(params.get("description") or "手数料"),
            application_reference=context.reference, return_url=params.get("return_url") or settings["return_url"] or None,
            payer=params.get("payer"),
            expires_in_seconds=None if expires_in is None else _whole_number(expires_in, "expires_in", "payment.create"))
        opened = payments.provider(self.engine, name).create_payment(request, context)
        details = {"idempotency_key": context.idempotency_key, "payment_url": opened.redirect_url,
                   "expires_at": opened.expires_at.isoformat() if opened.expires_at else None,
                   "description": request.description, "application_reference": context.reference,
                   "element_id": context.element_id}
        with _transaction(self.engine) as session:
            payment = payments.record_payment(session, reference=opened.reference, provider=name, amount=amount,
                                              currency=currency, application_id=context.application_id,
                                              details=details)
            return _created(payment.reference, payment.details)

    def cancel(self, params: dict, context) -> dict:
        reference = _reference(params, "payment.cancel")
        with _transaction(self.engine) as session:
            payment = payments.require_payment(session, reference)
            status, name = payment.status, payment.provider
        if status != "created":
            return {"payment_status": status}  # paid, failed or cancelled already: nothing to cancel
        cancel = getattr(payments.provider(self.engine, name), "cancel_payment", None)
        status = cancel(reference, context) if cancel is not None else "cancelled"
        if status == "cancelled":
            with _transaction(self.engine) as session:
                payments.record_cancelled(session, reference)
        # "paid": the applicant was faster; the callback confirms it and sends payment_completed.
        return {"payment_status": status}

    def refund(self, params: dict, context) -> dict:
        return self._refund(params, context, context.idempotency_key)

    def refund_job(self, payload: dict, context) -> None:
        """The ``payment.refund`` job kind. ``payload["request_id"]`` (set by whoever queues the
        job, e.g. a UUID) names the refund: job keys (``job-<id>``) can repeat on SQLite, which
        reuses the ids of deleted jobs, and a repeated key would pass for a refund already made."""
        self._refund(payload, context, str(payload.get("request_id") or context.idempotency_key))

    def _refund(self, params: dict, context, key: str) -> dict:
        reference = _reference(params, "payment.refund")
        amount = params.get("amount")
        amount = None if amount is None else _whole_number(amount, "amount", "payment.refund")
        with _transaction(self.engine) as session:
            payment, amount, done = payments.plan_refund(session, reference, amount, key)
            name = payment.provider
        if done is None:
            refund = payments.provider(self.engine, name).refund(reference, amount, _keyed(context, key))
            with _transaction(self.engine) as session:
                payment = payments.record_refund(session, reference, key=key, amount=amount, refund=refund)
        return {"refund_amount": amount, "refunded_amount": payment.refunded_amount,
                "payment_status": payment.status}


def _keyed(context, key: str):
    """The context with ``key`` as its idempotency key, for the provider."""
    return context if context.idempotency_key == key else replace(context, idempotency_key=key)


def _reference(params: dict, operation: str) -> str:
    reference = params.get("reference")
    if not isinstance(reference, str) or not reference:
        raise BadInput(f"{operation}: the parameter 'reference' (the payment reference) is missing")
    return reference


def _created(reference: str, details: dict) -> dict:
    return {"payment_reference": reference, "payment_url": details.get("payment_url"),
            "payment_expires_at": details.get("expires_at")}


# -- hooks --------------------------------------------------------------------------------------

@hookimpl
def madoguchi_plugin_settings():
    return SETTINGS


@hookimpl
def madoguchi_payment_providers(engine):
    # Built on each use, so changed settings (and tests' environments) take effect.
    return {"standin": StandinProvider(plugin_settings(engine))}


@hookimpl
def madoguchi_operations(engine):
    operations = PaymentOperations(engine)
    return {"payment.create": operations.create, "payment.cancel": operations.cancel,
            "payment.refund": operations.refund}


@hookimpl
def madoguchi_job_handlers(engine):
    return {"payment.refund": PaymentOperations(engine).refund_job}
