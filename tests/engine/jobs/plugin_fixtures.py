"""A test plugin with real side effects, for in-process engines and worker subprocesses.

In-process: ``Engine(settings, plugins=(plugin_fixtures,))`` after ``install(url)``.
Subprocesses: ``MADOGUCHI_PLUGINS=tests.engine.jobs.plugin_fixtures`` with
``MADOGUCHI_DATABASE_URL`` set; the plugin writes into its own tables in that database
(created by ``install``), so what operations and jobs did can be counted afterwards.

Operations (service tasks):

- ``fixture.record``: records the call and returns ``{"received": params, "attempt": n}``;
- ``fixture.flaky``: fails while fewer than ``params["fail_times"]`` (default 2) earlier
  calls with the same idempotency key were recorded, then succeeds;
- ``fixture.broken``: always fails;
- ``fixture.slow``: records that it started, sleeps ``params["seconds"]``, returns;
- ``fixture.charge``: applies one side effect per idempotency key (a unique key table),
  and on the attempts listed in ``params["slow_attempts"]`` sleeps ``params["seconds"]``
  *after* applying it — a remote system that acted but whose answer never came back.

Job kinds:

- ``fixture.effect``: payload ``{"sleep": s, "sleep_attempts": [1], "when": "before"|"after",
  "idempotent": bool, "fail_times": n, "quiet": bool}``; records the call (unless ``quiet``),
  then writes one row into ``side_effects`` (only once per key when ``idempotent``).
"""

from __future__ import annotations

import os
import threading
import time

from sqlalchemy import JSON, Column, Integer, MetaData, String, Table, func, insert, select
from sqlalchemy.exc import IntegrityError

from engine.hookspecs import hookimpl
from engine.store.database import Database

metadata = MetaData()

#: Every call of an operation or job handler, in the order they started.
calls = Table(
    "fixture_calls", metadata,
    Column("n", Integer, primary_key=True, autoincrement=True),
    Column("name", String(100), nullable=False),
    Column("phase", String(20), nullable=False),  # called | started | failed
    Column("idempotency_key", String(200), nullable=False),
    Column("attempt", Integer, nullable=False),
    Column("application_id", Integer),
    Column("reference", String(40)),
    Column("element_id", String(200)),
    Column("params", JSON),
    Column("worker", String(100), nullable=False),
)

#: The side effects whose count proves exactly-once behaviour.
side_effects = Table(
    "side_effects", metadata,
    Column("n", Integer, primary_key=True, autoincrement=True),
    Column("key", String(200), nullable=False),
    Column("worker", String(100), nullable=False),
    Column("attempt", Integer, nullable=False),
)

#: Keys already acted on — how an idempotency-honouring remote system remembers.
applied_keys = Table(
    "applied_keys", metadata,
    Column("key", String(200), primary_key=True),
)

_databases: dict[str, Database] = {}
_lock = threading.Lock()
#: The database this process writes into: set by install(), else MADOGUCHI_DATABASE_URL.
_current_url: str | None = None


def install(database_url: str) -> None:
    """(Re)create the plugin's tables, empty, in the test database, and write there from now on."""
    global _current_url
    _current_url = database_url
    database = _database(database_url)
    metadata.drop_all(database.engine)
    metadata.create_all(database.engine)


def uninstall(database_url: str) -> None:
    """Drop the plugin's tables again (the test database is shared by later tests) and let go."""
    metadata.drop_all(_database(database_url).engine)
    dispose()


def _database(url: str | None = None) -> Database:
    url = url or _current_url or os.environ["MADOGUCHI_DATABASE_URL"]
    with _lock:
        if url not in _databases:
            _databases[url] = Database(url)
        return _databases[url]


def dispose() -> None:
    global _current_url
    _current_url = None
    with _lock:
        for database in _databases.values():
            database.dispose()
        _databases.clear()


def worker_label() -> str:
    return os.environ.get("FIXTURE_WORKER_LABEL") or f"pid{os.getpid()}"


def _record(name: str, phase: str, context, params: dict | None = None) -> None:
    with _database().transaction() as session:
        session.execute(insert(calls).values(
            name=name, phase=phase, idempotency_key=context.idempotency_key, attempt=context.attempt,
            application_id=context.application_id, reference=getattr(context, "reference", None),
            element_id=getattr(context, "element_id", None), params=params, worker=worker_label()))


def _calls_so_far(name: str, key: str) -> int:
    with _database().transaction() as session:
        return session.scalar(select(func.count()).select_from(calls).where(
            calls.c.name == name, calls.c.idempotency_key == key))


def _apply_effect(key: str, attempt: int, idempotent: bool) -> bool:
    """Write one side effect; with ``idempotent``, only the first time for this key."""
    with _database().transaction() as session:
        if idempotent:
            try:
                with session.begin_nested():
                    session.execute(insert(applied_keys).values(key=key))
            except IntegrityError:
                return False
        session.execute(insert(side_effects).values(key=key, worker=worker_label(), attempt=attempt))
    return True


# -- operations --------------------------------------------------------------------------------

def record(params: dict, context) -> dict:
    _record("fixture.record", "called", context, params)
    return {"received": params, "attempt": context.attempt}


def flaky(params: dict, context) -> dict:
    earlier = _calls_so_far("fixture.flaky", context.idempotency_key)
    _record("fixture.flaky", "called", context, params)
    if earlier < int(params.get("fail_times", 2)):
        raise ConnectionError(f"core system unreachable (call {earlier + 1})")
    return {"flaky_ok": True, "calls": earlier + 1}


def broken(params: dict, context) -> dict:
    _record("fixture.broken", "called", context, params)
    raise RuntimeError("core system rejected the request: account 42 is locked")


def slow(params: dict, context) -> dict:
    _record("fixture.slow", "started", context, params)
    time.sleep(float(params.get("seconds", 1)))
    return {"slow_result": "late"}


def charge(params: dict, context) -> dict:
    _record("fixture.charge", "called", context, params)
    applied = _apply_effect(context.idempotency_key, context.attempt, idempotent=True)
    if context.attempt in params.get("slow_attempts", []):
        time.sleep(float(params.get("seconds", 1)))
    return {"charged": True, "first_time": applied}


# -- job handlers ------------------------------------------------------------------------------

def effect(payload: dict, context) -> None:
    if not payload.get("quiet"):
        _record("fixture.effect", "called", context, payload)
    if context.attempt <= int(payload.get("fail_times", 0)):
        raise RuntimeError(f"effect failed on attempt {context.attempt}")
    slow_now = context.attempt in payload.get("sleep_attempts", [1])
    when = payload.get("when", "before")
    if slow_now and when == "before":
        time.sleep(float(payload.get("sleep", 0)))
    _apply_effect(context.idempotency_key, context.attempt, bool(payload.get("idempotent")))
    if slow_now and when == "after":
        time.sleep(float(payload.get("sleep", 0)))


@hookimpl
def madoguchi_operations():
    return {"fixture.record": record, "fixture.flaky": flaky, "fixture.broken": broken,
            "fixture.slow": slow, "fixture.charge": charge}


@hookimpl
def madoguchi_job_handlers():
    return {"fixture.effect": effect}


# -- reading what happened ---------------------------------------------------------------------

def recorded_calls(database_url: str, name: str | None = None) -> list[dict]:
    with _database(database_url).transaction() as session:
        query = select(calls).order_by(calls.c.n)
        if name is not None:
            query = query.where(calls.c.name == name)
        return [dict(row._mapping) for row in session.execute(query)]


def effects(database_url: str) -> list[dict]:
    with _database(database_url).transaction() as session:
        return [dict(row._mapping) for row in session.execute(select(side_effects).order_by(side_effects.c.n))]
