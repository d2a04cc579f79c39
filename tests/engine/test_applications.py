"""Starting, completing, claiming: the life of an application through the engine façade."""

import pytest

from engine.errors import Conflict, NotFound, PermissionRefused
from tests.diagrams import chain, flow, process, script_task, user_task
from tests.engine.helpers import add_user, complete, deploy_text, open_tasks, show, start

REVIEW_APPROVE = process("review_approve", "\n".join([
    '<bpmn:startEvent id="start"/>',
    user_task("review", "Review", groups="clerks"),
    '<bpmn:exclusiveGateway id="decide" default="to_reject"/>',
    user_task("approve", "Approve", groups="chiefs"),
    script_task("record", "result = 'approved by ' + approver"),
    '<bpmn:endEvent id="done"/>',
    '<bpmn:endEvent id="rejected"><bpmn:extensionElements><camunda:properties>'
    '<camunda:property name="status" value="rejected"/></camunda:properties></bpmn:extensionElements>'
    '</bpmn:endEvent>',
    chain("start", "review", "decide"),
    flow("to_approve", "decide", "approve", "${decision == 'approve' && fee > 1000}"),
    flow("to_reject", "decide", "rejected"),
    chain("approve", "record", "done"),
]))


@pytest.fixture
def procedure(engine, db, tmp_path):
    add_user(engine, db, "clerk", "clerks")
    add_user(engine, db, "chief", "chiefs")
    add_user(engine, db, "outsider", "other")
    return deploy_text(engine, db, tmp_path, REVIEW_APPROVE)


def test_application_runs_end_to_end(engine, db, procedure):
    started = start(engine, db, "review_approve", {"fee": 5000})
    app = started.application
    assert app.status == "in_review"
    assert app.reference.startswith(str(app.created_at.year))
    [review] = started.opened_tasks
    assert (review.element_id, review.candidate_groups) == ("review", ["clerks"])

    result = complete(engine, db, review.id, "clerk", {"decision": "approve"})
    [approve] = result.opened_tasks
    assert approve.candidate_groups == ["chiefs"]

    result = complete(engine, db, approve.id, "chief", {"approver": "chief"})
    assert result.application.status == "completed"
    view = show(engine, db, app.id)
    assert view["data"]["result"] == "approved by chief"
    assert view["open_tasks"] == []
    assert [e["action"] for e in view["history"]] == [
        "application_started", "task_created", "task_completed", "task_created", "task_completed",
        "application_completed",
    ]


def test_end_event_status_is_the_public_status(engine, db, procedure):
    started = start(engine, db, "review_approve", {"fee": 5000})
    result = complete(engine, db, started.opened_tasks[0].id, "clerk", {"decision": "reject"})
    assert result.application.status == "rejected"


def test_task_lists_show_tasks_to_candidates_only(engine, db, procedure):
    started = start(engine, db, "review_approve", {"fee": 5000})
    with db.transaction() as session:
        assert [t.id for t in engine.tasks(session, user="clerk")] == [started.opened_tasks[0].id]
        assert engine.tasks(session, user="chief") == []
        assert [t.id for t in engine.tasks(session, group="clerks")] == [started.opened_tasks[0].id]


def test_only_candidates_may_complete(engine, db, procedure):
    started = start(engine, db, "review_approve", {"fee": 5000})
    with pytest.raises(PermissionRefused):
        complete(engine, db, started.opened_tasks[0].id, "outsider", {"decision": "approve"})
    with pytest.raises(PermissionRefused):
        complete(engine, db, started.opened_tasks[0].id, "chief", {"decision": "approve"})
    # nothing changed: the task is still open
    assert [t.id for t in open_tasks(engine, db, started.application.id)] == [started.opened_tasks[0].id]


def test_claimed_task_belongs_to_its_assignee(engine, db, procedure):
    add_user(engine, db, "clerk2", "clerks")
    task_id = start(engine, db, "review_approve", {"fee": 5000}).opened_tasks[0].id
    with db.transaction() as session:
        engine.claim(session, task_id, actor="clerk")
    with db.transaction() as session:
        assert engine.tasks(session, user="clerk2") == []
        with pytest.raises(Conflict):
            engine.claim(session, task_id, actor="clerk2")
    with pytest.raises(PermissionRefused):
        complete(engine, db, task_id, "clerk2", {"decision": "approve"})
    with db.transaction() as session:
        with pytest.raises(PermissionRefused):
            engine.unclaim(session, task_id, actor="clerk2")
        engine.unclaim(session, task_id, actor="clerk")
    complete(engine, db, task_id, "clerk2", {"decision": "approve"})


def test_outsider_cannot_claim(engine, db, procedure):
    task_id = start(engine, db, "review_approve", {"fee": 5000}).opened_tasks[0].id
    with db.transaction() as session, pytest.raises(PermissionRefused):
        engine.claim(session, task_id, actor="outsider")


def test_stale_completion_is_a_conflict_that_says_so(engine, db, procedure):
    task_id = start(engine, db, "review_approve", {"fee": 5000}).opened_tasks[0].id
    complete(engine, db, task_id, "clerk", {"decision": "approve"})
    with pytest.raises(Conflict, match="already completed by clerk"):
        complete(engine, db, task_id, "clerk", {"decision": "approve"})


def test_failed_step_rolls_back_whole(engine, db, procedure):
    started = start(engine, db, "review_approve", {"fee": 5000})
    review = started.opened_tasks[0]
    complete_result = complete(engine, db, review.id, "clerk", {"decision": "approve"})
    approve = complete_result.opened_tasks[0]
    from engine.errors import ExecutionFailed

    with pytest.raises(ExecutionFailed, match="record"):  # the script needs 'approver'
        complete(engine, db, approve.id, "chief", {})
    view = show(engine, db, started.application.id)
    assert view["status"] == "in_review"
    assert [t["id"] for t in view["open_tasks"]] == [approve.id]
    assert view["history"][-1]["action"] == "task_created"


def test_unknown_task_and_procedure(engine, db, procedure):
    with pytest.raises(NotFound):
        complete(engine, db, "00000000-0000-0000-0000-000000000000", "clerk")
    with pytest.raises(NotFound):
        start(engine, db, "no-such-procedure")


def test_task_without_candidates_belongs_to_the_starter(engine, db, tmp_path):
    deploy_text(engine, db, tmp_path, process("self_service", "\n".join([
        '<bpmn:startEvent id="s"/>', user_task("fill", groups=None), '<bpmn:endEvent id="e"/>',
        chain("s", "fill", "e")])))
    task_id = start(engine, db, "self_service", actor="resident").opened_tasks[0].id
    with pytest.raises(PermissionRefused):
        complete(engine, db, task_id, "someone-else")
    assert complete(engine, db, task_id, "resident").application.status == "completed"


def test_lane_name_is_the_candidate_group(engine, db, tmp_path):
    body = ('<bpmn:laneSet id="ls"><bpmn:lane id="l1" name="kaikei"><bpmn:flowNodeRef>pay</bpmn:flowNodeRef>'
            '</bpmn:lane></bpmn:laneSet>' + "\n".join([
                '<bpmn:startEvent id="s"/>', user_task("pay", groups=None), '<bpmn:endEvent id="e"/>',
                chain("s", "pay", "e")]))
    deploy_text(engine, db, tmp_path, process("laned", body))
    [task] = start(engine, db, "laned").opened_tasks
    assert task.candidate_groups == ["kaikei"]
