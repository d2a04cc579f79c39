"""A resident in the browser signs a certificate request with the development card, pays the
fee on the stand-in gateway's page and comes back to see it paid — axe on every page of ours."""

from __future__ import annotations

import time

import pytest
from playwright.sync_api import expect

from plugins.payment.standin import StandinGateway
from tests.plugins.payment_support import payment_rows, settle
from tests.webui.browser.conftest import check_accessibility
from tests.webui.portal_apply_support import PASSWORD, add_applicant
from tests.webui.portal_pay_sign_support import SIGNED, deploy_both, trusted_signer

SECRET = "browser-callback-secret"


@pytest.fixture
def gateway(live_server, engine, db, settings, monkeypatch):
    trusted_signer(settings.home, monkeypatch)
    with StandinGateway(api_key="browser-key", callback_secret=SECRET, merchant_id="madoguchi") as running:
        for name, value in {"BASE_URL": running.url, "MERCHANT_ID": "madoguchi", "API_KEY": "browser-key",
                            "CALLBACK_SECRET": SECRET, "CALLBACK_URL": f"{live_server}/payments/callbacks/standin",
                            "RETURN_URL": f"{live_server}/payments/return"}.items():
            monkeypatch.setenv(f"MADOGUCHI_PAYMENT_{name}", value)
        deploy_both(engine, db)
        yield running


def test_sign_with_the_development_card_then_pay(engine, db, page, gateway):
    add_applicant(engine, db)
    page.goto("/account/sign-in")
    page.locator("#email").fill("hanako@example.jp")
    page.locator("#password").fill(PASSWORD)
    page.locator("main form button[type=submit]").click()
    expect(page).to_have_url("/mypage")

    page.goto(f"/procedures/{SIGNED}/apply")
    page.locator("#field-copies").fill("2")
    page.locator("#field-purpose").fill("就職手続き")
    page.locator("main form button[value='confirm']").click()
    page.locator("main form button[value='submit']").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("申請への電子署名")
    check_accessibility(page)

    page.get_by_role("button", name="開発用カードで署名する").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("お支払い")
    check_accessibility(page)  # "being prepared"

    settle(engine, db)
    page.reload()
    page.get_by_role("link", name="¥300 を支払う").click()
    page.locator("button[value='paid']").click()  # the stand-in gateway's own page
    expect(page).to_have_url("/payments/return")
    deadline = time.monotonic() + 10
    while payment_rows(db)[0].status != "paid":
        assert time.monotonic() < deadline, "the callback did not arrive"
        time.sleep(0.05)
    page.reload()
    expect(page.locator(".payment-state")).to_have_text("支払済み")
    check_accessibility(page)
