"""Small steps shared by engine tests: deploy, start, complete, each in its own transaction."""

from __future__ import annotations

from pathlib import Path

from tests.diagrams import write


def deploy_text(engine, db, tmp_path: Path, content: str, name: str = "process.bpmn"):
    path = write(tmp_path, name, content)
    with db.transaction() as session:
        return engine.deploy(session, path).definition


def start(engine, db, key: str, data: dict | None = None, actor: str | None = "applicant"):
    with db.transaction() as session:
        return engine.start(session, key, data=data, actor=actor)


def complete(engine, db, task_id: str, actor: str, data: dict | None = None):
    with db.transaction() as session:
        return engine.complete(session, task_id, actor=actor, data=data)


def open_tasks(engine, db, application_id: int):
    with db.transaction() as session:
        return engine.tasks(session, application_id=application_id)


def show(engine, db, application_id: int) -> dict:
    with db.transaction() as session:
        return engine.show(session, application_id).as_dict()


def add_user(engine, db, name: str, *groups: str) -> None:
    with db.transaction() as session:
        engine.add_user(session, name, groups=list(groups))
