"""A return's deadline (期限): required to return to the applicant, optional for an internal
return; signed in the decision record, handed to the diagram, shown to the applicant."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import update

from engine.approvals.deadline import parse_deadline, passes_at, today_in_japan
from engine.errors import BadInput
from engine.store.models import DecisionRecord
from tests.diagrams import flow, process
from tests.engine.applicants.support import registered_and_verified
from tests.engine.helpers import add_user, complete, deploy_text, open_tasks, show, start
from tests.engine.jobs.support import service_task

#: A route of two levels; a return to the applicant waits for a correction due by the deadline,
#: and a boundary timer on that wait reads the deadline too (不受理 when it passes).
RETURNABLE = process("returnable", "\n".join([
    '<bpmn:startEvent id="start"/>',
    service_task("route", "approval_route", {"levels": '["kakaricho", "kacho"]', "title": '"許可の決定"'}),
    '<bpmn:exclusiveGateway id="outcome" default="to_done"/>',
    '<bpmn:userTask id="fix" name="申請者による修正" camunda:dueDate="${approval.deadline_at}"/>',
    '<bpmn:boundaryEvent id="too_late" attachedToRef="fix"><bpmn:timerEventDefinition>'
    '<bpmn:timeDate>approval["deadline_at"]</bpmn:timeDate></bpmn:timerEventDefinition></bpmn:boundaryEvent>',
    '<bpmn:endEvent id="done"/>',
    '<bpmn:endEvent id="not_accepted"><bpmn:extensionElements><camunda:properties>'
    '<camunda:property name="status" value="rejected"/></camunda:properties></bpmn:extensionElements></bpmn:endEvent>',
    flow("f1", "start", "route"), flow("f2", "route", "outcome"),
    flow("to_fix", "outcome", "fix", 'approval["outcome"] == "returned_to_applicant"'),
    flow("to_done", "outcome", "done"), flow("f3", "fix", "route"), flow("f4", "too_late", "not_accepted"),
]))


@pytest.fixture
def returnable(engine, db, tmp_path):
    deploy_text(engine, db, tmp_path, RETURNABLE)
    add_user(engine, db, "sato", "kakaricho")
    add_user(engine, db, "suzuki", "kacho")
    return engine


def approve_task(engine, db, application_id):
    [task] = [t for t in open_tasks(engine, db, application_id) if t.kind == "approve"]
    return task


def decide(engine, db, task_id, actor, decision, **options):
    with db.transaction() as session:
        return engine.decide(session, task_id, actor=actor, decision=decision, **options)


def in_days(days: int) -> date:
    return today_in_japan() + timedelta(days=days)


def test_a_return_to_the_applicant_carries_its_deadline_everywhere(returnable, db):
    application_id = start(returnable, db, "returnable").application.id
    deadline = in_days(14)
    task = approve_task(returnable, db, application_id)
    result = decide(returnable, db, task.id, "sato", "return_to_applicant", comment="住所の記載が不足しています",
                    deadline=deadline.isoformat())
    assert result.application.status != "rejected"
    view = show(returnable, db, application_id)
    [route] = view["approval_routes"]
    assert route["outcome"]["deadline"] == deadline.isoformat()
    assert route["outcome"]["deadline_at"] == passes_at(deadline).isoformat()
    # The diagram read it: the correction is due when the deadline passes, and so is the timer.
    [fix] = [t for t in open_tasks(returnable, db, application_id) if t.element_id == "fix"]
    assert fix.due_at == passes_at(deadline)
    assert result.application.next_timer_at == passes_at(deadline)
    # The signed record holds it; the summary shows it; the chains still verify.
    decided = [d for d in view["decisions"] if d["decision"] == "return_to_applicant"]
    assert [(d["deadline"], d["comment"]) for d in decided] == [(deadline.isoformat(), "住所の記載が不足しています")]
    with db.transaction() as session:
        assert returnable.verify_audit(session) == []


def test_the_deadline_is_signed_so_changing_it_is_noticed(returnable, db):
    application_id = start(returnable, db, "returnable").application.id
    task = approve_task(returnable, db, application_id)
    decide(returnable, db, task.id, "sato", "return_to_applicant", comment="不足", deadline=in_days(7))
    with db.transaction() as session:
        session.execute(update(DecisionRecord).where(DecisionRecord.application_id == application_id,
                                                     DecisionRecord.decision == "return_to_applicant")
                        .values(deadline=in_days(60)))
    with db.transaction() as session:
        [finding] = returnable.verify_audit(session)
    assert "altered" in finding.message


@pytest.mark.parametrize(("deadline", "message"), [
    (None, "needs a deadline"),
    ("", "needs a deadline"),
    ("2026-02-30", "is not a date"),
    ("next week", "is not a date"),
    ("today", "is not a date"),
])
def test_a_return_to_the_applicant_refuses_a_missing_or_malformed_deadline(returnable, db, deadline, message):
    application_id = start(returnable, db, "returnable").application.id
    task = approve_task(returnable, db, application_id)
    with pytest.raises(BadInput, match=message):
        decide(returnable, db, task.id, "sato", "return_to_applicant", comment="不足", deadline=deadline)
    # nothing happened: the same task waits, no decision was recorded
    assert approve_task(returnable, db, application_id).id == task.id
    assert show(returnable, db, application_id)["decisions"] == []


@pytest.mark.parametrize("days", [0, -1])
def test_the_deadline_must_be_in_the_future(returnable, db, days):
    application_id = start(returnable, db, "returnable").application.id
    task = approve_task(returnable, db, application_id)
    with pytest.raises(BadInput, match="must be in the future"):
        decide(returnable, db, task.id, "sato", "return_to_applicant", comment="不足", deadline=in_days(days))


def test_a_deadline_goes_only_with_a_return(returnable, db):
    application_id = start(returnable, db, "returnable").application.id
    task = approve_task(returnable, db, application_id)
    with pytest.raises(BadInput, match="goes only with a return"):
        decide(returnable, db, task.id, "sato", "approve", deadline=in_days(3))


def test_an_internal_return_may_set_a_deadline_for_whoever_gets_the_case_back(returnable, db):
    application_id = start(returnable, db, "returnable").application.id
    decide(returnable, db, approve_task(returnable, db, application_id).id, "sato", "approve")
    deadline = in_days(3)
    decide(returnable, db, approve_task(returnable, db, application_id).id, "suzuki", "return",
           comment="金額の根拠を確認して", deadline=deadline)
    back = approve_task(returnable, db, application_id)
    assert back.candidate_groups == ["kakaricho"] and back.due_at == passes_at(deadline)
    # without one, the returned task has no due date, and the route does not need one
    decide(returnable, db, back.id, "sato", "approve")
    decide(returnable, db, approve_task(returnable, db, application_id).id, "suzuki", "return", comment="再確認")
    assert approve_task(returnable, db, application_id).due_at is None
    details = [e["details"] for e in show(returnable, db, application_id)["history"]
               if e["action"] == "approval_decision" and e["details"]["decision"] == "return"]
    assert [d.get("deadline") for d in details] == [deadline.isoformat(), None]


def test_the_applicant_sees_the_return_reason_and_deadline(returnable, db):
    applicant = registered_and_verified(returnable, db, "hanako@example.jp")
    with db.transaction() as session:
        application_id = returnable.start_for_applicant(session, "returnable", applicant, {}).application.id
    with db.transaction() as session:
        [filed] = returnable.applicant_applications(session, applicant)
    assert (filed.public_status, filed.return_reason, filed.return_deadline) == ("in_progress", None, None)
    deadline = in_days(10)
    decide(returnable, db, approve_task(returnable, db, application_id).id, "sato", "return_to_applicant",
           comment="印鑑証明を添付してください", deadline=deadline)
    with db.transaction() as session:
        filed = returnable.applicant_application(session, applicant, application_id)
    assert (filed.public_status, filed.return_reason, filed.return_deadline) == \
        ("returned", "印鑑証明を添付してください", deadline)
    assert filed.as_dict()["return_deadline"] == deadline.isoformat()
    # once corrected and sent back, the notice is gone with the returned status
    [fix] = [t for t in open_tasks(returnable, db, application_id) if t.element_id == "fix"]
    complete(returnable, db, fix.id, f"applicant:{applicant}", {"note": "添付しました"})
    with db.transaction() as session:
        filed = returnable.applicant_application(session, applicant, application_id)
    assert (filed.public_status, filed.return_reason, filed.return_deadline) == ("in_progress", None, None)


def test_parse_deadline_directly():
    today = date(2026, 11, 27)
    assert parse_deadline("2026-11-28", "return_to_applicant", today=today) == date(2026, 11, 28)
    assert parse_deadline(None, "return", today=today) is None
    assert passes_at(date(2026, 11, 28)).isoformat() == "2026-11-29T00:00:00+09:00"


def test_the_command_line_takes_the_deadline(returnable, db, cli):
    application_id = start(returnable, db, "returnable").application.id
    task = approve_task(returnable, db, application_id)
    missing = cli("decide", task.id, "return_to_applicant", "--as", "sato", "--comment", "不足")
    assert missing.exit_code == 2 and "needs a deadline" in missing.output
    deadline = in_days(21).isoformat()
    done = cli("decide", task.id, "return_to_applicant", "--as", "sato", "--comment", "不足",
               "--deadline", deadline, "--json")
    assert done.exit_code == 0, done.output
    listed = cli("decisions", str(application_id), "--json")
    assert f'"deadline": "{deadline}"' in listed.output
