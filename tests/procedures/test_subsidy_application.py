"""補助金交付申請 (workflows/subsidy-application) end to end, on SQLite and PostgreSQL.

A business applicant files with three attachments (the business plan sent in pieces, as the
portal's resumable upload does); 商工振興課 reviews and drafts; the decision table 決裁区分
picks the route by the amount (課長専決 / 部長専決 / 副市長決裁, always with 合議 to 財政課);
the route approves, or returns the application to the applicant, who corrects it — or lets
the deadline pass and the application ends 不受理. A grant issues a sealed 交付決定通知書 that
verifies. Mails go to a real SMTP server on 127.0.0.1 through the mail plugin, and every job
(mails, issuance, the deadline timer) runs in the engine's own worker.
"""

from __future__ import annotations

import time
from datetime import timedelta
from io import BytesIO
from pathlib import Path

import pytest
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen import canvas

import plugins.mail
from engine.approvals.deadline import today_in_japan
from engine.facade import Engine
from engine.issuance.pki import init_dev_seal
from engine.issuance.wareki import fiscal_year
from engine.scripting.namespace import JST
from engine.store.models import utcnow
from tests.engine.helpers import add_user, complete, show
from tests.engine.jobs.support import drain, job_rows
from tests.plugins.mail_server import Inbox, smtp_server

BUNDLE = Path(__file__).parents[2] / "workflows" / "subsidy-application"
KEY = "subsidy-application"
#: Staff of the demo: 商工振興課 担当, 商工振興課長, 経済部長, 副市長, 財政課.
STAFF = {"watanabe": "shoko-shinko", "matsumoto": "shoko-kacho", "yoshida": "keizai-bucho",
         "yamamoto": "fukushicho", "kimura": "zaisei"}
LEVEL_HOLDERS = {"商工振興課長": "matsumoto", "経済部長": "yoshida", "副市長": "yamamoto"}
COMPANY = dict(name="佐藤 次郎", name_kana="サトウ ジロウ", company_name="株式会社窓口商事",
               company_name_kana="カブシキガイシャマドグチショウジ", corporate_number="7000012050002",
               representative="代表取締役 窓口 太郎", postcode="100-0005", address="見本市丸の内1-1-1",
               phone="03-9876-5432")
EMAIL = "info@madoguchi-shoji.example.jp"
PIECE = 64 * 1024


# -- fixtures -------------------------------------------------------------------------------------

@pytest.fixture
def inbox():
    return Inbox()


@pytest.fixture
def engine(settings, inbox, monkeypatch):
    with smtp_server(inbox) as port:
        monkeypatch.setenv("MADOGUCHI_MAIL_HOST", "127.0.0.1")
        monkeypatch.setenv("MADOGUCHI_MAIL_PORT", str(port))
        monkeypatch.setenv("MADOGUCHI_MAIL_SENDER", "shoko@city.example.jp")
        yield Engine(settings, plugins=(plugins.mail,))


@pytest.fixture
def office(engine, db, settings):
    init_dev_seal(settings.home)
    with db.transaction() as session:
        result = engine.deploy(session, BUNDLE)
    assert result.definition.key == KEY
    for name, group in STAFF.items():
        add_user(engine, db, name, group)
    return engine


@pytest.fixture
def company(office, db) -> int:
    with db.transaction() as session:
        return office.add_applicant(session, email=EMAIL, password="correct horse battery", kind="business",
                                    profile=COMPANY).id


# -- the applicant's side ------------------------------------------------------------------------

def pdf_of(title: str, pages: int = 1) -> bytes:
    """A real PDF (the upload checks content, not only the name); many pages make a large one."""
    buffer = BytesIO()
    page = canvas.Canvas(buffer, pagesize=A4, pageCompression=0)
    for number in range(pages):
        page.setFont("Helvetica", 9)
        page.drawString(72, 800, f"{title} - page {number + 1}")
        for line in range(60):
            page.drawString(40, 780 - line * 12, f"{number:04d}-{line:02d} " + "business plan figures " * 4)
        page.showPage()
    page.save()
    return buffer.getvalue()


def upload(engine, db, applicant_id: int, file_name: str, content: bytes) -> dict:
    """Send the file in pieces (resumable upload) and take its reference for the form."""
    owner = f"applicant:{applicant_id}"
    with db.transaction() as session:
        state = engine.create_upload(session, owner=owner, file_name=file_name, length=len(content),
                                     procedure_key=KEY)
    for offset in range(0, len(content), PIECE):
        state = engine.append_upload(state.id, owner, offset, [content[offset:offset + PIECE]])
    assert state.complete
    with db.transaction() as session:
        return engine.take_attachment(session, state.id, owner)


def application_form(engine, db, applicant_id: int, amount: int) -> dict:
    return {
        "project_name": "地場産品を使った新商品の試作と販路開拓",
        "project_summary": "市内産の果実を使った焼き菓子を試作し、首都圏の展示会に出展して販路を開拓する。",
        "industry": "manufacturing", "employees": 18,
        "project_start": "2026-12-01", "project_end": "2027-03-15",
        "total_cost": amount * 2, "amount": amount,
        "business_plan": upload(engine, db, applicant_id, "事業計画書.pdf", pdf_of("Business plan", pages=40)),
        "quotation": upload(engine, db, applicant_id, "見積書.pdf", pdf_of("Quotation")),
        "financial_statements": upload(engine, db, applicant_id, "決算書.pdf", pdf_of("Financial statements", 2)),
    }


def apply(engine, db, applicant_id: int, amount: int) -> int:
    form = application_form(engine, db, applicant_id, amount)
    with db.transaction() as session:
        return engine.applicant_file(session, KEY, applicant_id, form).application.id


# -- the office's side ---------------------------------------------------------------------------

def open_tasks(engine, db, application_id: int, kind: str | None = None) -> list[dict]:
    return [t for t in show(engine, db, application_id)["open_tasks"] if kind is None or t["kind"] == kind]


def review(engine, db, application_id: int, correction_period: str = "P30D") -> None:
    (task,) = [t for t in open_tasks(engine, db, application_id) if t["element_id"] == "review"]
    assert task["candidate_groups"] == ["shoko-shinko"]
    complete(engine, db, task["id"], "watanabe", {"review_note": "交付要件を満たし、経費の積算も妥当と認める。",
                                                  "correction_period": correction_period})


def decide(engine, db, task_id: str, actor: str, decision: str, **options):
    with db.transaction() as session:
        return engine.decide(session, task_id, actor=actor, decision=decision, **options)


def route_of(engine, db, application_id: int) -> dict:
    return show(engine, db, application_id)["approval_routes"][-1]


def approve_all(engine, db, application_id: int) -> None:
    """Every step of the running route in turn: the levels approve, 財政課 agrees (合議)."""
    while True:
        route = route_of(engine, db, application_id)
        if route["status"] != "running":
            return
        step = route["plan"][route["position"]]
        if step["kind"] == "consult":
            (task,) = open_tasks(engine, db, application_id, "consult")
            decide(engine, db, task["id"], "kimura", "agree", comment="予算の範囲内であることを確認")
        else:
            (task,) = open_tasks(engine, db, application_id, "approve")
            decide(engine, db, task["id"], LEVEL_HOLDERS[step["label"]], "approve")


def issued_pdf(engine, db, application_id: int) -> tuple[object, bytes]:
    drain(engine, db)
    with db.transaction() as session:
        (document,) = engine.issued_documents(session, application_id=application_id)
        session.expunge(document)
        _document, stream = engine.download_document(session, document.public_id, actor="applicant",
                                                     channel="portal", client="203.0.113.9 test")
        with stream:
            return document, stream.read()


def run_due_jobs(engine, db, *, timeout: float = 20.0) -> None:
    """Worker passes until no job is due (a deadline timer days ahead stays pending)."""
    worker = engine.worker(db)
    deadline = time.monotonic() + timeout
    while True:
        worker.run_once()
        now = utcnow()
        if not [j for j in job_rows(db) if j.status == "running" or (j.status == "pending" and j.due_at <= now)]:
            return
        assert time.monotonic() < deadline, f"jobs still due after {timeout} s: {job_rows(db)}"
        time.sleep(0.02)


def mails_to(inbox: Inbox, address: str) -> list[str]:
    return [str(m["Subject"]) for m in inbox.messages if address in str(m["To"])]


def body_of(inbox: Inbox, subject_part: str) -> str:
    (message,) = [m for m in inbox.messages if subject_part in str(m["Subject"])]
    return message.get_body(("plain",)).get_content()


# -- the tests -----------------------------------------------------------------------------------

ROUTES = [
    (800_000, "課長専決", ["起案", "合議", "商工振興課長"]),
    (5_000_000, "部長専決", ["起案", "商工振興課長", "合議", "経済部長"]),
    (30_000_000, "副市長決裁", ["起案", "商工振興課長", "経済部長", "合議", "副市長"]),
]


@pytest.mark.parametrize(("amount", "route_name", "labels"), ROUTES, ids=["kacho", "bucho", "fukushicho"])
def test_the_amount_picks_the_route_from_the_decision_table(office, db, company, amount, route_name, labels):
    application_id = apply(office, db, company, amount)
    review(office, db, application_id)
    route = route_of(office, db, application_id)
    assert route["title"] == f"補助金交付決定（{route_name}）"
    assert [s["label"] for s in route["plan"]] == labels
    # 合議 to 財政課 on every route, just before the deciding level; the drafter is the reviewer.
    consult = [s for s in route["plan"] if s["kind"] == "consult"]
    assert [s["targets"] for s in consult] == [["zaisei"]]
    assert route["plan"][-1]["kind"] == "decide" and route["plan"][0]["targets"] == ["user:watanabe"]
    data = show(office, db, application_id)["data"]
    assert (data["route_name"], data["consult"]) == (route_name, ["zaisei"])

    approve_all(office, db, application_id)
    view = show(office, db, application_id)
    decided = [(d["step"].split(":", 1)[1], d["actor"], d["decision"]) for d in view["decisions"]]
    expected = [("起案", "watanabe", "draft")] + [
        ("合議/zaisei", "kimura", "agree") if label == "合議" else (label, LEVEL_HOLDERS[label], "approve")
        for label in labels[1:]]
    assert decided == expected
    # The attachments are references to stored files (what each decision's content hash covers).
    files = [view["data"][k] for k in ("business_plan", "quotation", "financial_statements")]
    assert [f["name"] for f in files] == ["事業計画書.pdf", "見積書.pdf", "決算書.pdf"]
    assert all(len(f["sha256"]) == 64 and f["content_type"] == "application/pdf" for f in files)
    assert files[0]["size"] > 4 * PIECE  # the business plan came in several pieces
    document, pdf = issued_pdf(office, db, application_id)
    assert show(office, db, application_id)["status"] == "issued"
    with db.transaction() as session:
        assert office.verify_document(session, pdf).status == "valid"


def test_a_return_to_the_applicant_then_a_corrected_application_is_granted(office, db, company, inbox):
    application_id = apply(office, db, company, 2_400_000)
    review(office, db, application_id)
    approve = open_tasks(office, db, application_id, "approve")[0]
    decide(office, db, approve["id"], "matsumoto", "approve")
    decide(office, db, open_tasks(office, db, application_id, "consult")[0]["id"], "kimura", "agree")
    deadline = today_in_japan() + timedelta(days=14)
    returned = decide(office, db, open_tasks(office, db, application_id, "approve")[0]["id"], "yoshida",
                      "return_to_applicant", comment="見積書の合計額と補助対象経費の額が一致しません。",
                      deadline=deadline)
    assert returned.application.status == "returned"

    # The applicant sees what to correct and by when (the approver's day; the rules allow 30 days).
    with db.transaction() as session:
        correction = office.applicant_correction(session, company, application_id)
    assert correction.form_key == "apply"
    assert correction.reason == "見積書の合計額と補助対象経費の額が一致しません。"
    assert correction.due_at.astimezone(JST).date() == deadline + timedelta(days=1)
    run_due_jobs(office, db)
    assert "【要対応】申請内容の修正をお願いします" in " ".join(mails_to(inbox, EMAIL))
    assert "見積書の合計額" in body_of(inbox, "【要対応】")

    corrected = {k: correction.data[k] for k in ("project_name", "project_summary", "industry", "employees",
                                                 "project_start", "project_end", "business_plan",
                                                 "financial_statements")}
    corrected.update(total_cost=4_200_000, amount=2_100_000,
                     quotation=upload(office, db, company, "見積書（訂正）.pdf", pdf_of("Quotation, corrected")))
    with db.transaction() as session:
        office.applicant_resubmit(session, company, application_id, corrected, fields=[*corrected, "notes"])
    with db.transaction() as session:
        (resubmission,) = office.applicant_resubmissions(session, company, application_id)
    changes = {c.field: (c.before, c.after) for c in resubmission.changes}
    assert set(changes) == {"total_cost", "amount", "quotation"}
    assert changes["amount"] == (2_400_000, 2_100_000)
    assert changes["quotation"][1]["name"] == "見積書（訂正）.pdf"

    # Back to 商工振興課: reviewed again, routed again by the corrected amount, granted.
    review(office, db, application_id)
    assert [r["status"] for r in show(office, db, application_id)["approval_routes"]] == \
        ["returned_to_applicant", "running"]
    approve_all(office, db, application_id)
    document, pdf = issued_pdf(office, db, application_id)
    view = show(office, db, application_id)
    assert view["status"] == "issued"
    nendo = fiscal_year(utcnow().astimezone(JST).date()) - 2018  # 令和 year of this fiscal year
    assert document.number == f"商振第{nendo}-00001号"
    assert view["data"]["document"]["number"] == document.number
    with db.transaction() as session:
        verdict = office.verify_document(session, pdf)
        assert verdict.status == "valid", verdict.reasons
        assert verdict.signer == "見本市"
        assert office.verify_audit(session) == []
    returns = [d for d in view["decisions"] if d["decision"] == "return_to_applicant"]
    assert [(d["actor"], d["deadline"]) for d in returns] == [("yoshida", deadline.isoformat())]
    assert (view["data"]["amount"], view["data"]["quotation"]["name"]) == (2_100_000, "見積書（訂正）.pdf")
    history = [e["action"] for e in view["history"]]
    assert {"application_resubmitted", "service_task_completed", "document_downloaded"} <= set(history)
    assert any("交付の準備ができました" in s for s in mails_to(inbox, EMAIL))


def test_no_answer_by_the_deadline_ends_the_application_not_accepted(office, db, company, inbox):
    application_id = apply(office, db, company, 600_000)
    # The rules' period is chosen very short here, so the deadline passes while the test waits.
    review(office, db, application_id, correction_period="PT1S")
    decide(office, db, open_tasks(office, db, application_id, "consult")[0]["id"], "kimura", "agree")
    decide(office, db, open_tasks(office, db, application_id, "approve")[0]["id"], "matsumoto",
           "return_to_applicant", comment="決算書が1期分しか添付されていません。",
           deadline=today_in_japan() + timedelta(days=7))
    view = show(office, db, application_id)
    assert view["status"] == "returned"
    (correction,) = [t for t in view["open_tasks"] if t["element_id"] == "correct"]
    assert correction["candidate_groups"] == [] and correction["candidate_users"] == []

    worker = office.worker(db)
    deadline = time.monotonic() + 20
    while show(office, db, application_id)["status"] != "rejected":
        assert time.monotonic() < deadline, job_rows(db)
        worker.run_once()
        time.sleep(0.05)
    drain(office, db)

    view = show(office, db, application_id)
    assert view["open_tasks"] == [] and view["completed_at"] is not None
    assert "不受理" in view["data"]["rejection_reason"]
    with db.transaction() as session:
        assert office.issued_documents(session, application_id=application_id) == []
        assert office.verify_audit(session) == []
    assert any("申請の審査結果のお知らせ" in s for s in mails_to(inbox, EMAIL))
    assert "不受理" in body_of(inbox, "申請の審査結果のお知らせ")
