"""Tables of the procedure catalogue of the applicant portal.

One row per procedure the city offers, wherever it is done: on line here (a deployed
definition), elsewhere (the national portal or another system), or at a counter. The
``search_*`` columns hold the normalized text (engine/catalogue/normalize.py) written with
the row, so a search compares plain strings and never normalizes 3,000 rows per request.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from engine.store.models import Base, UTCDateTime, utcnow


class CatalogueProcedure(Base):
    __tablename__ = "catalogue_procedures"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    slug: Mapped[str] = mapped_column(String(100), unique=True)
    name_ja: Mapped[str] = mapped_column(String(300))
    name_en: Mapped[str | None] = mapped_column(String(300))
    reading: Mapped[str | None] = mapped_column(String(300))
    category: Mapped[str] = mapped_column(String(100), index=True)
    department: Mapped[str] = mapped_column(String(200), index=True)
    keywords: Mapped[list] = mapped_column(JSON, default=list)
    life_events: Mapped[list] = mapped_column(JSON, default=list)
    summary_ja: Mapped[str | None] = mapped_column(Text)
    summary_en: Mapped[str | None] = mapped_column(Text)
    documents: Mapped[list] = mapped_column(JSON, default=list)
    fees: Mapped[list] = mapped_column(JSON, default=list)
    #: none / account / jpki (a signature with the My Number card).
    identity_level: Mapped[str] = mapped_column(String(12))
    #: online (here) / elsewhere (a link) / counter (in person only).
    channel: Mapped[str] = mapped_column(String(12))
    definition_key: Mapped[str | None] = mapped_column(String(100))
    external_url: Mapped[str | None] = mapped_column(String(1000))
    external_name: Mapped[str | None] = mapped_column(String(200))
    counter: Mapped[str | None] = mapped_column(Text)
    related: Mapped[list] = mapped_column(JSON, default=list)
    #: Where the entry came from: "manifest" (a deployed bundle) or "import" (a file).
    source: Mapped[str] = mapped_column(String(12))
    #: Normalized name, reading and English name, each preceded by a space (prefix matches).
    search_name: Mapped[str] = mapped_column(Text)
    search_keywords: Mapped[str] = mapped_column(Text)
    #: Normalized category, life events, department and summary.
    search_other: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


class CatalogueLifeEvent(Base):
    """A procedure under a life event (引越し, 出産 …): one row each, for browsing and filtering."""

    __tablename__ = "catalogue_life_events"

    procedure_id: Mapped[int] = mapped_column(
        ForeignKey("catalogue_procedures.id", ondelete="CASCADE"), primary_key=True)
    life_event: Mapped[str] = mapped_column(String(100), primary_key=True)

    __table_args__ = (Index("ix_catalogue_life_events_life_event", "life_event"),)
