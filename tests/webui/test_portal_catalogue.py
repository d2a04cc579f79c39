"""The portal's catalogue pages: search, browsing, a procedure page, the apply button."""

import re
from pathlib import Path

import pytest
from flask import Blueprint

from webui import create_app

SAMPLE = Path(__file__).resolve().parents[2] / "workflows" / "catalogue.csv"
DOG = Path(__file__).resolve().parents[2] / "workflows" / "dog-registration"


@pytest.fixture
def catalogue(engine, db):
    with db.transaction() as session:
        engine.catalogue_import(session, SAMPLE)


def text_of(response) -> str:
    assert response.status_code == 200, response.status_code
    return response.get_data(as_text=True)


def test_the_home_page_is_the_portal_with_browsing(client, catalogue):
    page = text_of(client.get("/"))
    assert 'class="portal-header"' in page and "<footer" in page
    assert "ライフイベントから探す" in page and "引越し</a> (" in page
    assert "検索結果" not in page


def test_katakana_half_width_finds_a_procedure_stored_in_hiragana(client, catalogue):
    page = text_of(client.get("/", query_string={"q": "ﾃﾝﾆｭｳ"}))
    assert 'href="/procedures/moving-in"' in page
    assert "1 件の手続が見つかりました。" in page


def test_filters_and_paging_keep_the_query(client, catalogue):
    page = text_of(client.get("/", query_string={"life_event": "引越し"}))
    assert "絞り込み:" in page and "<strong>引越し</strong>" in page
    assert 'href="/procedures/water-start"' in page
    first = text_of(client.get("/", query_string={"q": "の"}))
    assert re.search(r"1 / 2 ?ページ", first) and "page=2" in first
    assert "次へ" in first


def test_nothing_found_says_what_to_try(client, catalogue):
    page = text_of(client.get("/", query_string={"q": "存在しない手続", "page": "x"}))
    assert "0 件の手続が見つかりました。" in page and "別の言葉" in page


def test_a_procedure_page_shows_documents_fees_identity_and_where_to_go(client, catalogue):
    page = text_of(client.get("/procedures/juminhyo-copy"))
    assert "<h1>住民票の写しの交付請求</h1>" in page
    assert "1通 300円" in page and "本人確認書類" in page
    assert "マイナンバーカードによる署名（JPKI）" in page
    assert "市民課 ②番窓口" in page
    assert 'href="/procedures/moving-in"' in page  # related
    elsewhere = text_of(client.get("/procedures/moving-out"))
    assert 'href="https://app.oss.myna.go.jp/Application/search"' in elsewhere
    assert client.get("/procedures/no-such-thing").status_code == 404


def test_english_shows_english_names(client, catalogue):
    from tests.webui.conftest import csrf_of

    client.post("/language", data={"lang": "en", "next": "/", "csrf_token": csrf_of(client, "/")})
    page = text_of(client.get("/procedures/moving-in"))
    assert "<h1>Moving into the city</h1>" in page and "転入届" in page


def test_apply_button_only_when_deployed_and_the_apply_page_exists(engine, db, catalogue):
    app = create_app(engine, config={"TESTING": True})
    page = text_of(app.test_client().get("/procedures/dog-registration"))
    assert "オンライン申請は現在ご利用いただけません" in page and "/apply" not in page
    with db.transaction() as session:
        engine.deploy(session, DOG)
    if not _has_apply_page(app):
        page = text_of(app.test_client().get("/procedures/dog-registration"))
        assert "/apply" not in page and "オンライン申請は準備中です" in page
        forms = Blueprint("forms_under_test", __name__)
        forms.add_url_rule("/procedures/<slug>/apply", "apply", lambda slug: slug)
        app = create_app(engine, config={"TESTING": True})
        app.register_blueprint(forms)
    page = text_of(app.test_client().get("/procedures/dog-registration"))
    assert 'href="/procedures/dog-registration/apply"' in page


def _has_apply_page(app) -> bool:
    return any(rule.rule.endswith("/<slug>/apply") and rule.rule.startswith("/procedures")
               for rule in app.url_map.iter_rules())
