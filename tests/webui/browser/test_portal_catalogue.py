"""A resident finds a procedure by typing its reading in katakana, opens it; axe on each page."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.webui.browser.conftest import check_accessibility

SAMPLE = Path(__file__).resolve().parents[3] / "workflows" / "catalogue.csv"


@pytest.fixture
def catalogue(engine, db):
    with db.transaction() as session:
        engine.catalogue_import(session, SAMPLE)


def test_search_in_katakana_then_open_the_procedure(catalogue, page):
    page.goto("/")
    expect(page.get_by_role("heading", level=1)).to_have_text("手続をさがす")
    check_accessibility(page)

    # Stored as 転入届 with the reading てんにゅうとどけ (hiragana); typed in katakana.
    page.get_by_label("どんな手続をしたいですか").fill("テンニュウ")
    page.get_by_role("search").get_by_role("button", name="検索").click()
    expect(page.get_by_role("status")).to_have_text("1 件の手続が見つかりました。")
    check_accessibility(page)

    page.get_by_role("link", name="転入届").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("転入届")
    expect(page.get_by_role("main")).to_contain_text("市民課 ①番窓口")
    check_accessibility(page)

    page.get_by_role("link", name="引越し").first.click()
    expect(page.get_by_role("main")).to_contain_text("水道の使用開始届")
    check_accessibility(page)


def test_a_procedure_done_elsewhere_links_to_it_in_english(catalogue, page):
    page.goto("/procedures/moving-out")
    page.get_by_role("button", name="English").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Moving out of the city")
    expect(page.get_by_role("link", name="マイナポータル（ぴったりサービス）")).to_have_attribute(
        "href", "https://app.oss.myna.go.jp/Application/search")
    check_accessibility(page)
