"""The whole chain: drafted → 回議 → 合議 → 代決 with 後閲 → decided → sealed PDF issued →
verified (ours and poppler's pdfsig) → one byte altered → both say invalid → a white box
appended as an incremental update → ours says altered (pdfsig still says valid)."""

from __future__ import annotations

import json
import subprocess
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from engine.errors import BadInput, Conflict
from engine.issuance.pki import init_dev_seal
from engine.issuance.wareki import fiscal_year
from engine.scripting.namespace import JST
from engine.store.models import DocumentDownload, IssuedDocument, utcnow
from tests.engine.approvals.test_route import decide, only
from tests.engine.helpers import add_user, complete, show, start
from tests.engine.issuance import pdfsig
from tests.engine.issuance.sealing_support import append_white_box, flip_byte_in
from tests.engine.jobs.support import drain

BUNDLE = Path(__file__).parents[2] / "workflows" / "issuance"
STAFF = {"tanaka": "tanto", "sato": "kakaricho", "suzuki": "kacho", "kato": "zaisei", "kondo": "kacho-dairi"}
APPLICATION = {"amount": 800_000, "purpose": "商店街活性化イベント", "applicant_name": "株式会社見本商事",
               "applicant_address": "見本市中央区本町一丁目2番3号", "applied_on": "2026-11-01"}


@pytest.fixture
def office(engine, db, settings):
    init_dev_seal(settings.home)
    with db.transaction() as session:
        engine.deploy(session, BUNDLE)
    for name, group in STAFF.items():
        add_user(engine, db, name, group)
    return engine


def decided_by_substitute(engine, db) -> int:
    started = start(engine, db, "subsidy-notice", APPLICATION)
    application_id = started.application.id
    complete(engine, db, started.opened_tasks[0].id, "tanaka")
    decide(engine, db, only(engine, db, application_id)["id"], "sato", "approve", comment="内容確認済み")
    decide(engine, db, only(engine, db, application_id, "consult")["id"], "kato", "object",
           comment="予算残額に留意のこと")
    now = utcnow()
    with db.transaction() as session:
        engine.add_absence(session, "suzuki", now - timedelta(hours=1), now + timedelta(days=2),
                           substitute="kondo", reason="出張")
    decide(engine, db, only(engine, db, application_id)["id"], "kondo", "approve", comment="課長出張中につき代決")
    return application_id


def issued_document(engine, db, application_id: int) -> IssuedDocument:
    drain(engine, db)
    with db.transaction() as session:
        (document,) = engine.issued_documents(session, application_id=application_id)
        session.expunge(document)
    return document


def download(engine, db, public_id: str, target: Path) -> Path:
    with db.transaction() as session:
        _document, stream = engine.download_document(session, public_id, actor="applicant", channel="portal",
                                                     client="203.0.113.7 test")
        with stream:
            target.write_bytes(stream.read())
    return target


def test_done_means_the_whole_chain(office, db, cli, tmp_path, settings):
    application_id = decided_by_substitute(office, db)
    assert only(office, db, application_id, "review_after")["candidate_users"] == ["suzuki"]
    document = issued_document(office, db, application_id)
    nendo = fiscal_year(utcnow().astimezone(JST).date()) - 2018  # 令和 year of this fiscal year
    assert document.status == "issued" and document.number == f"見商振第{nendo}-00001号"
    view = show(office, db, application_id)
    assert view["status"] == "issued"
    assert view["data"]["document"]["number"] == document.number
    decide(office, db, only(office, db, application_id, "review_after")["id"], "suzuki", "acknowledge")
    assert [d["decision"] for d in view["decisions"]] == ["draft", "approve", "object", "approve"]
    assert view["decisions"][-1]["on_behalf_of"] == "suzuki"

    pdf = download(office, db, document.public_id, tmp_path / "notice.pdf")
    with db.transaction() as session:
        assert session.scalar(select(func.count()).select_from(DocumentDownload)) == 1
    # The QR code leads to the verification page with the document's id and its statement's hash.
    subprocess.run(["pdftoppm", "-r", "150", "-png", "-singlefile", str(pdf), str(tmp_path / "page")], check=True)
    decoded = subprocess.run(["zbarimg", "--raw", "-q", str(tmp_path / "page.png")], capture_output=True,
                             text=True, check=True).stdout.strip()
    assert decoded == f"{settings.public_url}/verify/{document.public_id}?h={document.content_sha256}"
    ours = cli("verify", str(pdf), "--json")
    assert ours.exit_code == 0, ours.output
    verdict = json.loads(ours.stdout)
    assert verdict["status"] == "valid"
    assert verdict["document"]["number"] == document.number and verdict["signer"] == "見本市"
    nssdir = pdfsig.make_nss_db(tmp_path / "nss", [init_dev_seal_root(settings)])
    report = pdfsig.run_pdfsig(pdf, nssdir)
    assert report.signature_valid and report.certificate_trusted, report.text

    altered = tmp_path / "altered.pdf"
    altered.write_bytes(flip_byte_in(pdf.read_bytes(), b"/Producer"))  # inside the signed range
    ours = cli("verify", str(altered), "--json")
    assert ours.exit_code == 5 and json.loads(ours.stdout)["status"] == "altered"
    assert not pdfsig.run_pdfsig(altered, nssdir).signature_valid

    painted = tmp_path / "painted.pdf"
    painted.write_bytes(append_white_box(pdf.read_bytes()))
    ours = cli("verify", str(painted), "--json")
    assert ours.exit_code == 5 and json.loads(ours.stdout)["status"] == "altered"
    # poppler's pdfsig only checks the byte range: it calls the painted copy valid.
    assert pdfsig.run_pdfsig(painted, nssdir).signature_valid

    with db.transaction() as session:
        assert office.verify_audit(session) == []


def init_dev_seal_root(settings):
    from cryptography import x509

    return x509.load_pem_x509_certificate((settings.home / "seal" / "trust" / "dev-root.pem").read_bytes())


def test_revoked_documents_verify_as_revoked(office, db, cli, tmp_path):
    application_id = decided_by_substitute(office, db)
    document = issued_document(office, db, application_id)
    pdf = download(office, db, document.public_id, tmp_path / "notice.pdf")
    with db.transaction() as session, pytest.raises(BadInput, match="reason"):
        office.revoke_document(session, document.public_id, actor="suzuki", reason=" ")
    result = cli("documents", "revoke", document.public_id, "--as", "suzuki", "--reason", "交付決定の取消し")
    assert result.exit_code == 0, result.output
    verdict = cli("verify", str(pdf), "--json")
    assert verdict.exit_code == 6
    assert json.loads(verdict.stdout)["status"] == "revoked"
    assert "交付決定の取消し" in " ".join(json.loads(verdict.stdout)["reasons"])
    with db.transaction() as session, pytest.raises(Conflict):
        office.revoke_document(session, document.public_id, actor="suzuki", reason="again")
    history = [e["action"] for e in show(office, db, application_id)["history"]]
    assert "document_downloaded" in history and "document_revoked" in history


def test_a_foreign_or_unsigned_pdf_is_unknown(office, db, cli, tmp_path):
    from tests.engine.issuance.sealing_support import make_pdf

    plain = tmp_path / "plain.pdf"
    plain.write_bytes(make_pdf())
    result = cli("verify", str(plain), "--json")
    assert result.exit_code == 7 and json.loads(result.stdout)["status"] == "unknown"
    garbage = tmp_path / "garbage.pdf"
    garbage.write_bytes(b"not a pdf at all")
    assert json.loads(cli("verify", str(garbage), "--json").stdout)["status"] == "unknown"
    missing = cli("verify", str(tmp_path / "missing.pdf"))
    assert missing.exit_code == 2


def test_a_retried_issuance_keeps_its_number_and_the_file_is_never_replaced(office, db, settings):
    application_id = decided_by_substitute(office, db)
    drain(office, db)
    with db.transaction() as session:
        (document,) = office.issued_documents(session, application_id=application_id)
        task_id, first_key, first_hash = document.task_id, document.storage_key, document.sha256

    class Context:
        pass

    context = Context()
    context.application_id, context.task_id = application_id, task_id
    again = office.issuance.operation({"template": "notice"}, context)
    assert again["document"]["sha256"] == first_hash
    with db.transaction() as session:
        assert session.scalar(select(func.count()).select_from(IssuedDocument)) == 1
        assert office.issued_documents(session)[0].storage_key == first_key


def test_a_missing_template_is_refused_at_deploy(engine, db, tmp_path):
    import shutil

    from engine.errors import DeployRefused

    bundle = tmp_path / "bundle"
    shutil.copytree(BUNDLE, bundle)
    (bundle / "documents" / "notice.toml").unlink()
    with db.transaction() as session, pytest.raises(DeployRefused) as refused:
        engine.deploy(session, bundle)
    (problem,) = refused.value.problems
    assert problem.element_id == "issue" and problem.line is not None
    assert "document template 'notice' is not in the bundle" in problem.message
    assert "documents/notice.toml" in problem.fix
