"""Fees paid through payment providers: the provider interface, the payments table, callbacks.

How a fee is paid (docs/plugins/payment.md):

1. A service task (``payment.create``, plugins/payment) asks a provider for a payment — in a
   background job, with the task's idempotency key — and records a :class:`Payment` row. The
   payment reference and the URL to send the applicant to land in the task data.
2. The application waits on the message ``payment_completed`` (or ``payment_failed``)
   correlated by that payment reference.
3. The provider reports the outcome with a callback (an HTTP POST the web layer receives).
   :func:`handle_callback` checks the provider's signature, updates the row and sends the
   message — once, however often the provider repeats the callback.

Nothing here calls a provider: provider calls happen in jobs (plugins/payment). Everything
here works in the caller's transaction and commits nothing.
"""

from __future__ import annotations

import logging
from contextlib import suppress
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Protocol, runtime_checkable

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from engine.errors import BadInput, Conflict, NotFound
from engine.messages import MessageRefused
from engine.store.models import Payment, utcnow

log = logging.getLogger("madoguchi.payments")

#: The messages an application waiting for a payment catches (correlated by the payment reference).
MESSAGE_COMPLETED = "payment_completed"
MESSAGE_FAILED = "payment_failed"

#: What a provider's callback may report.
EVENT_STATUSES = ("paid", "failed", "cancelled")


# -- what providers receive and return ----------------------------------------------------------

@dataclass(frozen=True)
class PaymentRequest:
    """One fee to collect. ``amount`` is in the currency's smallest unit (yen)."""

    amount: int
    currency: str
    description: str
    application_reference: str
    return_url: str | None = None
    payer: dict | None = None
    #: How long the applicant may take to pay; None: the provider's default.
    expires_in_seconds: int | None = None


@dataclass(frozen=True)
class PaymentSession:
    """A payment the provider opened: its reference and where to send the applicant."""

    reference: str
    redirect_url: str
    expires_at: datetime | None = None


@dataclass(frozen=True)
class PaymentEvent:
    """What a provider's callback says happened to a payment."""

    reference: str
    status: str  # one of EVENT_STATUSES
    amount: int | None
    paid_at: datetime | None
    raw: dict = field(default_factory=dict, repr=False)
    #: Set by handle_callback: "applied", "duplicate" (nothing changed) or "ignored" (see there).
    outcome: str = ""


@runtime_checkable
class PaymentProvider(Protocol):
    """A payment service (see ``madoguchi_payment_providers``).

    ``create_payment`` and ``refund`` call the provider and run only in background jobs;
    they must pass ``context.idempotency_key`` on, so a retried call does not pay or refund
    twice. ``parse_callback`` runs inside the callback's transaction and must not call out.
    A provider may also offer ``cancel_payment(reference, context) -> str`` (the payment's
    status afterwards: ``cancelled``, or ``paid`` if the applicant paid first).
    """

    def create_payment(self, request: PaymentRequest, context) -> PaymentSession: ...

    def parse_callback(self, body: bytes, headers: dict[str, str]) -> PaymentEvent:
        """Check the provider's signature and read the body; raise CallbackRefused if either is bad."""
        ...

    def refund(self, reference: str, amount: int, context) -> dict: ...


class CallbackRefused(BadInput):
    """A provider callback that is not signed correctly or cannot be read; nothing was changed."""


def providers(engine) -> dict[str, PaymentProvider]:
    """Every installed payment provider by name."""
    return engine.plugin_objects("madoguchi_payment_providers", check=_is_provider,
                                 what="a payment provider (create_payment, parse_callback, refund)")


def provider(engine, name: str) -> PaymentProvider:
    found = providers(engine)
    if name not in found:
        installed = ", ".join(sorted(found)) or "none"
        raise NotFound(f"no installed plugin provides the payment provider {name!r} (installed: {installed})")
    return found[name]


def _is_provider(thing) -> bool:
    return all(callable(getattr(thing, name, None)) for name in ("create_payment", "parse_callback", "refund"))


# -- the payments table ---------------------------------------------------------------------------

def get_payment(session: Session, reference: str, *, lock: bool = False) -> Payment | None:
    query = select(Payment).where(Payment.reference == reference)
    if lock:
        query = query.with_for_update()
    return session.scalars(query).first()


def require_payment(session: Session, reference: str, *, lock: bool = False) -> Payment:
    payment = get_payment(session, reference, lock=lock)
    if payment is None:
        raise NotFound(f"no payment with reference {reference!r}")
    return payment


def list_payments(session: Session, *, application_id: int | None = None, status: str | None = None,
                  limit: int = 100) -> list[Payment]:
    query = select(Payment).order_by(Payment.id.desc()).limit(limit)
    if application_id is not None:
        query = query.where(Payment.application_id == application_id)
    if status is not None:
        query = query.where(Payment.status == status)
    return list(session.scalars(query))


def find_by_idempotency_key(session: Session, application_id: int | None, key: str) -> Payment | None:
    """The payment a job with this idempotency key already recorded, if any.

    Looked up among the application's payments (an indexed column, a handful of rows) rather
    than by a JSON path, which reads differently on SQLite and PostgreSQL.
    """
    if application_id is None:
        return None
    for payment in list_payments(session, application_id=application_id, limit=1000):
        if (payment.details or {}).get("idempotency_key") == key:
            return payment
    return None


def record_payment(session: Session, *, reference: str, provider: str, amount: int, currency: str,
                   application_id: int | None, details: dict | None = None) -> Payment:
    """Record a payment a provider opened; recording the same reference again returns the row.

    A retried job records its payment again (the provider answered the same reference for the
    same idempotency key), so a second call must not fail and must not add a row.
    """
    existing = get_payment(session, reference)
    if existing is not None:
        _check_same(existing, provider, amount, currency)
        return existing
    now = utcnow()
    payment = Payment(reference=reference, provider=provider, application_id=application_id, amount=amount,
                      currency=currency, status="created", refunded_amount=0, details=dict(details or {}),
                      created_at=now, updated_at=now)
    try:
        with session.begin_nested():  # a concurrent recorder wins on the unique reference
            session.add(payment)
    except IntegrityError:
        existing = get_payment(session, reference)
        if existing is None:
            raise
        _check_same(existing, provider, amount, currency)
        return existing
    return payment


def _check_same(payment: Payment, provider: str, amount: int, currency: str) -> None:
    if (payment.provider, payment.amount, payment.currency) != (provider, amount, currency):
        raise Conflict(f"payment {payment.reference} is already recorded for {payment.amount} {payment.currency} "
                       f"through {payment.provider!r}, not {amount} {currency} through {provider!r}")


def payment_as_dict(payment: Payment) -> dict:
    return {"reference": payment.reference, "provider": payment.provider,
            "application_id": payment.application_id, "amount": payment.amount, "currency": payment.currency,
            "status": payment.status, "refunded_amount": payment.refunded_amount,
            "details": payment.details or {}, "created_at": payment.created_at.isoformat(),
            "updated_at": payment.updated_at.isoformat()}


def _update(payment: Payment, *, status: str | None = None, **details) -> None:
    # Assign a new dict: SQLAlchemy does not see changes made inside a JSON value.
    payment.details = {**(payment.details or {}), **details}
    if status is not None:
        payment.status = status
    payment.updated_at = utcnow()


# -- callbacks ------------------------------------------------------------------------------------

def handle_callback(engine, session: Session, provider_name: str, body: bytes,
                    headers: dict[str, str]) -> PaymentEvent:
    """Apply a provider's callback: update the payment and tell the waiting application.

    Raises CallbackRefused (bad signature or body) or NotFound (unknown payment) with
    nothing changed. A callback that repeats what is already recorded changes nothing and
    sends no message (outcome ``duplicate``): providers repeat callbacks until they get a
    2xx, and may send the same one twice. Call it inside a transaction and answer the
    provider 2xx only after the commit; a failure (an exception) should be answered with
    an error so the provider tries again.
    """
    headers = {str(k).lower(): str(v) for k, v in headers.items()}
    event = provider(engine, provider_name).parse_callback(body, headers)
    if event.status not in EVENT_STATUSES:
        raise CallbackRefused(f"provider {provider_name!r} reported status {event.status!r} for payment "
                              f"{event.reference}; expected one of {', '.join(EVENT_STATUSES)}")
    # Locked, so two copies of one callback arriving together apply once (the second waits,
    # then finds the status already set).
    payment = get_payment(session, event.reference, lock=True)
    if payment is None:
        raise NotFound(f"callback from {provider_name!r} for unknown payment {event.reference!r}")
    if payment.provider != provider_name:
        raise CallbackRefused(f"payment {payment.reference} was made through {payment.provider!r}, "
                              f"not {provider_name!r}")
    if event.status == "paid" and event.amount is not None and event.amount != payment.amount:
        raise CallbackRefused(f"callback says payment {payment.reference} was paid with {event.amount} "
                              f"{payment.currency}, but it is for {payment.amount}")
    outcome = _apply(engine, session, payment, event, provider_name)
    log.info("payment %s: callback %s → %s", payment.reference, event.status, outcome)
    return replace(event, outcome=outcome)


def _apply(engine, session: Session, payment: Payment, event: PaymentEvent, provider_name: str) -> str:
    sender = f"payment:{provider_name}"
    current = payment.status
    if current == event.status or (current == "refunded" and event.status == "paid"):
        return "duplicate"
    if current in ("paid", "refunded"):
        # A provider cannot take back a completed payment by a callback: keep what we know.
        log.warning("payment %s is %s; ignoring a callback saying %s", payment.reference, current, event.status)
        _update(payment, ignored_event={"status": event.status, "at": utcnow().isoformat()})
        return "ignored"
    if event.status == "paid":
        paid_at = (event.paid_at or utcnow()).isoformat()
        _update(payment, status="paid", paid_at=paid_at, **({"paid_after": current} if current != "created" else {}))
        data = {"payment_reference": payment.reference, "amount": payment.amount, "currency": payment.currency,
                "paid_at": paid_at}
        if current == "created":
            # If nobody waits yet and buffering is off, this raises and rolls back: the
            # provider's retry delivers it once the application waits.
            engine.send_message(session, MESSAGE_COMPLETED, key=payment.reference, data=data, sender=sender)
        else:
            # Paid after it failed or was cancelled: the application has moved on; the row
            # says so, for whoever refunds it.
            log.warning("payment %s was paid after it was %s; it probably needs a refund", payment.reference, current)
            with suppress(MessageRefused):
                engine.send_message(session, MESSAGE_COMPLETED, key=payment.reference, data=data, sender=sender)
        return "applied"
    reason = (event.raw.get("failure_reason") if isinstance(event.raw, dict) else None) or event.status
    _update(payment, status=event.status, failure_reason=reason)
    if current == "created":
        engine.send_message(session, MESSAGE_FAILED, key=payment.reference, sender=sender,
                            data={"payment_reference": payment.reference, "status": event.status, "reason": reason})
    return "applied"


# -- cancelling and refunds --------------------------------------------------------------------

def record_cancelled(session: Session, reference: str) -> Payment:
    """The provider cancelled the payment (it expired unpaid)."""
    payment = require_payment(session, reference, lock=True)
    if payment.status == "created":
        _update(payment, status="cancelled", cancelled_at=utcnow().isoformat())
    return payment


def plan_refund(session: Session, reference: str, amount: int | None, key: str) -> tuple[Payment, int, dict | None]:
    """Check a refund before the provider is asked: (payment, amount to refund, the refund
    already recorded under ``key`` or None). ``amount`` None means what is left to refund."""
    payment = require_payment(session, reference)
    done = (payment.details or {}).get("refunds", {}).get(key)
    if done is not None:
        return payment, int(done["amount"]), done
    if payment.status not in ("paid", "refunded"):
        raise Conflict(f"payment {reference} is {payment.status}; only a paid payment can be refunded")
    left = payment.amount - payment.refunded_amount
    amount = left if amount is None else amount
    if amount <= 0 or amount > left:
        raise BadInput(f"cannot refund {amount} {payment.currency} of payment {reference}: "
                       f"{left} of {payment.amount} is left to refund")
    return payment, amount, None


def record_refund(session: Session, reference: str, *, key: str, amount: int, refund: dict) -> Payment:
    """Record a refund the provider made; the same ``key`` again changes nothing."""
    payment = require_payment(session, reference, lock=True)
    refunds = dict((payment.details or {}).get("refunds", {}))
    if key in refunds:
        return payment
    refunds[key] = {"amount": amount, "at": utcnow().isoformat(), **refund}
    payment.refunded_amount = sum(int(r["amount"]) for r in refunds.values())
    _update(payment, status="refunded", refunds=refunds)
    return payment
