"""Two applicants with real applications, drafts and uploads; staff; and a snapshot of every
row in the database, so a refused request can be shown to have changed nothing."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from sqlalchemy import select

from engine.store.models import Base  # every area's models are imported with it
from tests.webui.conftest import add_staff, csrf_of, sign_in
from tests.webui.portal_apply_support import (
    ANSWERS,
    APPLY,
    KEY,
    add_applicant,
    applicant_sign_in,
    deploy,
    post,
)
from webui import create_app

#: Columns a read may touch on purpose: a token's last use is recorded on every API call.
VOLATILE = {("api_tokens", "last_used_at")}


@pytest.fixture
def app(engine):
    return create_app(engine, config={"TESTING": True})


@pytest.fixture
def client(app):
    return app.test_client()


@dataclass
class Applicant:
    id: int
    client: object
    application_id: int
    reference: str
    draft_id: int
    upload_id: str


def _applicant(engine, db, app, email: str, name: str) -> Applicant:
    applicant_id = add_applicant(engine, db, email, name)
    browser = app.test_client()
    applicant_sign_in(browser, email)
    assert post(browser, APPLY, ANSWERS, action="submit").status_code == 302
    assert post(browser, APPLY, {**ANSWERS, "notes": f"{name}の下書き"}, action="draft").status_code == 302
    with db.transaction() as session:
        [filed] = engine.applicant_applications(session, applicant_id)
        [draft] = engine.applicant_drafts(session, applicant_id)
        upload = engine.create_upload(session, owner=f"applicant:{applicant_id}", file_name="住民票.pdf",
                                      length=1024, procedure_key=KEY)
    return Applicant(applicant_id, browser, filed.id, filed.reference, draft.id, upload.id)


@pytest.fixture
def residents(engine, db, app):
    """(hanako, jiro): each signed in on their own client, with a filed application, a draft
    and an unfinished upload; staff tanaka (tanto), suzuki (kacho) and the admin root."""
    deploy(engine, db)
    add_staff(engine, db, "root", "admin")
    return (_applicant(engine, db, app, "hanako@example.jp", "山田 花子"),
            _applicant(engine, db, app, "jiro@example.jp", "佐藤 次郎"))


def snapshot(db) -> dict[str, list]:
    """Every row of every table (volatile columns left out), in a stable order."""
    rows = {}
    with db.transaction() as session:
        for table in Base.metadata.sorted_tables:
            columns = [c for c in table.columns if (table.name, c.name) not in VOLATILE]
            rows[table.name] = sorted(tuple(repr(v) for v in row) for row in session.execute(select(*columns)))
    return rows


def changed_tables(before: dict, after: dict) -> list[str]:
    return [name for name in before if before[name] != after.get(name)]


def token_of(browser) -> str:
    return csrf_of(browser, "/")


@pytest.fixture
def world(engine, db, residents) -> dict:
    """Real values for every route argument: hanako's application, draft, upload and open task."""
    hanako, _jiro = residents
    with db.transaction() as session:
        [task] = [t for t in engine.tasks(session, application_id=hanako.application_id) if t.status == "open"]
    return {"application_id": hanako.application_id, "draft_id": hanako.draft_id, "task_id": task.id,
            "reference": hanako.reference, "upload_id": hanako.upload_id, "public_id": "0" * 32}


@pytest.fixture
def admin_browser(app):
    """A browser signed in as the administrator root (tanaka, suzuki and root exist)."""
    browser = app.test_client()
    assert sign_in(browser, "root").status_code == 302
    return browser
