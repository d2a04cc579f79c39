"""The fees an applicant sees: the payments of their own applications, and what is due.

A payment row is made by the diagram's ``payment.create`` task (plugins/payment) — at
submission, or after the office fixed the fee (事後決済). The applicant sees it only through
an application they filed; anyone else's payment answers exactly like one that does not
exist (NotFound), so references cannot be probed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.errors import NotFound
from engine.store.models import Application, Payment
from engine.store.models_applicants import ApplicantApplication


@dataclass(frozen=True)
class ApplicantPayment:
    """One fee as the applicant sees it (no provider internals)."""

    reference: str
    application_id: int
    application_reference: str
    amount: int
    currency: str
    #: created (to be paid), paid, failed, cancelled (expired or cancelled), refunded.
    status: str
    description: str
    payment_url: str | None
    expires_at: datetime | None

    @property
    def due(self) -> bool:
        """Still to be paid: open at the provider and not past its expiry."""
        return (self.status == "created" and bool(self.payment_url)
                and (self.expires_at is None or self.expires_at > datetime.now(UTC)))


def _view(payment: Payment, application_reference: str) -> ApplicantPayment:
    details = payment.details or {}
    expires = details.get("expires_at")
    expires_at = datetime.fromisoformat(expires) if isinstance(expires, str) and expires else None
    if expires_at is not None and expires_at.tzinfo is None:
        expires_at = expires_at.replace(tzinfo=UTC)
    return ApplicantPayment(reference=payment.reference, application_id=payment.application_id,
                            application_reference=application_reference, amount=payment.amount,
                            currency=payment.currency, status=payment.status,
                            description=str(details.get("description") or ""),
                            payment_url=details.get("payment_url"), expires_at=expires_at)


def _owned(applicant_id: int):
    return (select(Payment, Application.reference).join(Application, Application.id == Payment.application_id)
            .join(ApplicantApplication, ApplicantApplication.application_id == Application.id)
            .where(ApplicantApplication.applicant_id == applicant_id))


def of_applicant(session: Session, applicant_id: int, *, application_id: int | None = None,
                 limit: int = 100) -> list[ApplicantPayment]:
    """The applicant's payments, newest first (of one application when ``application_id`` is given)."""
    query = _owned(applicant_id).order_by(Payment.id.desc()).limit(limit)
    if application_id is not None:
        query = query.where(Payment.application_id == application_id)
    return [_view(payment, reference) for payment, reference in session.execute(query)]


def due(session: Session, applicant_id: int) -> list[ApplicantPayment]:
    """What My Page asks the applicant to pay."""
    query = _owned(applicant_id).where(Payment.status == "created").order_by(Payment.id)
    return [view for view in (_view(p, r) for p, r in session.execute(query)) if view.due]


def one(session: Session, applicant_id: int, reference: str) -> ApplicantPayment:
    found = session.execute(_owned(applicant_id).where(Payment.reference == reference)).first()
    if found is None:
        raise NotFound(f"no payment {reference}")
    return _view(*found)


def of_application_reference(session: Session, application_reference: str) -> list[ApplicantPayment]:
    """The payments of the application filed without an account in this browser (its receipt)."""
    query = (select(Payment, Application.reference).join(Application, Application.id == Payment.application_id)
             .where(Application.reference == application_reference).order_by(Payment.id.desc()))
    return [_view(payment, reference) for payment, reference in session.execute(query)]
