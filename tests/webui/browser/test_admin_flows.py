"""An administrator in the browser: a broken diagram dropped on the upload box is refused with
its problems and their lines, the corrected one deploys; a form built in the form builder is
what the next application's task shows, and completing the task is checked against it."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.diagrams import chain, flow, process, script_task
from tests.webui.browser.conftest import check_accessibility, sign_in_as
from tests.webui.conftest import add_staff
from tests.webui.test_admin_definitions import BROKEN
from tests.webui.test_office_setup import DOG, dog, open_tasks

#: BROKEN with its three problems fixed: a Python script, a condition on each flow out of the gateway.
FIXED = process("broken", "\n".join([
    '<bpmn:startEvent id="s"/>', script_task("js", "x = 1"),
    '<bpmn:exclusiveGateway id="g"/>', '<bpmn:endEvent id="e1"/>', '<bpmn:endEvent id="e2"/>',
    chain("s", "js", "g"), flow("no_condition_a", "g", "e1", "x == 1"), flow("no_condition_b", "g", "e2", "x != 1"),
]))


@pytest.fixture(scope="module", autouse=True)
def people(site_engine, site_db):
    add_staff(site_engine, site_db, "root", "admin")
    add_staff(site_engine, site_db, "eisei", "seikatsu-eisei")


def line_of(text: str, needle: str) -> int:
    return next(number for number, line in enumerate(text.splitlines(), 1) if needle in line)


def drop_file(page, zone, name: str, content: str) -> None:
    """Drop a file onto ``zone`` as the operating system would (a drop event with its files)."""
    transfer = page.evaluate_handle("""([name, content]) => {
        const transfer = new DataTransfer();
        transfer.items.add(new File([content], name, {type: "application/xml"}));
        return transfer;
    }""", [name, content])
    zone.dispatch_event("drop", {"dataTransfer": transfer})


def test_a_broken_diagram_shows_its_problems_then_the_fixed_one_deploys(site_engine, site_db, site_page, tmp_path):
    page = site_page
    sign_in_as(page, "root")
    page.goto("/admin/")
    drop_file(page, page.locator("[data-drop-zone]"), "broken.bpmn", BROKEN)
    expect(page.get_by_label(".bpmn の図または .zip のバンドル")).to_be_focused()
    page.get_by_role("button", name="検査して登録する").click()

    expect(page.get_by_role("alert")).to_have_text("broken.bpmn は登録されませんでした：問題 3 件")
    problems = page.get_by_role("region", name="broken.bpmn は登録されませんでした：問題 3 件").get_by_role("row")
    expect(problems).to_have_count(4)  # the header and one row per problem, each with its line
    for row, element in zip(range(1, 4), ("js", "no_condition_a", "no_condition_b"), strict=True):
        cells = problems.nth(row).get_by_role("cell")
        expect(cells.nth(0)).to_have_text("broken.bpmn")
        expect(cells.nth(1)).to_have_text(str(line_of(BROKEN, f'id="{element}"')))
        expect(cells.nth(2)).to_have_text(element)
    expect(problems.nth(1)).to_contain_text('set scriptFormat="python"')
    check_accessibility(page)
    with site_db.transaction() as session:
        assert site_engine.definitions(session) == []

    fixed = tmp_path / "broken.bpmn"
    fixed.write_text(FIXED, encoding="utf-8")
    page.get_by_label(".bpmn の図または .zip のバンドル").set_input_files(fixed)
    page.get_by_role("button", name="検査して登録する").click()
    expect(page).to_have_url("/admin/definitions/broken/1")
    expect(page.get_by_role("status")).to_contain_text("broken 第1版を登録しました。")
    expect(page.get_by_role("main")).to_contain_text("broken.bpmn")
    check_accessibility(page)
    with site_db.transaction() as session:
        assert [(d.key, d.version, d.deployed_by) for d in site_engine.definitions(session)] == [("broken", 1, "root")]


def test_a_form_built_in_the_builder_is_used_by_the_next_task(site_engine, site_db, site_page):
    with site_db.transaction() as session:
        site_engine.deploy(session, DOG)
    page = site_page
    sign_in_as(page, "root")
    page.goto("/admin/forms/")
    page.get_by_role("link", name="dog-registration のフォーム review を編集").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("review")
    check_accessibility(page)

    page.get_by_role("button", name="項目を追加").click()
    added = page.get_by_role("group", name="項目 3", exact=True)
    # (by its name attribute: the label "Name" has two Japanese renderings in the catalogue parts)
    added.locator("input[name$='-name']").fill("inspector")
    added.get_by_label("ラベル（日本語）").fill("確認者")
    added.get_by_label("ラベル（英語）").fill("Checked by")
    added.get_by_label("必須").check()
    # The preview follows the typing (form_builder.js asks the server for it again).
    expect(page.get_by_role("complementary", name="プレビュー")).to_contain_text("確認者")
    check_accessibility(page)
    page.get_by_role("button", name="新しい版として保存").click()
    expect(page.get_by_role("status")).to_contain_text("dog-registration")
    with site_db.transaction() as session:
        assert max(d.version for d in site_engine.definitions(session) if d.key == "dog-registration") == 2

    page.get_by_role("button", name="ログアウト").click()
    task_id = dog(site_engine, site_db, "コロ")  # a new application: the latest version, the new form
    sign_in_as(page, "eisei")
    page.goto(f"/office/tasks/{task_id}")
    form = page.get_by_role("region", name="タスクの完了")
    expect(form.get_by_label("確認者")).to_be_visible()
    form.get_by_label("approve").check()
    form.get_by_role("button", name="完了する").click()
    expect(page.get_by_role("alert")).to_contain_text("保存されていません")
    expect(form.get_by_label("確認者")).to_have_attribute("aria-invalid", "true")
    expect(form).to_contain_text("この項目は必須です。")
    assert [t.id for t in open_tasks(site_engine, site_db, _application_of(site_engine, site_db, task_id))] == [task_id]

    form.get_by_label("確認者").fill("田中")
    form.get_by_role("button", name="完了する").click()
    expect(page.get_by_role("status")).to_contain_text("タスクを完了しました。")
    with site_db.transaction() as session:
        view = site_engine.show(session, site_engine.task(session, task_id).application_id).as_dict()
    assert view["version"] == 2 and view["data"]["inspector"] == "田中"


def _application_of(engine, db, task_id: str) -> int:
    with db.transaction() as session:
        return engine.task(session, task_id).application_id

