"""Staff sign-in and sign-out through the real form, the language switch, the skip link."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import expect

from engine.cli.demo import SAMPLE_DATA, SAMPLE_KEY
from tests.webui.browser.conftest import check_accessibility
from tests.webui.conftest import PASSWORD, add_staff

SAMPLES = Path(__file__).parents[3] / "workflows"


def a_task_for(engine, db, name: str) -> str:
    """Start the sample dog registration and give its review task to ``name``; its reference."""
    with db.transaction() as session:
        engine.deploy(session, SAMPLES / SAMPLE_KEY)
        started = engine.start(session, SAMPLE_KEY, data=SAMPLE_DATA, actor="portal")
        engine.claim(session, started.opened_tasks[0].id, actor=name)
        return started.application.reference


def sign_in_form(page, name: str, password: str) -> None:
    page.goto("/sign-in")
    page.get_by_label("ユーザー名").fill(name)
    page.get_by_label("パスワード").fill(password)
    page.get_by_role("main").get_by_role("button", name="ログイン").click()


def test_sign_in_lands_on_the_task_list_and_sign_out_ends_the_session(engine, db, page):
    add_staff(engine, db, "tanaka", "seikatsu-eisei")
    reference = a_task_for(engine, db, "tanaka")
    page.goto("/sign-in")
    check_accessibility(page)
    sign_in_form(page, "tanaka", PASSWORD)
    expect(page).to_have_url("/office/")
    expect(page.get_by_role("heading", level=1)).to_have_text("自分のタスク")
    expect(page.get_by_role("main")).to_contain_text(reference)
    check_accessibility(page)  # with a row in the list, not only the empty state

    page.get_by_role("button", name="ログアウト").click()
    expect(page).to_have_url("/sign-in")
    expect(page.get_by_role("status")).to_have_text("ログアウトしました。")
    page.goto("/office/")
    expect(page).to_have_url("/sign-in?next=/office/")


def test_a_wrong_password_says_so(engine, db, page):
    add_staff(engine, db, "tanaka", "tanto")
    sign_in_form(page, "tanaka", "not the password")
    expect(page.get_by_role("alert")).to_have_text("ユーザー名またはパスワードが正しくありません。")
    expect(page.get_by_label("ユーザー名")).to_have_value("tanaka")
    check_accessibility(page)


def test_the_language_switch_goes_to_english_and_back(page):
    page.goto("/sign-in")
    page.get_by_role("button", name="English").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page).to_have_url("/sign-in")
    page.get_by_role("button", name="日本語").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("ログイン")
    expect(page.locator("html")).to_have_attribute("lang", "ja")


def test_the_skip_link_is_the_first_tab_stop_and_moves_focus_to_main(page):
    page.goto("/sign-in")
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="本文へ移動")
    expect(skip).to_be_focused()
    expect(skip).to_be_in_viewport()  # shown when focused, not left off screen
    page.keyboard.press("Enter")
    expect(page.locator("main#main")).to_be_focused()
