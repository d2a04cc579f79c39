"""An approver's day in the browser: filter the task list, take a task on and complete its form,
approve on an approval route, return a case with its reason (差戻し).

One server per module over one SQLite database; every test starts its own applications and
signs in as its own user, so the tests do not depend on one another's data.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.webui.browser.conftest import check_accessibility, sign_in_as
from tests.webui.conftest import add_staff
from tests.webui.test_office_setup import APPROVAL, DOG, dog, drafted, open_tasks

#: The approval test bundle's staff and the dog registration's reviewers; "mado" sits in both
#: the reviewers' group and the 係長 group, so two procedures meet in one list.
STAFF = {"tanaka": ("tanto",), "sato": ("kakaricho",), "kato": ("zaisei",), "ito": ("somu",),
         "suzuki": ("kacho",), "eisei": ("seikatsu-eisei",), "mado": ("seikatsu-eisei", "kakaricho")}


@pytest.fixture(scope="module", autouse=True)
def bundles(site_engine, site_db):
    with site_db.transaction() as session:
        site_engine.deploy(session, APPROVAL)
        site_engine.deploy(session, DOG)
    for name, groups in STAFF.items():
        add_staff(site_engine, site_db, name, *groups)


def reference_of(engine, db, task_id: str) -> str:
    with db.transaction() as session:
        return engine.show(session, engine.task(session, task_id).application_id).application.reference


def row_of(page, reference: str):
    return page.get_by_role("row").filter(has=page.get_by_role("rowheader", name=reference))


def test_filter_the_task_list_by_text_and_by_procedure(site_engine, site_db, site_page):
    dogs = [reference_of(site_engine, site_db, dog(site_engine, site_db, name)) for name in ("ハチ", "モモ")]
    subsidy = drafted(site_engine, site_db)
    with site_db.transaction() as session:
        subsidy_reference = site_engine.show(session, subsidy).application.reference
    page = site_page
    sign_in_as(page, "mado")
    page.get_by_role("navigation", name="タスク一覧").get_by_role("link", name="グループのタスク").click()
    main = page.get_by_role("main")
    for reference in (*dogs, subsidy_reference):
        expect(main).to_contain_text(reference)

    search = page.get_by_role("search", name="タスクの絞り込み")
    search.get_by_label("受付番号・タスク名（部分一致）").fill(dogs[1])
    search.get_by_role("button", name="表示").click()
    expect(page).to_have_url(re.compile(rf"/office/\?tab=groups&.*text={dogs[1]}"))
    rows = page.get_by_role("table").get_by_role("rowheader")
    expect(rows).to_have_text([dogs[1]])
    expect(search.get_by_label("受付番号・タスク名（部分一致）")).to_have_value(dogs[1])  # the filter is kept
    check_accessibility(page)

    page.get_by_role("link", name="絞り込みを解除").click()
    search.get_by_label("手続").select_option("approval-test")
    search.get_by_role("button", name="表示").click()
    expect(rows.filter(has_text=subsidy_reference)).to_have_count(1)
    for reference in dogs:
        expect(rows.filter(has_text=reference)).to_have_count(0)


def test_take_a_task_on_from_the_list_and_complete_its_form(site_engine, site_db, site_page):
    task_id = dog(site_engine, site_db, "ポチ")
    reference = reference_of(site_engine, site_db, task_id)
    page = site_page
    sign_in_as(page, "eisei")
    page.get_by_role("link", name="グループのタスク").click()
    row_of(page, reference).get_by_role("button", name="引き受ける").click()
    expect(page.get_by_role("status")).to_contain_text("「内容審査」を引き受けました。")
    expect(row_of(page, reference)).to_contain_text("eisei")
    page.get_by_role("link", name="自分のタスク").click()
    row_of(page, reference).get_by_role("link", name=reference).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("内容審査")
    check_accessibility(page)

    form = page.get_by_role("region", name="タスクの完了")
    form.get_by_role("button", name="完了する").click()  # nothing chosen: refused, said beside the field
    expect(page.get_by_role("alert")).to_contain_text("入力内容に誤りがあります。保存されていません。")
    expect(form).to_contain_text("この項目は必須です。")
    check_accessibility(page)  # the error state too
    form.get_by_label("approve").check()
    form.get_by_label("所見").fill("書類に不備なし")
    form.get_by_role("button", name="完了する").click()
    expect(page.get_by_role("status")).to_contain_text("タスクを完了しました。")
    with site_db.transaction() as session:
        task = site_engine.task(session, task_id)
        assert (task.status, task.completed_by) == ("completed", "eisei")
    [approval] = open_tasks(site_engine, site_db, task.application_id)
    assert approval.name == "決裁（係長専決）"


def test_approve_on_an_approval_route_with_a_comment(site_engine, site_db, site_page):
    application_id = drafted(site_engine, site_db)
    (task,) = open_tasks(site_engine, site_db, application_id, "approve")
    page = site_page
    sign_in_as(page, "sato")
    page.goto(f"/office/tasks/{task.id}")
    decision = page.get_by_role("region", name="あなたの判断")
    decision.get_by_role("radio", name="承認").check()
    decision.get_by_label("意見・理由").fill("内容を確認しました")
    decision.get_by_role("button", name="判断を登録する").click()
    expect(page.get_by_role("status")).to_contain_text("判断を登録しました：承認")
    expect(page.get_by_role("main")).to_contain_text("内容を確認しました")  # in the history
    check_accessibility(page)
    with site_db.transaction() as session:
        decisions = [(d.actor, d.decision, d.comment) for d in site_engine.decisions(session, application_id)]
    assert decisions[-1] == ("sato", "approve", "内容を確認しました")
    assert [t.kind for t in open_tasks(site_engine, site_db, application_id) if t.kind != "circulate"] == ["consult"]


def test_return_to_the_drafter_needs_a_reason_and_reaches_the_drafter(site_engine, site_db, site_page):
    application_id = drafted(site_engine, site_db)
    (task,) = open_tasks(site_engine, site_db, application_id, "approve")
    page = site_page
    sign_in_as(page, "sato")
    page.goto(f"/office/tasks/{task.id}")
    decision = page.get_by_role("region", name="あなたの判断")
    decision.get_by_role("radio", name="差戻し").check()
    decision.get_by_label("差戻し先（差戻しの場合のみ）").select_option("drafter")
    decision.get_by_role("button", name="判断を登録する").click()  # no reason given
    expect(page.get_by_role("alert")).to_be_visible()
    expect(decision.get_by_label("意見・理由")).to_have_attribute("aria-invalid", "true")
    check_accessibility(page)
    assert open_tasks(site_engine, site_db, application_id, "resubmit") == []

    decision.get_by_label("意見・理由").fill("見積書を添付してください")
    decision.get_by_role("button", name="判断を登録する").click()
    expect(page.get_by_role("status")).to_contain_text("判断を登録しました：")
    (resubmit,) = open_tasks(site_engine, site_db, application_id, "resubmit")
    assert resubmit.candidate_users == ["tanaka"]

    page.get_by_role("button", name="ログアウト").click()
    sign_in_as(page, "tanaka")
    page.goto(f"/office/tasks/{resubmit.id}")
    expect(page.get_by_role("main")).to_contain_text("見積書を添付してください")  # the reason reaches the drafter
    check_accessibility(page)
