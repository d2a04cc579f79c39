"""The public verification page with a PDF sealed by the engine's own issuance path."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
from playwright.sync_api import expect

from engine.issuance.pki import init_dev_seal
from tests.engine.helpers import add_user
from tests.engine.issuance.sealing_support import flip_byte_in
from tests.engine.issuance.test_issuance_flow import (
    BUNDLE,
    STAFF,
    decided_by_substitute,
    download,
    issued_document,
)
from tests.webui.browser.conftest import check_accessibility


@pytest.fixture
def sealed_pdf(engine, db, settings, tmp_path):
    """A notice issued and sealed as in production: the route decided, the jobs drained."""
    def issue():
        init_dev_seal(settings.home)
        with db.transaction() as session:
            engine.deploy(session, BUNDLE)
        for name, group in STAFF.items():
            add_user(engine, db, name, group)
        document = issued_document(engine, db, decided_by_substitute(engine, db))
        return download(engine, db, document.public_id, tmp_path / "notice.pdf")

    # Sealing runs asyncio.run(); in this thread Playwright's event loop counts as running,
    # so the issuance goes to a thread of its own.
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(issue).result()


def upload(page, pdf) -> None:
    page.goto("/verify/")
    page.get_by_label("PDFファイル").set_input_files(pdf)
    page.get_by_role("main").get_by_role("button", name="検証する").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("検証結果")


def test_a_sealed_document_is_valid_and_a_changed_copy_is_altered(sealed_pdf, page):
    page.goto("/verify/")
    check_accessibility(page)

    upload(page, sealed_pdf)
    verdict = page.locator(".verdict")
    expect(verdict).to_contain_text("有効")
    expect(page.get_by_role("main")).to_contain_text("notice.pdf")
    check_accessibility(page)

    altered = sealed_pdf.with_name("altered.pdf")
    altered.write_bytes(flip_byte_in(sealed_pdf.read_bytes(), b"/Producer"))  # inside the signed range
    upload(page, altered)
    expect(verdict).to_contain_text("改ざん")
    check_accessibility(page)
