"""Attachments in the portal's apply form without JavaScript: the file travels with the form,
is stored streamed with its SHA-256, rides the confirmation page as its reference, lands in the
application data and on the office's task page; a wrong type is refused beside the field."""

from __future__ import annotations

import hashlib
import html
import io
import json
import re
from pathlib import Path

import pytest
from sqlalchemy import func, select

from engine.store.models_attachments import AttachmentUpload
from tests.engine.helpers import open_tasks
from tests.webui.conftest import add_staff, csrf_of
from tests.webui.portal_apply_support import add_applicant, applicant_sign_in, page
from tests.webui.test_office_setup import as_user
from tests.webui.test_portal_returns import returned

BUNDLE = Path(__file__).parents[1] / "workflows" / "portal_attach"
APPLY = "/procedures/portal-attach-test/apply"
PDF = b"%PDF-1.4\n1 0 obj\n<<>>\nendobj\ntrailer\n<<>>\n%%EOF\n" + b"x" * 2000


@pytest.fixture
def hanako(engine, db, client):
    with db.transaction() as session:
        engine.deploy(session, BUNDLE)
    add_staff(engine, db, "tanaka", "tanto")
    add_staff(engine, db, "suzuki", "kacho")
    applicant_id = add_applicant(engine, db)
    applicant_sign_in(client)
    return applicant_id


def send(client, data: dict, files: dict | None = None, action: str = "confirm", path: str = APPLY):
    body = {**data, "action": action, "csrf_token": csrf_of(client, "/")}
    for field, (name, content) in (files or {}).items():
        body[f"{field}.file"] = (io.BytesIO(content), name)
    return client.post(path, data=body, content_type="multipart/form-data")


def filed_with(engine, db, client, applicant_id: int, content: bytes) -> int:
    confirm = send(client, {"project_name": "新商品の試作"}, {"business_plan": ("事業計画書.pdf", content)})
    assert send(client, hidden_of(page(confirm)), action="submit").status_code == 302
    with db.transaction() as session:
        [filed] = engine.applicant_applications(session, applicant_id)
    return filed.id


def hidden_of(confirm: str) -> dict[str, str]:
    found = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)">', confirm))
    found.pop("csrf_token")
    return {name: html.unescape(value) for name, value in found.items()}


def uploads(engine, db) -> int:
    with db.transaction() as session:
        return session.scalar(select(func.count()).select_from(AttachmentUpload))


def test_the_form_shows_the_upload_widget_and_is_multipart(client, hanako):
    form = page(client.get(APPLY))
    assert 'enctype="multipart/form-data"' in form and "uploads.js" in form
    assert '<input type="file" id="field-business_plan" name="business_plan.file"' in form
    assert '<input type="file" id="field-photo" name="photo.file"' in form  # the "file" widget too
    assert 'id="field-business_plan-rules">' in form and "pdf, png" in form


def test_a_pdf_sent_with_the_form_lands_in_the_data_and_on_the_task_page(engine, db, client, hanako):
    confirm = send(client, {"project_name": "新商品の試作"}, {"business_plan": ("事業計画書.pdf", PDF)})
    text = page(confirm)
    assert confirm.status_code == 200, text[:2000]
    assert "事業計画書.pdf" in text and "KB" in text  # name and size on the confirmation page
    hidden = hidden_of(text)
    reference = json.loads(hidden["business_plan"])
    assert reference["sha256"] == hashlib.sha256(PDF).hexdigest() and reference["size"] == len(PDF)
    response = send(client, hidden, action="submit")
    assert response.status_code == 302, page(response)[:2000]
    with db.transaction() as session:
        [filed] = engine.applicant_applications(session, hanako)
        data = engine.show(session, filed.id).data
    assert data["business_plan"]["name"] == "事業計画書.pdf"
    assert data["business_plan"]["sha256"] == hashlib.sha256(PDF).hexdigest()
    assert data["business_plan"]["content_type"] == "application/pdf" and data["business_plan"]["key"]
    assert "photo" not in data
    with db.transaction() as session:
        [task] = engine.tasks(session, application_id=filed.id)
    task_id = task.id
    office = as_user(client, "tanaka")
    task_page = page(office.get(f"/office/tasks/{task_id}"))
    assert f'/office/tasks/{task_id}/attachments/{reference["sha256"]}' in task_page and "事業計画書.pdf" in task_page


def test_a_wrong_type_is_refused_beside_the_field_and_nothing_is_stored(engine, db, client, hanako):
    response = send(client, {"project_name": "新商品の試作"},
                    {"business_plan": ("plan.exe", b"MZ\x90\x00 not a document")})
    text = page(response)
    assert response.status_code == 422
    error = re.search(r'id="field-business_plan-error">(.*?)</p>', text, re.S).group(1)
    assert "plan.exe" in error and "pdf, png" in error
    assert re.search(r'id="field-business_plan"[^>]*aria-invalid="true"', text)
    assert uploads(engine, db) == 0
    renamed = send(client, {"project_name": "新商品の試作"}, {"business_plan": ("plan.pdf", b"<html>hello</html>")})
    assert renamed.status_code == 422 and "plan.pdf" in page(renamed)
    assert uploads(engine, db) == 0


def test_a_missing_attachment_is_asked_for(client, hanako):
    response = send(client, {"project_name": "新商品の試作"})
    assert response.status_code == 422 and 'id="field-business_plan-error"' in page(response)


def test_a_draft_keeps_the_file_and_another_applicant_cannot_claim_it(engine, db, client, hanako):
    response = send(client, {"project_name": "試作"}, {"business_plan": ("計画.pdf", PDF)}, action="draft")
    assert response.status_code == 302
    with db.transaction() as session:
        [draft] = engine.applicant_drafts(session, hanako)
    kept = json.loads(draft.data["business_plan"])
    form = page(client.get(f"{APPLY}?draft={draft.id}"))
    assert "計画.pdf" in form and 'id="field-business_plan-current"' in form
    confirm = send(client, {"project_name": "試作", "business_plan": json.dumps(kept), "draft": str(draft.id)})
    assert confirm.status_code == 200 and "計画.pdf" in page(confirm)
    # Someone else posting the same reference is refused: it is not their upload.
    client.post("/account/sign-out", data={"csrf_token": csrf_of(client, "/")})
    add_applicant(engine, db, email="taro@example.jp", name="山田 太郎")
    applicant_sign_in(client, "taro@example.jp")
    stolen = send(client, {"project_name": "試作", "business_plan": json.dumps(kept)})
    assert stolen.status_code == 422 and 'id="field-business_plan-error"' in page(stolen)


def test_a_correction_keeps_the_file_unless_it_is_replaced(engine, db, client, hanako):
    application_id = filed_with(engine, db, client, hanako, PDF)
    returned(engine, db, application_id, "事業の名称を正式なものにしてください。")
    correct = f"/mypage/applications/{application_id}/correct"
    form = page(client.get(correct))
    assert 'enctype="multipart/form-data"' in form and "事業計画書.pdf" in form
    kept = html.unescape(re.search(r'<input type="hidden" name="business_plan" value="([^"]*)"', form).group(1))
    confirm = send(client, {"project_name": "新商品「まどぐち」の試作", "business_plan": kept}, path=correct)
    assert confirm.status_code == 200 and "事業計画書.pdf" in page(confirm)
    assert send(client, hidden_of(page(confirm)), action="submit", path=correct).status_code == 302
    with db.transaction() as session:
        data = engine.show(session, application_id).data
    assert data["project_name"] == "新商品「まどぐち」の試作"
    assert data["business_plan"]["sha256"] == hashlib.sha256(PDF).hexdigest()

    # A corrected application goes back to the approval, which returns it once more.
    [approve] = [t for t in open_tasks(engine, db, application_id) if t.kind == "approve"]
    with db.transaction() as session:
        engine.decide(session, approve.id, actor="suzuki", decision="return_to_applicant",
                      comment="最新の事業計画書を添付してください。", deadline="2099-03-31")
    newer = PDF + b"% revised\n"
    confirm = send(client, {"project_name": "新商品「まどぐち」の試作", "business_plan": kept},
                   {"business_plan": ("事業計画書_改訂.pdf", newer)}, path=correct)
    assert confirm.status_code == 200 and "事業計画書_改訂.pdf" in page(confirm)
    assert send(client, hidden_of(page(confirm)), action="submit", path=correct).status_code == 302
    with db.transaction() as session:
        data = engine.show(session, application_id).data
    assert data["business_plan"]["name"] == "事業計画書_改訂.pdf"
    assert data["business_plan"]["sha256"] == hashlib.sha256(newer).hexdigest()
