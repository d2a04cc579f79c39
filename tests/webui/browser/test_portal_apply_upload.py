"""Applying with a large attachment in the browser: the upload field sends the file with tus in
pieces as soon as it is chosen, the form then carries only the finished upload, and the
application's data holds the file's reference."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.webui.browser.conftest import check_accessibility
from tests.webui.conftest import add_staff
from tests.webui.portal_apply_support import PASSWORD, add_applicant

BUNDLE = Path(__file__).parents[2] / "workflows" / "portal_attach"
APPLY = "/procedures/portal-attach-test/apply"
#: Three tus pieces of 8 MB; the 200 MB case takes the same path with 25 of them.
SIZE = 20 * 1024 * 1024


@pytest.fixture
def applicant(engine, db):
    with db.transaction() as session:
        engine.deploy(session, BUNDLE)
    add_staff(engine, db, "tanaka", "tanto")
    return add_applicant(engine, db)


@pytest.fixture
def large_pdf(tmp_path) -> Path:
    path = tmp_path / "事業計画書.pdf"
    with path.open("wb") as out:
        out.write(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
        block = bytes(range(256)) * 4096  # 1 MB
        while out.tell() < SIZE:
            out.write(block[: SIZE - out.tell()])
    return path


def test_apply_with_a_large_file_through_the_upload_widget(engine, db, page, applicant, large_pdf):
    page.goto("/account/sign-in")
    page.locator("#email").fill("hanako@example.jp")
    page.locator("#password").fill(PASSWORD)
    page.get_by_role("main").get_by_role("button", name="ログイン").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("マイページ")
    page.goto(APPLY)
    check_accessibility(page)

    uploads = []
    page.on("request", lambda request: request.url.endswith("/uploads/") and uploads.append(request.method))
    page.locator("#field-project_name").fill("新商品の試作")
    page.locator("#field-business_plan").set_input_files(str(large_pdf))
    expect(page.locator("#field-business_plan-status")).to_contain_text("事業計画書.pdf", timeout=20_000)
    expect(page.locator("#field-business_plan-progress")).to_have_attribute("value", "100")
    expect(page.locator("input[type=hidden][name=business_plan]")).not_to_have_value("")
    assert page.locator("#field-business_plan").input_value() == ""  # the form will not carry the bytes again
    assert "POST" in uploads

    page.get_by_role("button", name="入力内容の確認").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("入力内容の確認")
    expect(page.locator("dl.answers")).to_contain_text("事業計画書.pdf (20 MB)")
    check_accessibility(page)
    page.get_by_role("button", name="送信する").click()
    expect(page.get_by_role("heading", level=1)).not_to_have_text("入力内容の確認")

    with db.transaction() as session:
        [filed] = engine.applicant_applications(session, applicant)
        data = engine.show(session, filed.id).data
    reference = data["business_plan"]
    assert reference["name"] == "事業計画書.pdf" and reference["size"] == SIZE
    assert reference["sha256"] == hashlib.sha256(large_pdf.read_bytes()).hexdigest()
    assert reference["content_type"] == "application/pdf" and reference["key"]
