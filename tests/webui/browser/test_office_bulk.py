"""Bulk approval in the browser, from the keyboard only: tick tasks (one by one and with "select
all"), approve them in one action, read what happened to each; axe on every page on the way.
A manager assigns a task and a note is added, also from the keyboard."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.webui.browser.conftest import check_accessibility, sign_in_as
from tests.webui.conftest import add_staff
from tests.webui.test_office_setup import APPROVAL, bulk_bundle, drafted, drafted_bulk, open_tasks, start

STAFF = {"tanaka": ("tanto",), "yamada": ("tanto",), "sato": ("kakaricho",), "kato": ("zaisei",),
         "ito": ("somu",), "suzuki": ("kacho",)}


@pytest.fixture(scope="module", autouse=True)
def bundles(site_engine, site_db, tmp_path_factory):
    with site_db.transaction() as session:
        site_engine.deploy(session, APPROVAL)
        site_engine.deploy(session, bulk_bundle(tmp_path_factory.mktemp("bundles")))
    for name, groups in STAFF.items():
        add_staff(site_engine, site_db, name, *groups)
    with site_db.transaction() as session:
        site_engine.add_group_manager(session, "tanto", "suzuki")


def reference(engine, db, application_id: int) -> str:
    with db.transaction() as session:
        return engine.show(session, application_id).application.reference


def press_space_on(page, locator) -> None:
    locator.focus()
    page.keyboard.press("Space")


def test_select_tasks_with_the_keyboard_and_approve_them_in_bulk(site_engine, site_db, site_page):
    allowed = [drafted_bulk(site_engine, site_db) for _ in range(3)]
    other = drafted(site_engine, site_db)
    references = [reference(site_engine, site_db, a) for a in allowed]
    page = site_page
    sign_in_as(page, "sato")
    page.goto("/office/?tab=groups")
    check_accessibility(page)
    table = page.get_by_role("table")
    pick_all = page.get_by_label("このページのタスクをすべて選択")
    expect(pick_all).to_be_visible()
    press_space_on(page, pick_all)  # everything, then untick the two we do not mean
    boxes = table.get_by_role("checkbox", name="を選択")
    expect(boxes).to_have_count(4)
    for box in boxes.all():
        expect(box).to_be_checked()
    press_space_on(page, page.get_by_label(f"{reference(site_engine, site_db, other)}「", exact=False))
    press_space_on(page, page.get_by_label(f"{references[2]}「", exact=False))
    expect(pick_all).not_to_be_checked()
    page.get_by_label("各承認に付けるコメント（任意）").fill("一括で確認")
    approve = page.get_by_role("button", name="選択したタスクを承認する")
    approve.focus()
    with page.expect_navigation():
        page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("一括決裁")
    expect(page.get_by_role("status")).to_have_text("承認：2 件。承認されなかったもの：0 件。")
    results = page.get_by_role("table")
    for done in references[:2]:
        expect(results.get_by_role("row").filter(has=page.get_by_role("rowheader", name=done))).to_contain_text("承認済み")
    check_accessibility(page)
    assert open_tasks(site_engine, site_db, allowed[2], "approve")  # not ticked: still waiting
    assert not open_tasks(site_engine, site_db, other, "approve")[0].assignee


def test_a_manager_assigns_and_a_note_is_added_from_the_keyboard(site_engine, site_db, site_page):
    (fresh,) = start(site_engine, site_db, "approval-test", {"amount": 1000, "purpose": "清掃"}).opened_tasks
    page = site_page
    sign_in_as(page, "suzuki")
    page.goto(f"/office/tasks/{fresh.id}")
    check_accessibility(page)
    page.get_by_label("割当て先").select_option("yamada")
    page.get_by_role("button", name="割り当てる").focus()
    with page.expect_navigation():
        page.keyboard.press("Enter")
    expect(page.get_by_role("main")).to_contain_text("このタスクを yamada に割り当てました。")
    page.get_by_label("職員用のメモを追加").fill("来週までに確認")
    page.get_by_role("button", name="メモを追加する").focus()
    with page.expect_navigation():
        page.keyboard.press("Enter")
    expect(page.get_by_role("main")).to_contain_text("来週までに確認")
    check_accessibility(page)
    with site_db.transaction() as session:
        assert site_engine.task(session, fresh.id).assignee == "yamada"
