"""Task-list counts stop at a cap: past it the tabs and the pages say "more than"."""

from __future__ import annotations

import engine.office_queries as office_queries
from tests.webui.test_office_setup import (
    as_user,
    dog,
    english,
    office_fixture,  # noqa: F401 (the fixture "office")
    rows_of,
    text,
)


def test_counts_stop_at_the_cap_and_the_pages_go_on(office, db, monkeypatch):
    monkeypatch.setattr(office_queries, "COUNT_CAP", 2)
    tasks = [dog(office, db, name) for name in ("ポチ", "タロ", "ハナ")]
    with db.transaction() as session:
        first = office.office_tasks(session, user="eisei", tab="groups", per_page=1)
        second = office.office_tasks(session, user="eisei", tab="groups", page=2, per_page=1)
        last = office.office_tasks(session, user="eisei", tab="groups", page=3, per_page=1)
        mine = office.office_tasks(session, user="eisei", tab="mine", per_page=1)
    assert first.counts == {"mine": 0, "groups": 2, "delegated": 0, "overdue": 0}
    assert first.capped == {"groups"} and first.total_capped and first.total == 2
    assert [r.id for r in first.rows] == tasks[:1] and first.has_next and first.pages == 2
    assert [r.id for r in second.rows] == tasks[1:2] and second.has_next and second.pages == 3
    assert [r.id for r in last.rows] == tasks[2:] and not last.has_next and last.pages == 3
    assert mine.capped == {"groups"} and not mine.total_capped and mine.rows == [] and mine.pages == 1


def test_below_the_cap_counts_are_exact(office, db, monkeypatch):
    monkeypatch.setattr(office_queries, "COUNT_CAP", 3)
    tasks = [dog(office, db, name) for name in ("ポチ", "タロ", "ハナ")]
    with db.transaction() as session:
        page = office.office_tasks(session, user="eisei", tab="groups", per_page=2)
    assert page.counts["groups"] == 3 and page.capped == frozenset() and not page.total_capped
    assert [r.id for r in page.rows] == tasks[:2] and page.has_next and page.pages == 2


def test_the_page_says_when_a_count_is_capped(office, db, client, monkeypatch):
    import webui.office.task_list as task_list

    monkeypatch.setattr(office_queries, "COUNT_CAP", 2)
    monkeypatch.setattr(task_list, "PER_PAGE", 1)
    for name in ("ポチ", "タロ", "ハナ"):
        dog(office, db, name)
    as_user(client, "eisei")
    groups = text(client.get("/office/?tab=groups&page=2"))
    assert 'グループのタスク <span class="count">(2件超)</span>' in groups
    assert "2件超（2ページ目）" in groups and "<span>2ページ目</span>" in groups
    assert 'href="/office/?tab=groups&amp;page=3" rel="next"' in groups
    assert len(rows_of(groups)) == 1
    mine = text(client.get("/office/"))
    assert '自分のタスク <span class="count">(0)</span>' in mine and "(2件超)" in mine
    english(client)
    in_english = text(client.get("/office/?tab=groups"))
    assert '<span class="count">(2+)</span>' in in_english and "More than 2 tasks, page 1" in in_english
