"""定員: the service-task operation ``reserve_capacity`` that takes one of a limited number of places.

A diagram asks for a place with ``spiffworkflow:serviceTaskOperator id="reserve_capacity"``
and the parameters ``pool`` (which places: an event, a class, a session) and ``capacity``
(how many there are). The result, merged into the task data, is ``{"capacity": {...}}`` with
``reserved`` true and the ``seat`` number, or ``reserved`` false when the pool is full —
an answer for a gateway, not an error.

Why it holds under concurrency: the counter moves with one ``INSERT … ON CONFLICT DO UPDATE
… WHERE taken < capacity`` (PostgreSQL and SQLite both have it). The statement locks the
pool's row until its transaction ends, and a second transaction waiting on that row
re-checks the condition against the committed count, so two applications racing for the
last place never both get it. The reservation row is written in the same transaction, keyed
by the job's idempotency key: a retried job finds its own seat and never takes a second one.
"""

from __future__ import annotations

from sqlalchemy import insert, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from engine.errors import BadInput
from engine.store.models import utcnow
from engine.store.models_capacity import CapacityPool, CapacityReservation

#: The service-task operation that takes a place.
CAPACITY_OPERATION = "reserve_capacity"

POOLS = CapacityPool.__table__
RESERVATIONS = CapacityReservation.__table__
MAX_POOL_CHARS = 200


def pool_parameters(params: dict) -> tuple[str, int]:
    """``(pool, capacity)`` from the task's parameters, refused with a fix when malformed."""
    pool, capacity = params.get("pool"), params.get("capacity")
    if not isinstance(pool, str) or not pool.strip() or len(pool.strip()) > MAX_POOL_CHARS:
        raise BadInput(f"reserve_capacity needs the parameter pool: a text of 1 to {MAX_POOL_CHARS} characters "
                       "naming the places (e.g. \"event-2026-12-05\")")
    if isinstance(capacity, bool) or not isinstance(capacity, int) or capacity < 0:
        raise BadInput("reserve_capacity needs the parameter capacity: a whole number of places, 0 or more "
                       f"(got {capacity!r})")
    return pool.strip(), capacity


def reserve(session: Session, pool: str, capacity: int, *, holder: str, application_id: int | None) -> dict:
    """Take one place of ``pool`` for ``holder`` in the caller's transaction (idempotent per holder).

    ``capacity`` is the pool's size as the diagram states it now, so raising it in a new
    version opens more places; lowering it below the places taken refuses new ones only.
    """
    existing = session.scalars(select(CapacityReservation).where(
        CapacityReservation.pool == pool, CapacityReservation.holder == holder)).first()
    if existing is not None:
        return _answer(pool, capacity, reserved=True, seat=existing.seat, taken=_taken(session, pool))
    connection = session.connection()
    dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
    statement = dialect.insert(POOLS).values(pool=pool, capacity=capacity, taken=1, updated_at=utcnow())
    statement = statement.on_conflict_do_update(
        index_elements=[POOLS.c.pool],
        set_={"taken": POOLS.c.taken + 1, "capacity": statement.excluded.capacity, "updated_at": utcnow()},
        where=POOLS.c.taken < statement.excluded.capacity,
    ).returning(POOLS.c.taken)
    seat = None if capacity < 1 else connection.execute(statement).scalar_one_or_none()
    if seat is None:
        return _answer(pool, capacity, reserved=False, seat=None, taken=_taken(session, pool))
    session.execute(insert(RESERVATIONS).values(pool=pool, holder=holder, seat=seat,
                                                application_id=application_id, reserved_at=utcnow()))
    return _answer(pool, capacity, reserved=True, seat=seat, taken=seat)


def _taken(session: Session, pool: str) -> int:
    return session.scalar(select(CapacityPool.taken).where(CapacityPool.pool == pool)) or 0


def _answer(pool: str, capacity: int, *, reserved: bool, seat: int | None, taken: int) -> dict:
    return {"capacity": {"pool": pool, "reserved": reserved, "seat": seat, "capacity": capacity,
                         "remaining": max(capacity - taken, 0)}}


class CapacityService:
    """The operation, run by a worker in a short transaction of its own."""

    def __init__(self, engine):
        self.engine = engine

    def operation(self, params: dict, context) -> dict:
        pool, capacity = pool_parameters(params)
        with self.engine.database().transaction() as session:
            return reserve(session, pool, capacity, holder=context.idempotency_key,
                           application_id=context.application_id)
