"""Group managers assign, reassign and unassign tasks from the task page; staff notes on the
application, listed in the history and audited."""

from __future__ import annotations

from tests.webui.conftest import add_staff
from tests.webui.test_office_setup import (
    as_user,
    english,
    office_fixture,  # noqa: F401 (the fixture "office")
    post,
    start,
    text,
)


def review(office, db) -> tuple[int, str]:
    (task,) = start(office, db, "approval-test", {"amount": 1000, "purpose": "清掃"}).opened_tasks
    return task.application_id, task.id


def manage(office, db, group: str, user: str) -> None:
    with db.transaction() as session:
        office.add_group_manager(session, group, user, actor="root")


def test_a_manager_assigns_reassigns_and_unassigns(office, db, client):
    add_staff(office, db, "yamada", "tanto")
    manage(office, db, "tanto", "suzuki")  # 課長: no member of tanto, still its manager
    application_id, task_id = review(office, db)
    page = text(as_user(client, "suzuki").get(f"/office/tasks/{task_id}"))
    assert 'id="assign-heading"' in page and '<label for="assignee">' in page
    assert '<option value="tanaka">' in page and '<option value="yamada">' in page
    assert '<option value="sato">' not in page  # not of the task's groups
    done = post(client, f"/office/tasks/{task_id}/assign", {"assignee": "yamada"}, follow=True)
    assert done.status_code == 200 and "yamada に割り当てました" in text(done)
    assert "タスクの割当て" in text(done)  # the history shows the assignment
    post(client, f"/office/tasks/{task_id}/assign", {"assignee": "tanaka"})
    cleared = post(client, f"/office/tasks/{task_id}/assign", {"assignee": ""}, follow=True)
    assert "割当てを解除しました" in text(cleared)
    with db.transaction() as session:
        assert office.task(session, task_id).assignee is None
        trail = [(e["action"], e["actor"], e["details"].get("assignee"))
                 for e in office.show(session, application_id).as_dict()["history"]
                 if e["action"] in ("task_assigned", "task_unassigned")]
    assert trail == [("task_assigned", "suzuki", "yamada"), ("task_assigned", "suzuki", "tanaka"),
                     ("task_unassigned", "suzuki", None)]


def test_only_managers_assign_and_only_to_the_tasks_people(office, db, client):
    manage(office, db, "tanto", "suzuki")
    _application_id, task_id = review(office, db)
    page = text(as_user(client, "tanaka").get(f"/office/tasks/{task_id}"))
    assert 'id="assign-heading"' not in page  # a candidate, not a manager
    refused = post(client, f"/office/tasks/{task_id}/assign", {"assignee": "tanaka"})
    assert refused.status_code == 403 and "manages none" in text(refused)
    assert as_user(client, "outsider").get(f"/office/tasks/{task_id}").status_code == 403
    as_user(client, "suzuki")
    wrong = post(client, f"/office/tasks/{task_id}/assign", {"assignee": "outsider"})
    assert wrong.status_code == 400 and "neither a member" in text(wrong)
    with db.transaction() as session:
        assert office.task(session, task_id).assignee is None


def test_notes_are_added_to_the_history_for_staff_only(office, db, client):
    application_id, task_id = review(office, db)
    as_user(client, "tanaka")
    empty = post(client, f"/office/tasks/{task_id}/comments", {"body": "  "})
    assert empty.status_code == 400 and 'id="note-error"' in text(empty) and 'aria-invalid="true"' in text(empty)
    added = post(client, f"/office/tasks/{task_id}/comments", {"body": "申請者に電話で確認済み"}, follow=True)
    page = text(added)
    assert added.status_code == 200 and "メモを履歴に追加しました" in page
    assert "メモ</span>" in page and "申請者に電話で確認済み</blockquote>" in page and "tanaka" in page
    english(client)
    assert "Notes are kept in the history for staff" in text(client.get(f"/office/tasks/{task_id}"))
    with db.transaction() as session:
        assert [c.body for c in office.comments(session, application_id)] == ["申請者に電話で確認済み"]
        events = [e for e in office.show(session, application_id).as_dict()["history"] if e["action"] == "comment_added"]
    assert [e["actor"] for e in events] == ["tanaka"]
    as_user(client, "outsider")
    assert post(client, f"/office/tasks/{task_id}/comments", {"body": "覗き見"}).status_code == 403


def test_managers_find_their_groups_tasks_on_one_page(office, db, client):
    manage(office, db, "tanto", "suzuki")
    application_id, task_id = review(office, db)
    with db.transaction() as session:
        reference = office.application(session, application_id).reference
    as_user(client, "suzuki")
    assert 'href="/office/team">管理するグループのタスク</a>' in text(client.get("/office/"))
    page = text(client.get("/office/team"))
    assert '<h2 id="group-1">tanto</h2>' in page
    assert f'<a href="/office/tasks/{task_id}">{reference}</a>' in page
    as_user(client, "tanaka")
    assert "/office/team" not in text(client.get("/office/"))
    assert "管理しているグループはありません。" in text(client.get("/office/team"))
