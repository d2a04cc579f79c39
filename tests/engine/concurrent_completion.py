"""Child-process side of test_concurrency: complete one task the moment all are ready."""

from __future__ import annotations


def complete_when_released(database_url: str, home: str, task_id: str, actor: str, barrier, results) -> None:
    from pathlib import Path

    from engine.config import Settings
    from engine.errors import MadoguchiError
    from engine.facade import Engine

    engine = Engine(Settings(home=Path(home), database_url=database_url))
    database = engine.database()
    try:
        with database.transaction() as session:  # warm the connection and the spec cache first
            engine.tasks(session, application_id=None, limit=1)
        barrier.wait(timeout=30)
        with database.transaction() as session:
            result = engine.complete(session, task_id, actor=actor, data={f"done_{actor}": True})
            results.put(("ok", actor, result.application.status))
    except MadoguchiError as exc:
        results.put(("error", actor, f"{type(exc).__name__}: {exc}"))
    finally:
        database.dispose()
