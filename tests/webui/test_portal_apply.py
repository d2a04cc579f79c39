"""Applying on line through the portal: the start form rendered from the builder's schemas,
server-side validation with errors beside the fields and a summary, conditional fields,
prefill, drafts, the confirmation page, the receipt; drafts of others answer 404."""

from __future__ import annotations

import re
import shutil

import pytest

from tests.webui.portal_apply_support import (
    ANSWERS,
    APPLY,
    BUNDLE,
    KEY,
    add_applicant,
    applicant_sign_in,
    deploy,
    page,
    post,
    reference_of,
)


@pytest.fixture
def hanako(engine, db, client):
    deploy(engine, db)
    applicant_id = add_applicant(engine, db)
    applicant_sign_in(client)
    return applicant_id


def test_the_procedure_page_links_to_the_form(engine, db, client):
    deploy(engine, db)
    assert f'href="{APPLY}"' in page(client.get("/procedures/portal-apply-test"))


def test_signing_in_is_needed_for_an_account_procedure(engine, db, client):
    deploy(engine, db)
    response = client.get(APPLY)
    assert response.status_code == 302 and "/account/sign-in" in response.headers["Location"]


def test_the_form_shows_every_field_with_labels_marks_help_and_prefill(client, hanako):
    html = page(client.get(APPLY))
    assert "<h1>転入に伴う届出</h1>" in html
    assert 'value="山田 花子"' in html  # applicant_name, from the profile
    assert '<label for="field-applicant_name">氏名 <span class="required">（必須）</span></label>' in html
    assert '<label for="field-previous_number">前回の受付番号 <span class="required">（該当する場合は必須）</span>' in html
    assert '<label for="field-notes">備考 <span class="optional">（任意）</span></label>' in html
    assert '<legend>自動車の台数 <span class="required">（該当する場合は必須）</span></legend>' in html
    assert 'id="field-applicant_name-help">戸籍に記載の文字で記入してください。' in html
    assert '<select id="field-purpose" name="purpose"' in html and '<option value="renew">更新</option>' in html
    assert '<legend>自動車の台数' in html and 'type="radio" id="field-vehicle_count-1"' in html
    assert 'type="checkbox" id="field-has_vehicle-yes"' in html
    assert '<input type="date" id="field-move_date"' in html
    assert '<textarea id="field-notes" name="notes" rows="5" maxlength="500"' in html
    # A conditional field says when it applies, for readers without JavaScript.
    assert 'data-show-if-field="purpose" data-show-if-value="renew"' in html
    assert "「届出の種類」が「更新」の場合に記入してください。" in html
    with client.session_transaction() as browser:
        browser["lang"] = "en"
    english = page(client.get(APPLY))
    assert "<h1>Moving-in notification</h1>" in english
    assert '<label for="field-household">People in the household' in english
    assert "Answer if “Kind of notification” is “Renewal”." in english


def test_errors_are_beside_their_fields_and_summarised(client, hanako):
    response = post(client, APPLY, {**ANSWERS, "applicant_name": "", "household": "二人", "purpose": "renew",
                                    "move_date": "12/1"})
    html = page(response)
    assert response.status_code == 422
    assert 'class="error-summary"' in html
    summary = html[html.index('class="error-summary"'):html.index("</ul>", html.index('class="error-summary"'))]
    assert [m for m in re.findall(r'href="#field-(\w+)"', summary)] == [
        "applicant_name", "previous_number", "household", "move_date"]
    assert 'id="field-applicant_name-error"' in html
    assert re.search(r'id="field-applicant_name"[^>]*aria-describedby="field-applicant_name-error', html)
    assert "氏名を入力してください。" in html
    assert "世帯人数は整数で入力してください" in html
    assert "前回の受付番号を入力してください。" in html
    assert "転入日は日付で入力してください" in html
    # What was typed is shown again.
    assert 'value="二人"' in html


def test_characters_outside_jis_x_0208_are_named_with_a_replacement(client, hanako):
    html = page(post(client, APPLY, {**ANSWERS, "applicant_name": "髙﨑 ﾊﾅｺ"}))
    assert "氏名に使えない文字が含まれています：髙、﨑。髙 → 高、﨑 → 崎 のように書き換えてください。" in html


def test_conditional_answers_are_dropped_when_their_condition_does_not_hold(engine, db, client, hanako):
    html = page(post(client, APPLY, {**ANSWERS, "previous_number": "R-1", "vehicle_count": "2"}))
    assert "内容の確認" in html or "Check your answers" in html
    assert "R-1" not in html and 'name="vehicle_count"' not in html
    html = page(post(client, APPLY, {**ANSWERS, "has_vehicle": "true"}))
    assert "自動車の台数を入力してください。" in html
    html = page(post(client, APPLY, {**ANSWERS, "has_vehicle": "true", "vehicle_count": "2"}))
    assert "<dd>2台</dd>" in html


def test_confirm_then_send_files_the_application_and_shows_the_receipt(engine, db, client, hanako):
    confirm = page(post(client, APPLY, ANSWERS))
    assert "<dd>山田 花子</dd>" in confirm and "<dd>新規</dd>" in confirm and "<dd>午前</dd>" in confirm
    hidden = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)">', confirm))
    hidden.pop("csrf_token")
    response = post(client, APPLY, hidden, action="submit")
    assert response.status_code == 302 and response.headers["Location"].endswith("/apply/receipt")
    receipt = page(client.get(response.headers["Location"]))
    reference = reference_of(receipt)
    with db.transaction() as session:
        [filed] = engine.applicant_applications(session, hanako)
        data = engine.show(session, filed.id).data
    assert filed.reference == reference and filed.procedure_key == KEY
    assert data["household"] == 2 and data["applicant"]["email"] == "hanako@example.jp"
    assert "previous_number" not in data
    # The receipt mail goes through the mail plugin's notification path.
    with db.transaction() as session:
        assert engine.applicant_application(session, hanako, filed.id).public_status == "submitted"
    assert reference in page(client.get("/mypage"))


def test_a_tampered_confirmation_is_validated_again(client, hanako):
    response = post(client, APPLY, {**ANSWERS, "household": "99"}, action="submit")
    assert response.status_code == 422 and "世帯人数は20以下で入力してください。" in page(response)


def test_a_draft_is_saved_listed_resumed_and_gone_after_sending(engine, db, client, hanako):
    response = post(client, APPLY, {"applicant_name": "山田 花子", "household": "3"}, action="draft")
    assert response.status_code == 302 and response.headers["Location"].endswith("/mypage")
    mypage = page(client.get("/mypage"))
    assert "下書き" in mypage
    resume = re.search(r'href="(/procedures/portal-apply-test/apply\?draft=(\d+))"', mypage)
    draft_id = resume.group(2)
    form = page(client.get(resume.group(1).replace("&amp;", "&")))
    assert f'name="draft" value="{draft_id}"' in form and 'value="3"' in form
    post(client, APPLY, {**ANSWERS, "household": "4"}, action="draft", draft=draft_id)
    with db.transaction() as session:
        [draft] = engine.applicant_drafts(session, hanako)
    assert draft.id == int(draft_id) and draft.data["household"] == "4"
    assert post(client, APPLY, ANSWERS, action="submit", draft=draft_id).status_code == 302
    with db.transaction() as session:
        assert engine.applicant_drafts(session, hanako) == []


def test_another_applicants_draft_answers_404(engine, db, app, client, hanako):
    post(client, APPLY, {"applicant_name": "山田 花子"}, action="draft")
    with db.transaction() as session:
        [draft] = engine.applicant_drafts(session, hanako)
    add_applicant(engine, db, "jiro@example.jp", "佐藤 次郎")
    other = app.test_client()
    applicant_sign_in(other, "jiro@example.jp")
    assert other.get(f"{APPLY}?draft={draft.id}").status_code == 404
    assert other.get(f"{APPLY}?draft=999999").status_code == 404
    assert post(other, APPLY, ANSWERS, action="draft", draft=str(draft.id)).status_code == 404
    assert post(other, APPLY, ANSWERS, action="submit", draft=str(draft.id)).status_code == 404
    assert post(other, f"/mypage/drafts/{draft.id}/delete", {}).status_code == 404
    with db.transaction() as session:
        assert [d.id for d in engine.applicant_drafts(session, hanako)] == [draft.id]
    assert post(client, f"/mypage/drafts/{draft.id}/delete", {}).status_code == 302
    with db.transaction() as session:
        assert engine.applicant_drafts(session, hanako) == []


def test_a_procedure_of_identity_level_none_takes_applications_without_an_account(engine, db, client, tmp_path):
    bundle = tmp_path / "open"
    shutil.copytree(BUNDLE, bundle)
    manifest = (bundle / "procedure.toml").read_text(encoding="utf-8")
    (bundle / "procedure.toml").write_text(manifest.replace('key = "portal-apply-test"', 'key = "portal-apply-open"')
                                           .replace('identity_level = "account"', 'identity_level = "none"'),
                                           encoding="utf-8")
    with db.transaction() as session:
        engine.deploy(session, bundle)
    path = "/procedures/portal-apply-open/apply"
    form = page(client.get(path))
    assert "<h1>転入に伴う届出</h1>" in form and 'value="draft"' not in form
    assert post(client, path, ANSWERS, action="draft").status_code == 403
    response = post(client, path, ANSWERS, action="submit")
    assert response.status_code == 302
    receipt = page(client.get(response.headers["Location"]))
    reference = reference_of(receipt)
    with db.transaction() as session:
        [application] = [a for a, _ in engine.list_applications(session, procedure="portal-apply-open").items]
        assert application.reference == reference and application.started_by == "portal:anonymous"
        assert engine.application_owner(session, application.id) is None
