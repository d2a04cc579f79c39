"""The API tokens page in a browser: create a token (the secret shown once), revoke it; axe
passes on the list and on the page that shows the secret."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.webui.browser.conftest import check_accessibility, sign_in_as
from tests.webui.conftest import add_staff


def test_an_admin_creates_and_revokes_a_token(engine, db, page):
    add_staff(engine, db, "root", "admin")
    sign_in_as(page, "root")
    page.goto("/admin/tokens")
    check_accessibility(page)
    page.get_by_label("名前", exact=True).fill("erp-sync")
    page.get_by_label("applications:read").check()
    page.get_by_label("tasks:write").check()
    page.get_by_label("有効期間").select_option("30d")
    with page.expect_navigation():
        page.get_by_role("button", name="トークンを作成する").click()
    secret = page.get_by_label("トークン", exact=True)
    expect(secret).to_have_value(re.compile(r"^mdg_"))
    check_accessibility(page)
    page.goto("/admin/tokens")
    expect(page.get_by_label("トークン", exact=True)).to_have_count(0)
    with page.expect_navigation():
        page.get_by_role("button", name="失効させる erp-sync").click()
    expect(page.locator(".flash-info")).to_have_text("トークン erp-sync を失効させました。")
    expect(page.get_by_role("cell", name="失効", exact=True)).to_be_visible()
    check_accessibility(page)
