"""The office task list: tabs and their counts, filters, sort, pages; claiming, alone and in bulk."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import update

from engine.office_queries import TaskFilters
from engine.store.models import HumanTask, utcnow
from tests.webui.test_office_setup import (
    as_user,
    away,
    dog,
    drafted,
    english,
    office_fixture,  # noqa: F401 (the fixture "office")
    open_tasks,
    post,
    rows_of,
    text,
)


def references(engine, db, task_ids: list[str]) -> list[str]:
    with db.transaction() as session:
        return [engine.application(session, engine.task(session, t).application_id).reference for t in task_ids]


def set_due(db, task_id: str, due) -> None:
    with db.transaction() as session:
        session.execute(update(HumanTask).where(HumanTask.id == task_id).values(due_at=due))


def test_each_tab_lists_its_tasks_with_counts(office, db, client):
    tasks = [dog(office, db, name) for name in ("ポチ", "タロ", "ハナ")]
    page = text(as_user(client, "eisei").get("/office/?tab=groups"))
    assert rows_of(page) == references(office, db, tasks)  # oldest first
    assert "グループのタスク <span class=\"count\">(3)</span>" in page
    assert "自分のタスク <span class=\"count\">(0)</span>" in page
    assert "<caption>" in page and 'scope="col"' in page and 'for="filter-text"' in page
    assert rows_of(text(client.get("/office/"))) == []  # nothing claimed or offered by name yet


def test_filters_narrow_the_list(office, db, client):
    first, second = dog(office, db, "ポチ"), dog(office, db, "タロ")
    application_id = drafted(office, db)
    with db.transaction() as session:
        office.add_user(session, "both", groups=["seikatsu-eisei", "kakaricho"], password="correct horse battery staple")
    as_user(client, "both")
    everything = rows_of(text(client.get("/office/?tab=groups")))
    assert len(everything) == 3
    dogs = rows_of(text(client.get("/office/?tab=groups&procedure=dog-registration")))
    assert dogs == references(office, db, [first, second])
    (route_task,) = open_tasks(office, db, application_id, "approve")
    assert rows_of(text(client.get("/office/?tab=groups&kind=approve"))) == references(office, db, [route_task.id])
    (reference,) = references(office, db, [second])
    assert rows_of(text(client.get(f"/office/?tab=groups&text={reference[-4:].lower()}"))) == [reference]
    assert len(rows_of(text(client.get("/office/?tab=groups&text=内容審査")))) == 2
    today = utcnow().date()
    assert rows_of(text(client.get(f"/office/?tab=groups&due_before={today}"))) == []  # due in 5 days
    later = today + timedelta(days=10)
    assert len(rows_of(text(client.get(f"/office/?tab=groups&due_before={later}")))) == 2
    answer = client.get("/office/?tab=groups&due_before=yesterday")
    assert answer.status_code == 200 and "YYYY-MM-DD" in text(answer) and len(rows_of(text(answer))) == 3


def test_sort_by_due_date_and_overdue_tab(office, db, client):
    first, second, third = (dog(office, db, name) for name in ("ポチ", "タロ", "ハナ"))
    set_due(db, third, utcnow() - timedelta(days=1))
    set_due(db, first, None)
    as_user(client, "eisei")
    assert rows_of(text(client.get("/office/?tab=groups&sort=due"))) == references(office, db, [third, second, first])
    overdue = text(client.get("/office/?tab=overdue"))
    assert rows_of(overdue) == references(office, db, [third]) and "期限超過 <span class=\"count\">(1)</span>" in overdue


def test_pages_of_the_list(office, db, client, monkeypatch):
    import webui.office.task_list as task_list

    monkeypatch.setattr(task_list, "PER_PAGE", 2)
    tasks = [dog(office, db, name) for name in ("ポチ", "タロ", "ハナ")]
    as_user(client, "eisei")
    first = text(client.get("/office/?tab=groups"))
    assert rows_of(first) == references(office, db, tasks[:2]) and "1 / 2ページ" in first
    assert 'href="/office/?tab=groups&amp;page=2"' in first
    second = text(client.get("/office/?tab=groups&page=2"))
    assert rows_of(second) == references(office, db, tasks[2:]) and 'rel="prev"' in second


def test_the_query_pages_and_counts_without_the_web(office, db):
    tasks = [dog(office, db, name) for name in ("ポチ", "タロ", "ハナ")]
    with db.transaction() as session:
        page = office.office_tasks(session, user="eisei", tab="groups", page=2, per_page=2)
        filtered = office.office_tasks(session, user="eisei", tab="groups",
                                       filters=TaskFilters(procedure="approval-test"))
    assert [r.id for r in page.rows] == tasks[2:] and page.total == 3 and page.pages == 2
    assert page.counts == {"mine": 0, "groups": 3, "delegated": 0, "overdue": 0}
    assert filtered.rows == [] and filtered.counts["groups"] == 0


def test_claim_and_release(office, db, client):
    task_id = dog(office, db)
    as_user(client, "eisei")
    claimed = post(client, f"/office/tasks/{task_id}/claim", {"next": "/office/?tab=groups"}, follow=True)
    assert "を引き受けました" in text(claimed)
    mine = text(client.get("/office/"))
    assert rows_of(mine) == references(office, db, [task_id]) and "引受け解除" in mine
    released = post(client, f"/office/tasks/{task_id}/unclaim", follow=True)
    assert "引受けを解除しました" in text(released) and rows_of(text(client.get("/office/"))) == []
    with db.transaction() as session:
        assert office.task(session, task_id).assignee is None


def test_a_claim_someone_else_made_first_is_explained(office, db, client):
    task_id = dog(office, db)
    with db.transaction() as session:
        office.add_user(session, "eisei2", groups=["seikatsu-eisei"])
    with db.transaction() as session:
        office.claim(session, task_id, actor="eisei2")
    as_user(client, "eisei")
    answer = post(client, f"/office/tasks/{task_id}/claim", follow=True)
    assert answer.status_code == 200 and "再読み込み" in text(answer) and "eisei2" in text(answer)


def test_bulk_claim(office, db, client):
    tasks = [dog(office, db, name) for name in ("ポチ", "タロ", "ハナ")]
    as_user(client, "eisei")
    page = text(client.get("/office/?tab=groups"))
    assert 'form="bulk-claim"' in page and 'id="bulk-claim"' in page
    answer = post(client, "/office/claim", {"task_id": tasks[:2], "next": "/office/?tab=groups"}, follow=True)
    assert "2件のタスクを引き受けました。" in text(answer)
    assert rows_of(text(client.get("/office/"))) == references(office, db, tasks[:2])
    nothing = post(client, "/office/claim", follow=True)
    assert "引き受けるタスクを先に選択してください。" in text(nothing)


def test_claims_without_the_csrf_token_are_refused(office, db, client):
    task_id = dog(office, db)
    as_user(client, "eisei")
    assert client.post(f"/office/tasks/{task_id}/claim").status_code == 400
    assert client.post("/office/claim", data={"task_id": task_id, "csrf_token": "forged"}).status_code == 400
    with db.transaction() as session:
        assert office.task(session, task_id).assignee is None


def test_delegated_to_me_lists_the_tasks_of_absent_people_i_stand_in_for(office, db, client):
    application_id = drafted(office, db)
    away(office, db, "sato", substitute="kondo")
    (task,) = open_tasks(office, db, application_id, "approve")
    delegated = text(as_user(client, "kondo").get("/office/?tab=delegated"))
    assert rows_of(delegated) == references(office, db, [task.id])
    assert "代決対象 <span class=\"count\">(1)</span>" in delegated
    assert rows_of(text(as_user(client, "suzuki").get("/office/?tab=delegated"))) == []


def test_the_list_in_english(office, db, client):
    dog(office, db)
    as_user(client, "eisei")
    english(client)
    page = text(client.get("/office/?tab=groups"))
    assert "<h1>My groups&#39; tasks</h1>" in page and "Take on the selected tasks" in page
    assert "Due on or before" in page and "Procedure task" in page



def test_my_tasks_holds_what_is_offered_to_me_by_name(office, db, client):
    application_id = drafted(office, db)
    (task,) = open_tasks(office, db, application_id, "approve")
    with db.transaction() as session:
        office.decide(session, task.id, actor="sato", decision="return", comment="見積書がありません", to="drafter")
    (resubmit,) = open_tasks(office, db, application_id, "resubmit")
    page = text(as_user(client, "tanaka").get("/office/"))
    assert rows_of(page) == references(office, db, [resubmit.id]) and "差戻し（再提出）" in page
    assert "自分のタスク <span class=\"count\">(1)</span>" in page
