"""児童手当 認定請求 (workflows/child-allowance): taken in from the ぴったりサービス stand-in by the
portal intake plugin, reviewed by 子育て支援課, checked against the resident records stand-in
(one call, keyed), decided 係長 → 課長, answered with a sealed 認定通知書 that verifies, and
reported back to the national portal as 完了."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import pytest

from engine.config import Settings
from engine.facade import Engine
from engine.issuance.pki import init_dev_seal
from engine.issuance.wareki import fiscal_year
from engine.scripting.namespace import JST
from engine.store.models import utcnow
from plugins import filesystem_storage, portal_intake, resident_records
from plugins.portal_intake.client import forget_tokens
from plugins.portal_intake.standin import StandinPortal
from plugins.portal_intake.standin import StandinServer as PortalServer
from plugins.resident_records.standin import StandinServer as ResidentServer
from tests.engine.approvals.test_route import decide, decisions, only
from tests.engine.helpers import add_user, complete, open_tasks, show
from tests.engine.jobs.support import job_rows
from tests.plugins.portal_support import configure, imports, poll
from tests.plugins.resident_support import Standin

BUNDLE = Path(__file__).parents[2] / "workflows" / "child-allowance"
RECEIPT = "2026112700000501"
STAFF = {"ito": "kosodate-shien", "sato": "kosodate-kakaricho", "suzuki": "kosodate-kacho"}

#: A claim as ぴったりサービス holds it, by a resident of the stand-in's records (佐藤 健一 and
#: the two children of his household).
CLAIM = {
    "receipt_number": RECEIPT, "procedure_code": "jidouteate-nintei", "procedure_name": "児童手当 認定請求",
    "arrived_at": "2026-11-20T09:30:00+09:00",
    "form": {
        "申請者": {"氏名": "佐藤　健一", "氏名フリガナ": "サトウ　ケンイチ", "生年月日": "1978-06-03",
                "郵便番号": "231-0001", "住所": "神奈川県みなと市若葉区桜台一丁目3番12号", "電話番号": "045-000-0501",
                "加入年金": "厚生年金", "個人番号": "123456789012"},
        "配偶者": {"氏名": "佐藤　美香", "生年月日": "1980-11-21"},
        "児童": [{"氏名": "佐藤　陽菜", "生年月日": "2010-04-09", "続柄": "長女", "同居別居": "同居"},
               {"氏名": "佐藤　蓮", "生年月日": "2014-08-30", "続柄": "長男", "同居別居": "同居"}],
        "受取口座": {"金融機関名": "見本銀行", "支店名": "若葉支店", "口座種別": "普通", "口座番号": "1234567",
                 "口座名義": "サトウ　ケンイチ"},
        "公金受取口座の利用": "利用しない",
    },
    "attachments": [{"file_name": "健康保険の資格情報.pdf", "content_type": "application/pdf", "size": 20480},
                    {"file_name": "口座確認書類.jpg", "content_type": "image/jpeg", "size": 30720}],
}


@pytest.fixture
def settings(database_url, tmp_path) -> Settings:
    return Settings(home=tmp_path, database_url=database_url, job_max_attempts=3, job_backoff_seconds=600)


@pytest.fixture
def portal() -> StandinPortal:
    return StandinPortal([CLAIM])


@pytest.fixture
def records():
    with ResidentServer() as server:
        yield Standin(server)


@pytest.fixture
def engine(settings, portal, records, monkeypatch):
    forget_tokens()  # tokens are cached per process; log in afresh
    with PortalServer(portal) as server:
        configure(monkeypatch, server.url, mapping=BUNDLE / "portal-mapping.json.in")
        monkeypatch.setenv("MADOGUCHI_RESIDENT_RECORDS_BASE_URL", records.api_url)
        monkeypatch.setenv("MADOGUCHI_RESIDENT_RECORDS_TOKEN", records.token)
        init_dev_seal(settings.home)
        engine = Engine(settings, plugins=(portal_intake, filesystem_storage, resident_records))
        database = engine.database()
        with database.transaction() as session:
            assert engine.deploy(session, BUNDLE).definition.key == "child-allowance"
        for name, group in STAFF.items():
            add_user(engine, database, name, group)
        yield engine
    forget_tokens()


def drain(engine, db, *, timeout: float = 20.0) -> None:
    """Run the worker until only the intake's own recurring poll is left waiting."""
    worker = engine.worker(db)
    deadline = time.monotonic() + timeout
    while True:
        worker.run_once()
        waiting = [j for j in job_rows(db) if j.status in ("pending", "running") and j.kind != "intake"]
        if not waiting:
            return
        assert time.monotonic() < deadline, f"jobs still waiting after {timeout} s: {waiting}"
        time.sleep(0.02)


def imported(engine, db) -> int:
    poll(engine, db)
    return imports(db)[RECEIPT].application_id


def test_from_the_national_portal_to_a_sealed_notice(engine, db, portal, records):
    application_id = imported(engine, db)
    assert portal.status_of(RECEIPT) == "受付"
    view = show(engine, db, application_id)
    data = view["data"]
    assert view["procedure"] == "child-allowance"
    assert data["applicant"]["name"] == "佐藤　健一" and [c["name"] for c in data["children"]] == ["佐藤　陽菜", "佐藤　蓮"]
    assert "個人番号" not in str(data)  # unmapped personal data stays in the stored original only
    assert [a["name"] for a in data["portal"]["attachments"]] == ["健康保険の資格情報.pdf", "口座確認書類.jpg"]

    # The resident records are asked first (a job), so the clerk reviews with the answer at hand.
    drain(engine, db)
    searches = records.requests("/residents/search")
    assert len(searches) == 1 and searches[0]["status"] == 200
    assert searches[0]["request_id"].startswith(f"{view['reference']}/")  # the task's idempotency key
    assert show(engine, db, application_id)["data"]["juki"]["resident"]["resident_id"] == "0001000037"
    (review,) = open_tasks(engine, db, application_id)
    assert review.element_id == "review" and review.candidate_groups == ["kosodate-shien"]
    complete(engine, db, review.id, "ito", {"resident_confirmed": True, "decision": "approve", "eligible_children": 2,
                                            "monthly_amount": 20000, "first_month": "2026-12",
                                            "comment": "添付書類確認済み"})

    decide(engine, db, only(engine, db, application_id)["id"], "sato", "approve", comment="内容確認")
    decide(engine, db, only(engine, db, application_id)["id"], "suzuki", "approve", comment="認定する")
    drain(engine, db)

    view = show(engine, db, application_id)
    assert view["status"] == "issued" and view["open_tasks"] == []
    assert [(d[1], d[3]) for d in decisions(engine, db, application_id)] == [
        ("ito", "draft"), ("sato", "approve"), ("suzuki", "approve")]
    document = view["data"]["document"]
    nendo = fiscal_year(utcnow().astimezone(JST).date()) - 2018  # 令和 year of this fiscal year
    assert document["number"] == f"見子支第{nendo}-00001号" and document["status"] == "issued"
    with db.transaction() as session:
        _row, stream = engine.download_document(session, document["id"], actor="ito", channel="office",
                                                client="test")
        with stream:
            pdf = stream.read()
        verdict = engine.verify_document(session, pdf)
        assert verdict.status == "valid", verdict.reasons
        assert engine.verify_audit(session) == []
    text = subprocess.run(["pdftotext", "-layout", "-", "-"], input=pdf, capture_output=True, check=True).stdout
    printed = " ".join(text.decode("utf-8").split())
    for expected in ("児童手当認定通知書", document["number"], "令和8年11月20日付けで請求のあった児童手当",
                     "佐藤 陽菜、佐藤 蓮", "20,000円", "令和8年12月分から", "見本銀行 若葉支店（普通）"):
        assert expected in printed, expected
    assert portal.history_of(RECEIPT)[-2:] == ["受付", "完了"]
    assert [r.status for r in portal.reports if r.receipt_number == RECEIPT] == ["受付", "完了"]
    assert len(records.requests("/residents/search")) == 1


def test_rejected_at_review_is_reported_to_the_portal(engine, db, portal, records):
    application_id = imported(engine, db)
    drain(engine, db)
    (review,) = open_tasks(engine, db, application_id)
    complete(engine, db, review.id, "ito", {"decision": "reject", "monthly_amount": 0, "first_month": "2026-12",
                                            "rejection_reason": "請求者が児童を監護していないため"})
    drain(engine, db)
    view = show(engine, db, application_id)
    assert view["status"] == "rejected" and "document" not in view["data"]
    assert portal.status_of(RECEIPT) == "却下"
    assert len(records.requests("/residents/search")) == 1
