"""Shared set-up of the office tests: the approval test bundle with its staff, the dog-registration
bundle (a task with a form), and small helpers to act as one user or another."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest

from engine.store.models import utcnow
from tests.webui.conftest import add_staff, csrf_of, sign_in

ROOT = Path(__file__).parents[2]
APPROVAL = ROOT / "tests" / "workflows" / "approval"
DOG = ROOT / "workflows" / "dog-registration"

STAFF = {"tanaka": "tanto", "sato": "kakaricho", "suzuki": "kacho", "kato": "zaisei", "ito": "somu",
         "kondo": "kacho-dairi", "eisei": "seikatsu-eisei", "outsider": "kokuho"}


@pytest.fixture(name="office")
def office_fixture(engine, db):
    """The engine with both bundles deployed and the staff of STAFF signed up."""
    with db.transaction() as session:
        engine.deploy(session, APPROVAL)
        engine.deploy(session, DOG)
    for name, group in STAFF.items():
        add_staff(engine, db, name, group)
    return engine


def start(engine, db, key: str, data: dict):
    with db.transaction() as session:
        return engine.start(session, key, data=data, actor="applicant")


def drafted(engine, db, amount: int = 500_000) -> int:
    """An approval-test application drafted by tanaka: its route waits at 回議（係長）."""
    (review,) = start(engine, db, "approval-test", {"amount": amount, "purpose": "商店街イベント"}).opened_tasks
    with db.transaction() as session:
        return engine.complete(session, review.id, actor="tanaka", data={"checked": True}).application.id


def dog(engine, db, name: str = "ポチ") -> str:
    """A dog registration waiting at 内容審査 (form "review"); its task id."""
    (review,) = start(engine, db, "dog-registration", {"kind": "new", "dog_name": name,
                                                       "certificate": {"name": "狂犬病予防注射済証.pdf",
                                                                       "sha256": "ab" * 32}}).opened_tasks
    return review.id


def open_tasks(engine, db, application_id: int, kind: str | None = None) -> list:
    with db.transaction() as session:
        rows = engine.tasks(session, application_id=application_id)
    return [t for t in rows if kind is None or t.kind == kind]


def as_user(client, name: str):
    """Sign ``client`` in as ``name`` (after signing out whoever was signed in)."""
    client.post("/sign-out", data={"csrf_token": csrf_of(client)})
    assert sign_in(client, name).status_code == 302
    return client


def token(client, path: str = "/office/") -> str:
    return csrf_of(client, path)


def post(client, path: str, data: dict | None = None, follow: bool = False):
    return client.post(path, data={**(data or {}), "csrf_token": token(client)}, follow_redirects=follow)


def english(client) -> None:
    client.post("/language", data={"lang": "en", "next": "/office/", "csrf_token": token(client)})


def text(answer) -> str:
    return answer.get_data(as_text=True)


def rows_of(page: str) -> list[str]:
    """The references listed in a task table, in order."""
    return re.findall(r'<th scope="row"><a href="/office/tasks/[^"]+">([^<]+)</a></th>', page)


def away(engine, db, user: str, substitute: str | None) -> None:
    now = utcnow()
    with db.transaction() as session:
        engine.add_absence(session, user, now - timedelta(hours=1), now + timedelta(days=2), substitute=substitute,
                           reason="出張")


BULK_PROPERTY = ('<spiffworkflow:properties><spiffworkflow:property name="bulkApprove" value="true"/>'
                 '</spiffworkflow:properties>')


def bulk_bundle(folder: Path) -> Path:
    """The approval test bundle as procedure "approval-bulk", its route opted in to bulk approval."""
    target = folder / "approval-bulk"
    target.mkdir()
    for source in APPROVAL.iterdir():
        content = source.read_text(encoding="utf-8")
        if source.name == "procedure.toml":
            content = content.replace('key = "approval-test"', 'key = "approval-bulk"')
        elif source.suffix == ".bpmn":
            content = content.replace("</spiffworkflow:serviceTaskOperator>",
                                      "</spiffworkflow:serviceTaskOperator>" + BULK_PROPERTY)
        (target / source.name).write_text(content, encoding="utf-8")
    return target


def drafted_bulk(engine, db, amount: int = 500_000) -> int:
    """Like ``drafted``, in the procedure that allows bulk approval."""
    (review,) = start(engine, db, "approval-bulk", {"amount": amount, "purpose": "地域清掃"}).opened_tasks
    with db.transaction() as session:
        return engine.complete(session, review.id, actor="tanaka", data={"checked": True}).application.id
