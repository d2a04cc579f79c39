"""住民票の写しの交付請求 (workflows/juminhyo-copy) from the signed request to its end, with every
system it talks to running for real on 127.0.0.1: the payment stand-in gateway and a callback
receiver, the resident records stand-in, an SMTP server; a test PKI for the マイナンバーカード
signature, and the development seal for the issued PDF.
"""

from __future__ import annotations

import base64
import subprocess
from pathlib import Path

import pytest

from engine.config import Settings
from engine.facade import Engine
from engine.issuance.pki import init_dev_seal
from engine.issuance.wareki import fiscal_year
from engine.scripting.namespace import JST
from engine.store.models import utcnow
from plugins.jpki import canonical_bytes
from plugins.payment.standin import StandinGateway
from plugins.resident_records.standin import StandinServer
from tests.engine.approvals.test_route import decide, decisions, only
from tests.engine.helpers import add_user, complete, open_tasks, show, start
from tests.engine.jobs.support import wait_for
from tests.plugins import pki
from tests.plugins.mail_server import Inbox, smtp_server
from tests.plugins.payment_support import CallbackReceiver, GatewayControl, payment_rows, settle

BUNDLE = Path(__file__).parents[2] / "workflows" / "juminhyo-copy"
API_KEY, SECRET, MERCHANT = "juminhyo-api-key", "juminhyo-callback-secret", "madoguchi-shimin"
#: 佐藤 健一 of the resident records stand-in (plugins/resident_records/records.json) and the
#: serial of his signing certificate as the records system knows it.
RESIDENT_SERIAL = "0B7F174DC96DECD7"
REQUEST = {
    "applicant_name": "佐藤　健一", "applicant_name_kana": "サトウ　ケンイチ", "applicant_birth_date": "1978-06-03",
    "applicant_address": "神奈川県みなと市若葉区桜台一丁目3番12号", "scope": "self", "include_honseki": True,
    "include_relationship": True, "copies": 2, "purpose": "勤務先への提出",
}
PROFILE = {"applicant": {"kind": "individual", "email": "kenichi.sato@example.jp", "name": "佐藤　健一"},
           "language": "ja"}
CLERK, CHIEF = "takahashi", "kobayashi"


@pytest.fixture
def settings(database_url, tmp_path) -> Settings:
    return Settings(home=tmp_path, database_url=database_url, job_max_attempts=3, job_backoff_seconds=0.05,
                    job_lease_seconds=30.0)


@pytest.fixture(scope="module")
def ca() -> pki.Authority:
    return pki.root_ca("Test JPKI signing CA (juminhyo)")


@pytest.fixture
def inbox():
    return Inbox()


@pytest.fixture
def systems(tmp_path, monkeypatch, ca, inbox):
    """Every outside system running, and the settings pointing at them (read when the engine starts)."""
    anchors = pki.write_pem(tmp_path / "jpki-anchors.pem", ca.certificate)
    (tmp_path / "crl").mkdir()
    (tmp_path / "crl" / "ca.crl").write_bytes(ca.crl())
    monkeypatch.setenv("MADOGUCHI_JPKI_TRUST_ANCHORS", str(anchors))
    monkeypatch.setenv("MADOGUCHI_JPKI_CRL_DIR", str(tmp_path / "crl"))
    with (StandinGateway(api_key=API_KEY, callback_secret=SECRET, merchant_id=MERCHANT) as gateway,
          StandinServer() as records, smtp_server(inbox) as smtp_port):
        for name, value in {"BASE_URL": gateway.url, "MERCHANT_ID": MERCHANT, "API_KEY": API_KEY,
                            "CALLBACK_SECRET": SECRET}.items():
            monkeypatch.setenv(f"MADOGUCHI_PAYMENT_{name}", value)
        monkeypatch.setenv("MADOGUCHI_RESIDENT_RECORDS_BASE_URL", records.api_url)
        monkeypatch.setenv("MADOGUCHI_RESIDENT_RECORDS_TOKEN", records.token)
        monkeypatch.setenv("MADOGUCHI_MAIL_HOST", "127.0.0.1")
        monkeypatch.setenv("MADOGUCHI_MAIL_PORT", str(smtp_port))
        yield GatewayControl(gateway.url)


@pytest.fixture
def engine(settings, systems) -> Engine:
    return Engine(settings)


@pytest.fixture
def office(engine, db, settings, systems, monkeypatch):
    """The bundle deployed with its clerk and section chief; the gateway's callbacks reach the engine."""
    init_dev_seal(settings.home)
    with CallbackReceiver(engine, db) as receiver:
        monkeypatch.setenv("MADOGUCHI_PAYMENT_CALLBACK_URL", receiver.url("standin"))
        with db.transaction() as session:
            engine.deploy(session, BUNDLE)
        add_user(engine, db, CLERK, "shimin-madoguchi")
        add_user(engine, db, CHIEF, "shimin-kacho")
        yield systems


def signed(holder: pki.Holder, request: dict) -> str:
    """What the applicant's software sends beside the answers: a CMS signature over their canonical JSON."""
    return base64.b64encode(pki.sign(holder, canonical_bytes(request))).decode("ascii")


def file_request(engine, db, holder, request=REQUEST, *, signed_request=None) -> int:
    data = {**PROFILE, **request, "signature": signed(holder, signed_request or request)}
    application_id = start(engine, db, "juminhyo-copy", data).application.id
    settle(engine, db)  # signature check, then the payment is opened
    return application_id


def pay(engine, db, control, application_id: int) -> None:
    payment_url = show(engine, db, application_id)["data"]["payment_url"]
    assert control.pay(payment_url).status_code == 200
    wait_for(lambda: show(engine, db, application_id)["data"].get("payment"), what="the payment confirmation")
    settle(engine, db)  # the resident records lookups


def task(engine, db, application_id: int, element_id: str) -> str:
    [found] = [t for t in open_tasks(engine, db, application_id) if t.element_id == element_id]
    return found.id


def subjects(inbox) -> list[str]:
    return [str(m["Subject"]).strip() for m in inbox.messages]


def body(message) -> str:
    return message.get_body(("plain",)).get_content()


def test_signed_paid_reviewed_decided_and_issued(engine, db, office, ca, inbox, tmp_path):
    holder = ca.issue("佐藤 健一", serial=int(RESIDENT_SERIAL, 16))
    application_id = file_request(engine, db, holder)
    data = show(engine, db, application_id)["data"]
    assert data["identity"]["valid"] is True and data["identity"]["serial_number"] == RESIDENT_SERIAL
    assert data["fee"] == 600
    assert office.payment(data["payment_reference"])["amount"] == 600  # 300 円 × 2通

    pay(engine, db, office, application_id)
    juki = show(engine, db, application_id)["data"]["juki"]
    assert juki["match"] == "found" and juki["resident"]["resident_id"] == "0001000037"
    assert [t.element_id for t in open_tasks(engine, db, application_id)] == ["review"]

    complete(engine, db, task(engine, db, application_id, "review"), CLERK, {
        "decision": "approve", "household_head": "佐藤　健一", "relationship": "世帯主",
        "honseki": "神奈川県みなと市若葉区桜台一丁目3番 筆頭者 佐藤　健一", "comment": "電子証明書で本人確認済み"})
    chief_task = only(engine, db, application_id)
    assert chief_task["candidate_groups"] == ["shimin-kacho"]
    decide(engine, db, chief_task["id"], CHIEF, "approve", comment="交付する")
    settle(engine, db)  # issue_document, mails

    view = show(engine, db, application_id)
    assert view["status"] == "issued"
    assert [(d[1], d[3]) for d in decisions(engine, db, application_id)] == [(CLERK, "draft"), (CHIEF, "approve")]
    with db.transaction() as session:
        (document,) = engine.issued_documents(session, application_id=application_id)
        _document, stream = engine.download_document(session, document.public_id, actor="applicant",
                                                     channel="portal")
        with stream:
            pdf = stream.read()
        verdict = engine.verify_document(session, pdf)
        assert engine.verify_audit(session) == []
    nendo = fiscal_year(utcnow().astimezone(JST).date()) - 2018
    assert document.number == f"住第{nendo}-000001号"
    assert verdict.status == "valid", verdict.reasons
    assert verdict.document["number"] == document.number
    text = "".join(pdf_text(pdf, tmp_path).split())  # the layout's spacing aside
    for expected in ("住民票の写し", "佐藤　健一", "昭和53年6月3日", "桜台一丁目3番12号", "世帯主", "筆頭者",
                     "勤務先への提出", "2通", "600円", "みなと市長", "交付番号", document.number):
        assert "".join(expected.split()) in text, expected
    [payment] = payment_rows(db)
    assert (payment.status, payment.amount, payment.refunded_amount) == ("paid", 600, 0)
    reference = view["reference"]
    assert subjects(inbox) == [f"申請を受け付けました：住民票の写しの交付請求（受付番号 {reference}）",
                               f"交付の準備ができました：住民票の写しの交付請求（受付番号 {reference}）"]
    assert [m["To"] for m in inbox.messages] == ["kenichi.sato@example.jp"] * 2
    actions = [e["action"] for e in view["history"]]
    assert actions == [
        "application_started", "service_task_completed", "service_task_completed",  # signature, payment opened
        "message_received", "service_task_completed",  # paid; the resident found by the certificate serial
        "task_created", "task_completed",  # the clerk's review (起案)
        "approval_route_started", "approval_decision", "task_created", "task_completed", "approval_decision",
        "approval_route_finished",  # 市民課長専決
        "service_task_completed", "application_completed"]  # issued


def test_no_resident_record_goes_to_the_clerk_and_the_fee_is_refunded(engine, db, office, ca, inbox):
    # A card the records system does not know, and a name nobody in the ward has.
    holder = ca.issue("見本 次郎")
    request = {**REQUEST, "applicant_name": "見本　次郎", "applicant_name_kana": "ミホン　ジロウ",
               "applicant_birth_date": "1990-01-01", "copies": 1, "include_honseki": False}
    application_id = file_request(engine, db, holder, request)
    pay(engine, db, office, application_id)
    data = show(engine, db, application_id)["data"]
    assert data["juki"] == {"resident": None, "match": "none", "candidates": 0}
    [no_record] = open_tasks(engine, db, application_id)
    assert (no_record.element_id, no_record.candidate_groups) == ("no_record", ["shimin-madoguchi"])

    reason = "ご請求の方の住民票は、当市の住民基本台帳に記録がありません。"
    complete(engine, db, no_record.id, CLERK, {"rejection_reason": reason, "comment": "氏名・生年月日で照会、該当なし"})
    settle(engine, db)  # the refund, then the mails
    assert show(engine, db, application_id)["status"] == "rejected"
    [payment] = payment_rows(db)
    assert (payment.status, payment.refunded_amount) == ("refunded", 300)
    rejected = inbox.messages[-1]
    assert str(rejected["Subject"]).strip().startswith("申請の審査結果のお知らせ：住民票の写しの交付請求")
    assert reason in body(rejected)
    with db.transaction() as session:
        assert engine.issued_documents(session, application_id=application_id) == []


@pytest.mark.parametrize(("case", "code", "reason"), [
    ("changed after signing", "tampered", "署名された内容と提出された内容が一致しません"),
    ("not signed", "no_signature", "署名が提出されていません"),
], ids=["changed-after-signing", "not-signed"])
def test_a_request_without_a_valid_signature_is_not_accepted_and_costs_nothing(engine, db, office, ca, inbox,
                                                                               case, code, reason):
    holder = ca.issue("佐藤 健一", serial=int(RESIDENT_SERIAL, 16))
    if case == "not signed":
        application_id = start(engine, db, "juminhyo-copy", {**PROFILE, **REQUEST}).application.id
        settle(engine, db)
    else:
        application_id = file_request(engine, db, holder, {**REQUEST, "copies": 10}, signed_request=REQUEST)
    view = show(engine, db, application_id)
    assert view["status"] == "rejected"
    assert view["data"]["identity"]["details"]["code"] == code
    assert payment_rows(db) == []
    notice = body(inbox.messages[-1])
    assert "電子署名を確認できなかったため" in notice and reason in notice


def pdf_text(pdf: bytes, tmp_path: Path) -> str:
    path = tmp_path / "juminhyo.pdf"
    path.write_bytes(pdf)
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True,
                          check=True).stdout
