"""Tables of limited places (定員): one counter per pool and the reservation behind each seat."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from engine.store.models import Base, UTCDateTime, utcnow


class CapacityPool(Base):
    """How many places a pool (an event, a class, a session) has and how many are taken.

    ``taken`` only grows through one conditional upsert (engine/capacity.py), so two
    transactions can never both take the last place.
    """

    __tablename__ = "capacity_pools"

    pool: Mapped[str] = mapped_column(String(200), primary_key=True)
    capacity: Mapped[int] = mapped_column(Integer)
    taken: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class CapacityReservation(Base):
    """One place taken, by one holder (the service task that asked), numbered from 1."""

    __tablename__ = "capacity_reservations"
    __table_args__ = (UniqueConstraint("pool", "holder"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    pool: Mapped[str] = mapped_column(String(200), index=True)
    #: The service task's idempotency key: a retried job finds its own place instead of a second one.
    holder: Mapped[str] = mapped_column(String(300))
    seat: Mapped[int] = mapped_column(Integer)
    application_id: Mapped[int | None] = mapped_column(Integer, index=True)
    reserved_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
