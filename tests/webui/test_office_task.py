"""A task's page: data labelled by its form, attachments, history; completing a form task;
route decisions (approve, return, 代決), recall; refusals shown on the page."""

from __future__ import annotations

from tests.webui.test_office_setup import (
    as_user,
    away,
    dog,
    drafted,
    english,
    office_fixture,  # noqa: F401 (the fixture "office")
    open_tasks,
    post,
    text,
)


def decisions(engine, db, application_id: int) -> list[tuple]:
    with db.transaction() as session:
        return [(r.actor, r.on_behalf_of, r.decision, r.comment) for r in engine.decisions(session, application_id)]


def task_of(engine, db, task_id: str):
    with db.transaction() as session:
        return engine.task(session, task_id)


def test_a_form_task_shows_its_data_and_takes_its_form(office, db, client):
    task_id = dog(office, db)
    page = text(as_user(client, "eisei").get(f"/office/tasks/{task_id}"))
    assert "<h1>内容審査</h1>" in page and "犬の登録申請 (dog-registration, 第1版)" in page
    assert "狂犬病予防注射済証.pdf" in page and "ab" * 32 in page  # the attachment, with its hash
    assert "ポチ" in page and "3000" in page  # the data, with the fee the decision table set
    assert "<legend>審査結果 <span" in page and 'for="field-comment">所見' in page  # titles from the schema
    assert 'type="radio" name="decision"' in page and "<textarea" in page
    assert "申請受付" in page and "タスクの発生" in page  # the history


def test_completing_shows_field_errors_then_succeeds(office, db, client):
    task_id = dog(office, db)
    as_user(client, "eisei")
    refused = post(client, f"/office/tasks/{task_id}/complete", {"comment": "確認中"})
    assert refused.status_code == 400
    page = text(refused)
    assert 'id="field-decision-error">この項目は必須です。' in page and "保存されていません" in page
    assert ">確認中</textarea>" in page  # what was typed is kept
    assert task_of(office, db, task_id).status == "open"
    done = post(client, f"/office/tasks/{task_id}/complete", {"decision": "approve", "comment": "問題なし"},
                follow=True)
    assert done.status_code == 200 and "タスクを完了しました。" in text(done)
    task = task_of(office, db, task_id)
    assert task.status == "completed" and task.completed_by == "eisei"
    (approve,) = open_tasks(office, db, task.application_id)
    assert approve.name == "決裁（係長専決）"
    assert "Complete the task" not in text(done) and "完了する" not in text(done)  # done: no form any more


def test_an_approver_approves_with_a_comment(office, db, client):
    application_id = drafted(office, db)
    (task,) = open_tasks(office, db, application_id, "approve")
    page = text(as_user(client, "sato").get(f"/office/tasks/{task.id}"))
    for word in ("承認", "差戻し", "却下", "申請者へ返戻"):
        assert f"> {word}" in page
    assert "同意" not in page  # decisions of another kind are not offered
    assert '<option value="drafter"' in page and "1: 係長" not in page  # only earlier steps
    answer = post(client, f"/office/tasks/{task.id}/decide", {"decision": "approve", "comment": "確認しました"},
                  follow=True)
    assert answer.status_code == 200 and "判断を登録しました：承認" in text(answer)
    assert decisions(office, db, application_id)[-1] == ("sato", None, "approve", "確認しました")
    assert [t.kind for t in open_tasks(office, db, application_id) if t.kind != "circulate"] == ["consult"]
    assert "確認しました</blockquote>" in text(answer)  # the timeline shows the comment


def test_a_return_without_a_reason_changes_nothing(office, db, client):
    application_id = drafted(office, db)
    (task,) = open_tasks(office, db, application_id, "approve")
    as_user(client, "sato")
    before = decisions(office, db, application_id)
    refused = post(client, f"/office/tasks/{task.id}/decide", {"decision": "return", "comment": "  "})
    assert refused.status_code == 400
    assert 'id="comment-error">理由を記入してください。' in text(refused)
    assert decisions(office, db, application_id) == before
    assert task_of(office, db, task.id).status == "open"
    returned = post(client, f"/office/tasks/{task.id}/decide",
                    {"decision": "return", "comment": "見積書を添付してください", "to": "drafter"}, follow=True)
    assert returned.status_code == 200
    (resubmit,) = open_tasks(office, db, application_id, "resubmit")
    assert resubmit.candidate_users == ["tanaka"]
    assert decisions(office, db, application_id)[-1] == ("sato", None, "return", "見積書を添付してください")


def test_daiketsu_for_an_absent_decision_maker(office, db, client):
    application_id = drafted(office, db)
    (review,) = open_tasks(office, db, application_id, "approve")
    with db.transaction() as session:
        office.decide(session, review.id, actor="sato", decision="approve")
    (consult,) = open_tasks(office, db, application_id, "consult")
    with db.transaction() as session:
        office.decide(session, consult.id, actor="kato", decision="agree")
    (final,) = open_tasks(office, db, application_id, "approve")
    as_user(client, "kondo")
    assert client.get(f"/office/tasks/{final.id}").status_code == 403  # suzuki is still here
    away(office, db, "suzuki", substitute="kondo")
    page = text(client.get(f"/office/tasks/{final.id}"))
    assert "代決" in page and "あなたはこのタスクの担当ではありません" in page
    answer = post(client, f"/office/tasks/{final.id}/decide", {"decision": "approve", "comment": "課長出張中のため代決"},
                  follow=True)
    assert answer.status_code == 200
    assert decisions(office, db, application_id)[-1] == ("kondo", "suzuki", "approve", "課長出張中のため代決")
    assert "（suzukiの代決）" in text(answer)
    (review_after,) = open_tasks(office, db, application_id, "review_after")
    assert review_after.candidate_users == ["suzuki"]


def test_the_last_sender_recalls(office, db, client):
    application_id = drafted(office, db)
    (task,) = open_tasks(office, db, application_id, "approve")
    as_user(client, "sato")
    approved = text(post(client, f"/office/tasks/{task.id}/decide", {"decision": "approve"}, follow=True))
    assert "引き戻す" in approved  # sato sent it on: the page of his task offers the recall
    assert "引き戻す" not in text(as_user(client, "kato").get(
        f"/office/tasks/{open_tasks(office, db, application_id, 'consult')[0].id}"))
    as_user(client, "sato")
    answer = post(client, f"/office/tasks/{task.id}/recall", follow=True)
    assert answer.status_code == 200 and "案件を引き戻しました" in text(answer)
    (again,) = open_tasks(office, db, application_id, "approve")
    assert again.candidate_users == ["sato"] and decisions(office, db, application_id)[-1][2] == "recall"


def test_a_late_recall_is_explained(office, db, client):
    application_id = drafted(office, db)
    (task,) = open_tasks(office, db, application_id, "approve")
    with db.transaction() as session:
        office.decide(session, task.id, actor="sato", decision="approve")
    (consult,) = open_tasks(office, db, application_id, "consult")
    with db.transaction() as session:
        office.claim(session, consult.id, actor="kato")
    answer = post(as_user(client, "sato"), f"/office/tasks/{task.id}/recall")
    assert answer.status_code == 409 and "再読み込み" in text(answer) and "kato" in text(answer)


def test_a_decision_on_a_task_closed_meanwhile_asks_to_reload(office, db, client):
    application_id = drafted(office, db)
    (task,) = open_tasks(office, db, application_id, "approve")
    as_user(client, "sato")
    assert client.get(f"/office/tasks/{task.id}").status_code == 200
    with db.transaction() as session:
        office.decide(session, task.id, actor="sato", decision="approve")
    answer = post(client, f"/office/tasks/{task.id}/decide", {"decision": "approve"})
    assert answer.status_code == 409 and 'role="alert"' in text(answer)
    assert "ほかの職員がこの案件を変更しました。ページを再読み込みして" in text(answer)


def test_people_who_may_not_act_get_403(office, db, client):
    application_id = drafted(office, db)
    (task,) = open_tasks(office, db, application_id, "approve")
    dog_task = dog(office, db)
    as_user(client, "outsider")
    assert client.get(f"/office/tasks/{task.id}").status_code == 403
    assert client.get(f"/office/tasks/{dog_task}").status_code == 403
    refused = post(client, f"/office/tasks/{task.id}/decide", {"decision": "approve"})
    assert refused.status_code == 403 and task_of(office, db, task.id).status == "open"
    assert post(client, f"/office/tasks/{dog_task}/complete", {"decision": "approve"}).status_code == 403
    # A higher approver of the route may look (引上げ); an unknown task is 404.
    assert as_user(client, "suzuki").get(f"/office/tasks/{task.id}").status_code == 200
    assert client.get("/office/tasks/00000000-0000-0000-0000-000000000000").status_code == 404


def test_decisions_need_the_csrf_token(office, db, client):
    application_id = drafted(office, db)
    (task,) = open_tasks(office, db, application_id, "approve")
    as_user(client, "sato")
    answer = client.post(f"/office/tasks/{task.id}/decide", data={"decision": "approve"})
    assert answer.status_code == 400 and task_of(office, db, task.id).status == "open"


def test_the_task_page_in_english(office, db, client):
    application_id = drafted(office, db)
    (task,) = open_tasks(office, db, application_id, "approve")
    as_user(client, "sato")
    english(client)
    page = text(client.get(f"/office/tasks/{task.id}"))
    assert "Your decision" in page and "Return to an earlier step (差戻し)" in page
    assert "Application data" in page and "Approval route started" in page
    refused = text(post(client, f"/office/tasks/{task.id}/decide", {"decision": "reject"}))
    assert "Give the reason: “Reject (却下)” needs one." in refused
