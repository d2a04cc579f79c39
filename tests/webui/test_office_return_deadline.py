"""The decision form's return deadline (回答期限): required to return to the applicant, optional
for a return to an earlier step; errors beside the field; shown in the history; through the API."""

from __future__ import annotations

from datetime import timedelta

import pytest

from engine.approvals.deadline import passes_at, today_in_japan
from tests.webui.test_office_setup import (
    as_user,
    drafted,
    english,
    office_fixture,  # noqa: F401 (the fixture "office")
    open_tasks,
    post,
    text,
)


def in_days(days: int) -> str:
    return (today_in_japan() + timedelta(days=days)).isoformat()


def last_decision(engine, db, application_id: int):
    with db.transaction() as session:
        record = engine.decisions(session, application_id)[-1]
        return record.decision, record.comment, record.deadline and record.deadline.isoformat()


def test_the_form_offers_the_deadline_field_with_its_label(office, db, client):
    application_id = drafted(office, db)
    (task,) = open_tasks(office, db, application_id, "approve")
    page = text(as_user(client, "sato").get(f"/office/tasks/{task.id}"))
    assert '<label for="decision-deadline">回答期限（差戻し・返戻の場合）</label>' in page
    assert 'type="date" id="decision-deadline" name="deadline"' in page and 'aria-describedby="deadline-hint"' in page


@pytest.mark.parametrize(("deadline", "message"), [
    ("", "申請者の回答期限の日を入力してください。"),
    ("2026-13-01", "回答期限は日付（YYYY-MM-DD）で入力してください。"),
    ("today", "回答期限は日付（YYYY-MM-DD）で入力してください。"),
    ("past", "回答期限は明日以降の日付にしてください。"),
])
def test_a_return_to_the_applicant_without_a_good_deadline_changes_nothing(office, db, client, deadline, message):
    application_id = drafted(office, db)
    (task,) = open_tasks(office, db, application_id, "approve")
    as_user(client, "sato")
    value = {"today": in_days(0), "past": in_days(-3)}.get(deadline, deadline)
    if deadline == "today":
        message = "回答期限は明日以降の日付にしてください。"
    refused = post(client, f"/office/tasks/{task.id}/decide",
                   {"decision": "return_to_applicant", "comment": "添付書類が不足しています", "deadline": value})
    assert refused.status_code == 400
    page = text(refused)
    assert f'<span class="field-error" id="deadline-error">{message}</span>' in page
    assert 'aria-describedby="deadline-hint deadline-error" aria-invalid="true"' in page
    assert ">添付書類が不足しています</textarea>" in page  # what was typed is kept
    assert open_tasks(office, db, application_id, "approve")[0].id == task.id


def test_a_deadline_with_an_approval_is_refused_beside_the_field(office, db, client):
    application_id = drafted(office, db)
    (task,) = open_tasks(office, db, application_id, "approve")
    as_user(client, "sato")
    refused = post(client, f"/office/tasks/{task.id}/decide", {"decision": "approve", "deadline": in_days(5)})
    assert refused.status_code == 400
    assert 'id="deadline-error">回答期限は差戻し・返戻のときだけ指定できます。' in text(refused)


def test_returning_to_the_applicant_records_and_shows_the_deadline(office, db, client):
    application_id = drafted(office, db)
    (task,) = open_tasks(office, db, application_id, "approve")
    as_user(client, "sato")
    deadline = in_days(14)
    done = post(client, f"/office/tasks/{task.id}/decide",
                {"decision": "return_to_applicant", "comment": "添付書類が不足しています", "deadline": deadline},
                follow=True)
    assert done.status_code == 200
    assert last_decision(office, db, application_id) == ("return_to_applicant", "添付書類が不足しています", deadline)
    page = text(done)
    assert f'<span class="detail">回答期限 {deadline}</span>' in page  # the history
    english(client)
    assert f'<span class="detail">answer by {deadline}</span>' in text(client.get(f"/office/tasks/{task.id}"))


def test_an_internal_return_may_set_a_deadline_for_whoever_gets_it_back(office, db, client):
    application_id = drafted(office, db)
    (task,) = open_tasks(office, db, application_id, "approve")
    as_user(client, "sato")
    deadline = in_days(3)
    post(client, f"/office/tasks/{task.id}/decide",
         {"decision": "return", "comment": "見積書を添付してください", "to": "drafter", "deadline": deadline})
    (resubmit,) = open_tasks(office, db, application_id, "resubmit")
    assert resubmit.candidate_users == ["tanaka"]
    assert resubmit.due_at == passes_at(today_in_japan() + timedelta(days=3))
    page = text(as_user(client, "tanaka").get(f"/office/tasks/{resubmit.id}"))
    assert f"回答期限 {deadline}" in page  # the one who gets it back sees by when


def test_the_api_takes_a_deadline_and_refuses_a_missing_one(office, db, app):
    application_id = drafted(office, db)
    (task,) = open_tasks(office, db, application_id, "approve")
    with db.transaction() as session:
        _row, secret = office.create_api_token(session, name="erp", user="sato", scopes=["tasks:read", "tasks:write"],
                                               expires=None, actor="root")
    token = {"Authorization": f"Bearer {secret}"}
    client = app.test_client()
    missing = client.post(f"/api/v1/tasks/{task.id}/complete", headers=token,
                          json={"data": {}, "decision": "return_to_applicant", "comment": "不足"})
    assert missing.status_code == 422 and "deadline" in missing.get_json()["detail"]
    malformed = client.post(f"/api/v1/tasks/{task.id}/complete", headers=token,
                            json={"data": {}, "decision": "return_to_applicant", "comment": "不足",
                                  "deadline": "next week"})
    assert malformed.status_code == 422
    deadline = in_days(10)
    done = client.post(f"/api/v1/tasks/{task.id}/complete", headers=token,
                       json={"data": {}, "decision": "return_to_applicant", "comment": "不足", "deadline": deadline})
    assert done.status_code == 200, done.get_json()
    assert last_decision(office, db, application_id) == ("return_to_applicant", "不足", deadline)
