"""Applying in the browser: the form with JavaScript (conditional fields shown live) and
without it (the same answers, decided on the server), errors, the confirmation page, the
receipt, a draft on My Page — with axe on every page."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.webui.browser.conftest import check_accessibility
from tests.webui.portal_apply_support import APPLY, PASSWORD, add_applicant, deploy


@pytest.fixture
def applicant(engine, db):
    deploy(engine, db)
    add_applicant(engine, db)


def sign_in(page) -> None:
    page.goto("/account/sign-in")
    page.locator("#email").fill("hanako@example.jp")
    page.locator("#password").fill(PASSWORD)
    page.get_by_role("button", name="ログイン").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("マイページ")


def fill_the_form(page) -> None:
    page.get_by_label("届出の種類").select_option("renew")
    page.locator("#field-previous_number").fill("R-2025-001")
    page.locator("#field-household").fill("3")
    page.get_by_role("checkbox", name="はい").check()
    page.get_by_role("radio", name="2台").check()
    page.locator("#field-move_date").fill("2026-12-01")


def test_apply_with_javascript(engine, db, page, applicant):
    sign_in(page)
    page.goto(APPLY)
    expect(page.get_by_role("heading", level=1)).to_have_text("転入に伴う届出")
    expect(page.locator("#field-applicant_name")).to_have_value("山田 花子")  # from the profile
    # Conditional fields are hidden until their condition holds.
    expect(page.locator("#wrap-previous_number")).to_be_hidden()
    expect(page.locator("#wrap-vehicle_count")).to_be_hidden()
    check_accessibility(page)

    page.locator("#field-applicant_name").fill("髙橋 花子")
    page.get_by_label("届出の種類").select_option("renew")
    expect(page.locator("#wrap-previous_number")).to_be_visible()
    page.get_by_role("button", name="入力内容の確認").click()
    summary = page.locator("#error-summary")
    expect(summary).to_be_focused()
    expect(summary.get_by_role("link")).to_have_count(4)  # name (JIS), previous number, household, date
    expect(page.locator("#field-applicant_name-error")).to_contain_text("髙 → 高")
    expect(page.locator("#field-applicant_name")).to_have_attribute("aria-invalid", "true")
    check_accessibility(page)

    page.locator("#field-applicant_name").fill("高橋 花子")
    fill_the_form(page)
    page.get_by_role("button", name="下書きとして保存").click()
    expect(page.get_by_role("heading", name="下書き")).to_be_visible()
    check_accessibility(page)
    page.get_by_role("link", name="転入に伴う届出（申請テスト）").click()
    expect(page.locator("#field-previous_number")).to_have_value("R-2025-001")
    page.get_by_role("button", name="入力内容の確認").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("入力内容の確認")
    expect(page.locator("dl.answers")).to_contain_text("2台")
    check_accessibility(page)
    page.get_by_role("button", name="送信する").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("申請受付")
    check_accessibility(page)
    page.get_by_role("link", name="マイページで申請を見る").click()
    expect(page.get_by_text("送信済")).to_be_visible()
    expect(page.get_by_role("link", name="この申請を取り下げる")).to_be_visible()
    check_accessibility(page)
    with db.transaction() as session:
        assert engine.applicant_drafts(session, 1) == []


def test_apply_without_javascript(engine, db, browser, live_server, applicant):
    context = browser.new_context(base_url=live_server, locale="ja-JP", java_script_enabled=False)
    page = context.new_page()
    try:
        sign_in(page)
        page.goto(APPLY)
        # Every field is there; a conditional one says when it applies.
        expect(page.locator("#wrap-previous_number")).to_be_visible()
        expect(page.locator("#field-previous_number-condition")).to_have_text(
            "「届出の種類」が「更新」の場合に記入してください。")
        fill_the_form(page)
        page.locator("#field-previous_number").fill("")
        page.get_by_role("button", name="入力内容の確認").click()
        expect(page.locator("#field-previous_number-error")).to_contain_text("前回の受付番号を入力してください。")
        page.locator("#field-previous_number").fill("R-2025-001")
        page.get_by_role("button", name="入力内容の確認").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("入力内容の確認")
        page.get_by_role("button", name="送信する").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("申請受付")
    finally:
        context.close()
    with db.transaction() as session:
        [filed] = engine.applicant_applications(session, 1)
        data = engine.show(session, filed.id).data
    assert (data["previous_number"], data["vehicle_count"], data["household"]) == ("R-2025-001", 2, 3)
