"""After filing, through the portal: a return (差し戻し) shown with its reason and deadline and
corrected on the same application, the changes shown before/after; withdrawal (取下げ); the
documents issued, downloaded and recorded. Another applicant gets 404 everywhere."""

from __future__ import annotations

import hashlib
import re

import pytest

from engine.applicants import filings
from engine.issuance.pki import init_dev_seal
from tests.engine.helpers import add_user, complete, open_tasks
from tests.engine.issuance.test_issuance_flow import BUNDLE as ISSUANCE
from tests.engine.issuance.test_issuance_flow import STAFF, decided_by_substitute, issued_document
from tests.engine.jobs.support import job_rows
from tests.webui.portal_apply_support import (
    ANSWERS,
    APPLY,
    add_applicant,
    applicant_sign_in,
    deploy,
    page,
    post,
)


@pytest.fixture
def filed(engine, db, client):
    """Hanako (signed in) filed an application; returns its id."""
    deploy(engine, db)
    hanako = add_applicant(engine, db)
    applicant_sign_in(client)
    assert post(client, APPLY, ANSWERS, action="submit").status_code == 302
    with db.transaction() as session:
        [application] = engine.applicant_applications(session, hanako)
    return application.id


@pytest.fixture
def jiro(engine, db, app):
    add_applicant(engine, db, "jiro@example.jp", "佐藤 次郎")
    other = app.test_client()
    applicant_sign_in(other, "jiro@example.jp")
    return other


def returned(engine, db, application_id: int, reason: str = "世帯人数が住民票と異なります。確認してください。"):
    [review] = [t for t in open_tasks(engine, db, application_id) if t.element_id == "review"]
    complete(engine, db, review.id, "tanaka")
    [approve] = [t for t in open_tasks(engine, db, application_id) if t.kind == "approve"]
    with db.transaction() as session:
        engine.decide(session, approve.id, actor="suzuki", decision="return_to_applicant", comment=reason,
                      deadline="2099-03-31")


def mail_templates(db) -> list[tuple[str, str]]:
    return [(j.payload["recipient"], j.payload["template"]) for j in job_rows(db, kind="notification")]


def test_a_return_is_shown_corrected_and_its_changes_listed(engine, db, client, filed):
    assert ("hanako@example.jp", "received") in mail_templates(db)
    returned(engine, db, filed)
    assert ("hanako@example.jp", "returned") in mail_templates(db)
    mypage = page(client.get("/mypage"))
    assert "差し戻し" in mypage and "世帯人数が住民票と異なります。確認してください。" in mypage
    assert "までに修正してください。" in mypage
    assert f'href="/mypage/applications/{filed}/correct"' in mypage

    form = page(client.get(f"/mypage/applications/{filed}/correct"))
    assert "修正をお願いしたい内容" in form and 'value="2"' in form and 'value="山田 花子"' in form
    corrected = {**ANSWERS, "household": "3", "contact_time": "afternoon"}
    bad = post(client, f"/mypage/applications/{filed}/correct", {**corrected, "household": ""})
    assert bad.status_code == 422 and "世帯人数を入力してください。" in page(bad)
    confirm = page(post(client, f"/mypage/applications/{filed}/correct", corrected))
    assert "<th scope=\"row\">世帯人数</th><td>2</td><td>3</td>" in confirm
    assert "<th scope=\"row\">連絡の希望時間帯</th><td>午前</td><td>午後</td>" in confirm
    response = post(client, f"/mypage/applications/{filed}/correct", corrected, action="submit")
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/mypage/applications/{filed}")

    detail = page(client.get(f"/mypage/applications/{filed}"))
    assert "修正の履歴" in detail and "処理中" in detail
    assert "<th scope=\"row\">世帯人数</th><td>2</td><td>3</td>" in detail
    assert "household" not in detail  # no internal names
    with db.transaction() as session:
        data = engine.show(session, filed).data
        assert data["household"] == 3 and data["applicant"]["email"] == "hanako@example.jp"
    # Staff see the same application going through the route again.
    assert [t.kind for t in open_tasks(engine, db, filed)] == ["approve"]
    assert client.get(f"/mypage/applications/{filed}/correct").status_code == 404


def test_another_applicant_cannot_see_or_answer_a_return(engine, db, client, filed, jiro):
    returned(engine, db, filed)
    assert jiro.get(f"/mypage/applications/{filed}/correct").status_code == 404
    assert post(jiro, f"/mypage/applications/{filed}/correct", ANSWERS, action="submit").status_code == 404
    assert jiro.get(f"/mypage/applications/{filed}").status_code == 404
    assert jiro.get(f"/mypage/applications/{filed}/withdraw").status_code == 404
    assert post(jiro, f"/mypage/applications/{filed}/withdraw", {"reason": "x"}).status_code == 404
    with db.transaction() as session:
        assert engine.application(session, filed).status != "withdrawn"
        assert engine.applicant_correction(session, engine.application_owner(session, filed), filed) is not None


def test_withdrawing_needs_a_reason_and_ends_the_application(engine, db, client, filed):
    detail = page(client.get(f"/mypage/applications/{filed}"))
    assert f'href="/mypage/applications/{filed}/withdraw"' in detail
    empty = post(client, f"/mypage/applications/{filed}/withdraw", {"reason": " "})
    assert empty.status_code == 422 and "取り下げる理由を入力してください。" in page(empty)
    response = post(client, f"/mypage/applications/{filed}/withdraw", {"reason": "転入を取りやめました"})
    assert response.status_code == 302
    assert "取下げ" in page(client.get("/mypage"))
    with db.transaction() as session:
        application = engine.application(session, filed)
        assert application.status == "withdrawn" and application.completed_at is not None
        history = [(e.action, e.actor) for e in engine.show(session, filed).history]
    assert ("application_withdrawn", f"applicant:{engine_owner(engine, db, filed)}") in history
    assert open_tasks(engine, db, filed) == []
    assert client.get(f"/mypage/applications/{filed}/withdraw").status_code == 404


def engine_owner(engine, db, application_id):
    with db.transaction() as session:
        return engine.application_owner(session, application_id)


def test_documents_are_downloaded_by_their_applicant_only(engine, db, settings, client, jiro):
    init_dev_seal(settings.home)
    with db.transaction() as session:
        engine.deploy(session, ISSUANCE)
    for name, group in STAFF.items():
        add_user(engine, db, name, group)
    hanako = add_applicant(engine, db)
    applicant_sign_in(client)
    application_id = decided_by_substitute(engine, db)
    with db.transaction() as session:
        filings.link(session, application_id, hanako)
    document = issued_document(engine, db, application_id)

    detail = page(client.get(f"/mypage/applications/{application_id}"))
    assert "交付された書類" in detail and f'href="/mypage/documents/{document.public_id}"' in detail
    pdf = client.get(f"/mypage/documents/{document.public_id}")
    assert pdf.status_code == 200 and pdf.content_type == "application/pdf"
    assert hashlib.sha256(pdf.data).hexdigest() == document.sha256
    assert re.search(r"attachment; .*filename\*=UTF-8''", pdf.headers["Content-Disposition"])
    with db.transaction() as session:
        [download] = engine.document_downloads(session, document.public_id)
    assert (download.actor, download.channel) == (f"applicant:{hanako}", "portal")

    assert jiro.get(f"/mypage/documents/{document.public_id}").status_code == 404
    assert jiro.get("/mypage/documents/no-such-document").status_code == 404
    with db.transaction() as session:
        assert len(engine.document_downloads(session, document.public_id)) == 1
