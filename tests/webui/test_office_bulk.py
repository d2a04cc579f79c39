"""Bulk approval from the task list: only where the procedure allows it, each task decided on its
own, and a report of what happened to each."""

from __future__ import annotations

import re

import pytest

from tests.webui.test_office_setup import (
    as_user,
    bulk_bundle,
    drafted,
    drafted_bulk,
    english,
    office_fixture,  # noqa: F401 (the fixture "office")
    open_tasks,
    post,
    text,
)


@pytest.fixture
def bulk(office, db, tmp_path):
    with db.transaction() as session:
        office.deploy(session, bulk_bundle(tmp_path))
    return office


def test_the_list_offers_bulk_approval_where_allowed(bulk, db, client):
    allowed = drafted_bulk(bulk, db)
    drafted(bulk, db)
    page = text(as_user(client, "sato").get("/office/?tab=groups"))
    assert 'formaction="/office/approve"' in page and 'for="bulk-comment"' in page
    assert page.count("一括決裁可") == 1
    (task,) = open_tasks(bulk, db, allowed, "approve")
    assert re.search(rf'id="pick-{task.id}" class="pick" aria-label="[^"]*を選択"', page)
    assert 'id="pick-all" class="pick-all" hidden aria-label="このページのタスクをすべて選択"' in page


def test_the_list_has_no_approve_button_without_an_opted_in_procedure(office, db, client):
    drafted(office, db)
    page = text(as_user(client, "sato").get("/office/?tab=groups"))
    assert "pick-all" in page and 'formaction="/office/approve"' not in page


def test_bulk_approval_reports_each_task(bulk, db, client):
    allowed = [drafted_bulk(bulk, db) for _ in range(2)]
    other = drafted(bulk, db)
    ids = [open_tasks(bulk, db, a, "approve")[0].id for a in [*allowed, other]]
    as_user(client, "sato")
    answer = post(client, "/office/approve", {"task_id": ids, "comment": "一括で確認", "next": "/office/?tab=groups"})
    page = text(answer)
    assert answer.status_code == 200 and "承認：2 件。承認されなかったもの：1 件。" in page
    assert page.count('<td class="approved">承認済み</td>') == 2
    assert page.count('<td class="refused">未承認</td>') == 1 and "does not allow it" in page
    assert 'href="/office/?tab=groups"' in page
    with db.transaction() as session:
        for application_id in allowed:
            last = bulk.decisions(session, application_id)[-1]
            assert (last.actor, last.decision, last.comment) == ("sato", "approve", "一括で確認")
        assert bulk.decisions(session, other)[-1].decision == "draft"
    again = post(client, "/office/approve", {"task_id": ids[:1]})
    assert "承認：0 件" in text(again) and "reload" in text(again)  # stale: decided already


def test_bulk_approval_needs_a_selection_and_a_token(bulk, db, client):
    as_user(client, "sato")
    answer = post(client, "/office/approve", {}, follow=True)
    assert "承認するタスクを先に選んでください。" in text(answer)
    english(client)
    assert "Tick the tasks you want to approve first." in text(post(client, "/office/approve", {}, follow=True))
    assert client.post("/office/approve", data={"task_id": "x", "csrf_token": "forged"}).status_code == 400
