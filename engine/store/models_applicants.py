"""Tables of applicant accounts: the residents and businesses who apply on line.

Applicants are not staff: they live in their own table, sign in with their e-mail address
and never appear in ``users`` (so no group, role or task can ever reach them by mistake).
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from engine.store.models import Base, UTCDateTime, utcnow


class Applicant(Base):
    """An applicant account: an individual (個人) or a business (法人)."""

    __tablename__ = "applicants"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Lower-cased; the sign-in name.
    email: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    #: "individual" or "business".
    kind: Mapped[str] = mapped_column(String(12))
    email_verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: Bumped when the password changes: sessions signed in before then end.
    session_version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    language: Mapped[str] = mapped_column(String(5), default="ja", server_default="ja")
    # Profile (individual; for a business: the contact person's details and the office address).
    name: Mapped[str] = mapped_column(String(200))
    name_kana: Mapped[str | None] = mapped_column(String(200))
    birth_date: Mapped[date | None] = mapped_column(Date())
    postcode: Mapped[str | None] = mapped_column(String(8))
    address: Mapped[str | None] = mapped_column(String(500))
    phone: Mapped[str | None] = mapped_column(String(20))
    # Business (法人) only.
    company_name: Mapped[str | None] = mapped_column(String(300))
    company_name_kana: Mapped[str | None] = mapped_column(String(300))
    corporate_number: Mapped[str | None] = mapped_column(String(13), index=True)
    representative: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_signed_in_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class ApplicantToken(Base):
    """A one-time link sent by mail (verify the address, reset the password).

    Only the SHA-256 of the link's secret is kept: whoever reads the database cannot use it.
    """

    __tablename__ = "applicant_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    applicant_id: Mapped[int] = mapped_column(ForeignKey("applicants.id", ondelete="CASCADE"), index=True)
    #: "verify_email" or "reset_password".
    purpose: Mapped[str] = mapped_column(String(16))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class ApplicantApplication(Base):
    """Which applicant filed an application (one applicant per application)."""

    __tablename__ = "applicant_applications"

    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id", ondelete="CASCADE"),
                                                primary_key=True)
    applicant_id: Mapped[int] = mapped_column(ForeignKey("applicants.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
