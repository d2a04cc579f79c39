"""Applications filed by applicants: the link, My Page's list, and the public status."""

from __future__ import annotations

import pytest

from engine.applicants.public_status import public_status
from engine.errors import BadInput, NotFound
from tests.diagrams import flow, process
from tests.engine.applicants.support import register, registered_and_verified
from tests.engine.helpers import add_user, complete, deploy_text, open_tasks
from tests.engine.jobs.support import service_task

#: Reviewed by a clerk, decided through an approval route; a return to the applicant sends
#: the case to a correction task (no status of its own) and then to a new route.
ROUTED = process("routed_permit", "\n".join([
    '<bpmn:startEvent id="start"/>',
    '<bpmn:userTask id="review" name="受付審査" camunda:candidateGroups="tanto"/>',
    service_task("route", "approval_route", {"levels": '["kakaricho"]', "title": '"許可の決定"'}),
    '<bpmn:exclusiveGateway id="outcome" default="to_done"/>',
    '<bpmn:userTask id="fix" name="申請者による修正"/>',
    '<bpmn:endEvent id="done"/>',
    '<bpmn:endEvent id="rejected"><bpmn:extensionElements><camunda:properties>'
    '<camunda:property name="status" value="rejected"/></camunda:properties></bpmn:extensionElements></bpmn:endEvent>',
    flow("f1", "start", "review"), flow("f2", "review", "route"), flow("f3", "route", "outcome"),
    flow("to_fix", "outcome", "fix", 'approval["outcome"] == "returned_to_applicant"'),
    flow("to_rejected", "outcome", "rejected", 'approval["outcome"] == "rejected"'),
    flow("to_done", "outcome", "done"), flow("f4", "fix", "route"),
]))


@pytest.mark.parametrize(("status", "finished", "route", "taken_up", "expected"), [
    ("received", False, None, False, "submitted"),
    ("in_review", False, None, False, "submitted"),
    ("in_review", False, None, True, "in_progress"),
    ("in_review", False, "running", False, "in_progress"),
    ("in_review", False, "returned_to_applicant", True, "returned"),
    ("returned", False, None, True, "returned"),
    ("returned", True, None, True, "returned"),
    ("approved", False, "approved", True, "in_progress"),
    ("issued", False, "approved", True, "completed"),
    ("approved", True, "approved", True, "completed"),
    ("in_review", True, None, True, "completed"),
    ("rejected", True, "rejected", True, "rejected"),
    ("in_review", False, "rejected", True, "rejected"),
    ("withdrawn", True, "withdrawn", True, "withdrawn"),
    ("custom_stage", False, None, True, "in_progress"),
])
def test_public_status_table(status, finished, route, taken_up, expected):
    assert public_status(status, finished, route, taken_up) == expected


@pytest.fixture
def permit(engine, db, tmp_path):
    deploy_text(engine, db, tmp_path, ROUTED)
    add_user(engine, db, "tanaka", "tanto")
    add_user(engine, db, "sato", "kakaricho")
    return "routed_permit"


def file(engine, db, applicant_id: int, key: str, data: dict | None = None):
    with db.transaction() as session:
        return engine.start_for_applicant(session, key, applicant_id, data or {})


def mine(engine, db, applicant_id: int) -> list[tuple[str, str]]:
    with db.transaction() as session:
        return [(f.reference, f.public_status) for f in engine.applicant_applications(session, applicant_id)]


def decide(engine, db, application_id: int, actor: str, decision: str, comment: str | None = None):
    [task] = [t for t in open_tasks(engine, db, application_id) if t.kind == "approve"]
    with db.transaction() as session:
        return engine.decide(session, task.id, actor=actor, decision=decision, comment=comment,
                             deadline="2099-03-31" if decision == "return_to_applicant" else None)


def test_a_filed_application_goes_through_every_public_status(engine, db, permit):
    hanako = registered_and_verified(engine, db)
    started = file(engine, db, hanako, permit, {"purpose": "道路占用"})
    application_id, reference = started.application.id, started.application.reference
    with db.transaction() as session:
        assert engine.application_owner(session, application_id) == hanako
        assert engine.application(session, application_id).started_by == f"applicant:{hanako}"
    assert mine(engine, db, hanako) == [(reference, "submitted")]

    [review] = started.opened_tasks
    with db.transaction() as session:
        engine.claim(session, review.id, actor="tanaka")
    assert mine(engine, db, hanako) == [(reference, "in_progress")]
    complete(engine, db, review.id, "tanaka")
    assert mine(engine, db, hanako) == [(reference, "in_progress")]  # the route runs

    decide(engine, db, application_id, "sato", "return_to_applicant", "添付書類が不足しています")
    assert mine(engine, db, hanako) == [(reference, "returned")]

    [fix] = [t for t in open_tasks(engine, db, application_id) if t.element_id == "fix"]
    complete(engine, db, fix.id, f"applicant:{hanako}", {"attachment": "added"})
    assert mine(engine, db, hanako) == [(reference, "in_progress")]  # a new route runs

    decide(engine, db, application_id, "sato", "reject", "要件を満たしません")
    assert mine(engine, db, hanako) == [(reference, "rejected")]


def test_approved_and_finished_is_completed(engine, db, permit):
    hanako = registered_and_verified(engine, db)
    started = file(engine, db, hanako, permit)
    complete(engine, db, started.opened_tasks[0].id, "tanaka")
    decide(engine, db, started.application.id, "sato", "approve")
    assert mine(engine, db, hanako) == [(started.application.reference, "completed")]


def test_an_applicant_sees_only_their_own_applications(engine, db, permit):
    hanako = registered_and_verified(engine, db)
    jiro = registered_and_verified(engine, db, "jiro@example.jp")
    first = file(engine, db, hanako, permit).application
    second = file(engine, db, hanako, permit).application
    theirs = file(engine, db, jiro, permit).application
    with db.transaction() as session:  # staff-filed: belongs to nobody
        engine.start(session, permit, data={}, actor="tanaka")
    assert [r for r, _ in mine(engine, db, hanako)] == [second.reference, first.reference]
    assert [r for r, _ in mine(engine, db, jiro)] == [theirs.reference]
    with db.transaction() as session:
        assert engine.applicant_application_count(session, hanako) == 2
        assert engine.applicant_application(session, hanako, first.id).reference == first.reference
        with pytest.raises(NotFound) as other:
            engine.applicant_application(session, hanako, theirs.id)
        with pytest.raises(NotFound) as missing:
            engine.applicant_application(session, hanako, 999_999)
    # The same answer for someone else's application and for none at all (ids are not confirmed).
    assert str(other.value).replace(str(theirs.id), "N") == str(missing.value).replace("999999", "N")


def test_only_a_confirmed_address_may_file(engine, db, permit):
    register(engine, db)
    with db.transaction() as session:
        [account] = engine.applicants(session)
    with db.transaction() as session, pytest.raises(BadInput, match="not confirmed"):
        engine.start_for_applicant(session, permit, account.id, {})
    with db.transaction() as session, pytest.raises(NotFound):
        engine.start_for_applicant(session, permit, 999_999, {})
