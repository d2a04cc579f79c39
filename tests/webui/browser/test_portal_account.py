"""An applicant in the browser: register, confirm by opening the link in the mail a real SMTP
server received, sign in, see My Page with their application — with axe on every page."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.plugins.mail_server import Inbox, smtp_server
from tests.webui.browser.conftest import check_accessibility

SAMPLES = Path(__file__).parents[3] / "workflows"
PASSWORD = "hanako-password-1"


@pytest.fixture
def inbox(monkeypatch):
    inbox = Inbox()
    with smtp_server(inbox) as port:
        monkeypatch.setenv("MADOGUCHI_MAIL_HOST", "127.0.0.1")
        monkeypatch.setenv("MADOGUCHI_MAIL_PORT", str(port))
        yield inbox


def test_register_confirm_sign_in_and_my_page(engine, db, page, inbox):
    page.goto("/account/register")
    expect(page.get_by_role("heading", level=1)).to_have_text("利用者登録")
    expect(page.locator("#company_name")).to_be_hidden()  # business fields only for a business
    check_accessibility(page)

    # A mistake first: the error shows beside its field and in the summary.
    page.locator("#email").fill("hanako@example.jp")
    page.locator("#password").fill(PASSWORD)
    page.locator("#password_confirm").fill(PASSWORD)
    page.locator("#name").fill("山田 花子")
    page.locator("#postcode").fill("12-34")
    page.get_by_role("button", name="登録する").click()
    expect(page.locator("#postcode-error")).to_have_text("郵便番号は7桁です（例：100-0001）。")
    expect(page.locator("#postcode")).to_have_attribute("aria-invalid", "true")
    check_accessibility(page)

    page.locator("#password").fill(PASSWORD)
    page.locator("#password_confirm").fill(PASSWORD)
    page.locator("#name_kana").fill("やまだ はなこ")
    page.locator("#postcode").fill("100-0001")
    page.locator("#address").fill("本町1-2-3")
    page.get_by_role("button", name="登録する").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("メールをご確認ください")
    check_accessibility(page)

    assert engine.worker(db).run_once() == 1
    [mail] = inbox.messages
    link = re.search(r"http://127\.0\.0\.1:\d+/account/verify/\S+", mail.get_body(("plain",)).get_content()).group(0)
    page.goto(link)
    expect(page).to_have_url("/account/sign-in")
    expect(page.get_by_role("status")).to_have_text("メールアドレスを確認しました。ログインしてください。")
    check_accessibility(page)

    with db.transaction() as session:
        engine.deploy(session, SAMPLES / "dog-registration")
        [account] = engine.applicants(session)
        data = {**engine.applicant_prefill(session, account.id), "kind": "new", "dog_name": "ポチ"}
        reference = engine.start_for_applicant(session, "dog-registration", account.id, data).application.reference

    page.locator("#email").fill("hanako@example.jp")
    page.locator("#password").fill(PASSWORD)
    page.get_by_role("main").get_by_role("button", name="ログイン").click()
    expect(page).to_have_url("/mypage")
    expect(page.get_by_role("heading", level=1)).to_have_text("マイページ")
    row = page.get_by_role("row").filter(has_text=reference)
    expect(row).to_contain_text("犬の登録申請")
    expect(row).to_contain_text("送信済")
    expect(page.get_by_role("banner")).to_contain_text("山田 花子")
    check_accessibility(page)

    row.get_by_role("link", name=reference).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("犬の登録申請")
    check_accessibility(page)

    page.goto("/account/profile")
    expect(page.locator("#name_kana")).to_have_value("ヤマダ ハナコ")
    check_accessibility(page)

    page.get_by_role("banner").get_by_role("button", name="ログアウト").click()
    expect(page).to_have_url("/account/sign-in")
    page.goto("/mypage")
    expect(page).to_have_url("/account/sign-in?next=/mypage")


def test_business_fields_appear_for_a_business(page):
    page.goto("/account/register")
    page.get_by_label("法人", exact=True).check()
    expect(page.locator("#corporate_number")).to_be_visible()
    check_accessibility(page)
