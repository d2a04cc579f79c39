"""Each BPMN construct the engine promises, run through deploy → start → complete."""

import time

import pytest

from tests.databases import sqlite_only
from tests.diagrams import chain, definitions, flow, process, script_task, user_task, write
from tests.engine.helpers import add_user, complete, deploy_text, open_tasks, show, start


@pytest.fixture(autouse=True)
def clerk(engine, db):
    add_user(engine, db, "clerk", "clerks")


def names(tasks) -> list[str]:
    return sorted(t.element_id for t in tasks)


def fire_due(engine, db, application_id: int) -> None:
    """Run the due jobs, as `madoguchi worker --once` does; the application's timer must be one."""
    assert engine.worker(db).run_once() >= 1


def test_parallel_gateway_splits_and_joins(engine, db, tmp_path):
    deploy_text(engine, db, tmp_path, process("parallel", "\n".join([
        '<bpmn:startEvent id="s"/>', '<bpmn:parallelGateway id="split"/>',
        user_task("legal"), user_task("finance"), '<bpmn:parallelGateway id="join"/>',
        script_task("after", "both = legal_ok and finance_ok"), '<bpmn:endEvent id="e"/>',
        chain("s", "split"), flow("a", "split", "legal"), flow("b", "split", "finance"),
        flow("c", "legal", "join"), flow("d", "finance", "join"), chain("join", "after", "e")])))
    started = start(engine, db, "parallel")
    assert names(started.opened_tasks) == ["finance", "legal"]
    tasks = {t.element_id: t for t in started.opened_tasks}
    assert complete(engine, db, tasks["legal"].id, "clerk", {"legal_ok": True}).application.status == "in_review"
    result = complete(engine, db, tasks["finance"].id, "clerk", {"finance_ok": True})
    assert result.application.status == "completed"
    assert show(engine, db, result.application.id)["data"]["both"] is True


def test_inclusive_gateway_runs_every_matching_path(engine, db, tmp_path):
    deploy_text(engine, db, tmp_path, process("inclusive", "\n".join([
        '<bpmn:startEvent id="s"/>', '<bpmn:inclusiveGateway id="split" default="none"/>',
        user_task("tax"), user_task("welfare"), user_task("plain"), '<bpmn:inclusiveGateway id="join"/>',
        '<bpmn:endEvent id="e"/>', chain("s", "split"),
        flow("t", "split", "tax", "needs_tax"), flow("w", "split", "welfare", "${needs_welfare}"),
        flow("none", "split", "plain"),
        flow("t2", "tax", "join"), flow("w2", "welfare", "join"), flow("p2", "plain", "join"), chain("join", "e")])))
    started = start(engine, db, "inclusive", {"needs_tax": True, "needs_welfare": True})
    assert names(started.opened_tasks) == ["tax", "welfare"]
    for task in started.opened_tasks:
        result = complete(engine, db, task.id, "clerk")
    assert result.application.status == "completed"
    only_default = start(engine, db, "inclusive", {"needs_tax": False, "needs_welfare": False})
    assert names(only_default.opened_tasks) == ["plain"]


def test_interrupting_timer_boundary_fires_from_the_worker(engine, db, tmp_path):
    deploy_text(engine, db, tmp_path, process("deadline", "\n".join([
        '<bpmn:startEvent id="s"/>', user_task("answer"), '<bpmn:endEvent id="answered"/>',
        '<bpmn:boundaryEvent id="too_late" attachedToRef="answer"><bpmn:timerEventDefinition>'
        '<bpmn:timeDuration>PT1S</bpmn:timeDuration></bpmn:timerEventDefinition></bpmn:boundaryEvent>',
        user_task("escalate"), '<bpmn:endEvent id="escalated"/>',
        chain("s", "answer", "answered"), chain("too_late", "escalate", "escalated")])))
    started = start(engine, db, "deadline")
    app = started.application
    assert app.next_timer_at is not None
    # Not due yet (one second is long enough for a loaded machine to get here first).
    assert engine.worker(db).run_once() == 0
    time.sleep(1.1)
    fire_due(engine, db, app.id)
    assert names(open_tasks(engine, db, app.id)) == ["escalate"]
    view = show(engine, db, app.id)
    assert view["next_timer_at"] is None
    assert "task_cancelled" in [e["action"] for e in view["history"]]


def test_non_interrupting_timer_adds_a_reminder(engine, db, tmp_path):
    deploy_text(engine, db, tmp_path, process("reminder", "\n".join([
        '<bpmn:startEvent id="s"/>', user_task("review"), '<bpmn:endEvent id="e"/>',
        '<bpmn:boundaryEvent id="remind" attachedToRef="review" cancelActivity="false">'
        '<bpmn:timerEventDefinition><bpmn:timeDuration>PT0.2S</bpmn:timeDuration></bpmn:timerEventDefinition>'
        '</bpmn:boundaryEvent>', user_task("chase"), '<bpmn:endEvent id="e2"/>',
        chain("s", "review", "e"), chain("remind", "chase", "e2")])))
    app = start(engine, db, "reminder").application
    time.sleep(0.3)
    fire_due(engine, db, app.id)
    assert names(open_tasks(engine, db, app.id)) == ["chase", "review"]


def test_intermediate_timer_and_date_timer(engine, db, tmp_path):
    deploy_text(engine, db, tmp_path, process("waiting", "\n".join([
        '<bpmn:startEvent id="s"/>',
        '<bpmn:intermediateCatchEvent id="wait"><bpmn:timerEventDefinition>'
        '<bpmn:timeDate>2020-01-01T00:00:00+09:00</bpmn:timeDate></bpmn:timerEventDefinition>'
        '</bpmn:intermediateCatchEvent>', user_task("after"), '<bpmn:endEvent id="e"/>',
        chain("s", "wait", "after", "e")])))
    # a date in the past fires on the first step
    assert names(start(engine, db, "waiting").opened_tasks) == ["after"]


def test_event_based_gateway_takes_the_first_event(engine, db, tmp_path):
    deploy_text(engine, db, tmp_path, process("race", "\n".join([
        '<bpmn:startEvent id="s"/>', '<bpmn:eventBasedGateway id="gw"/>',
        '<bpmn:intermediateCatchEvent id="paid"><bpmn:messageEventDefinition messageRef="payment"/>'
        '</bpmn:intermediateCatchEvent>',
        '<bpmn:intermediateCatchEvent id="timeout"><bpmn:timerEventDefinition>'
        '<bpmn:timeDuration>PT0.2S</bpmn:timeDuration></bpmn:timerEventDefinition></bpmn:intermediateCatchEvent>',
        user_task("deliver"), user_task("cancelled"), '<bpmn:endEvent id="e1"/>', '<bpmn:endEvent id="e2"/>',
        chain("s", "gw"), flow("m", "gw", "paid"), flow("t", "gw", "timeout"),
        chain("paid", "deliver", "e1"), chain("timeout", "cancelled", "e2")]),
        extra='<bpmn:message id="payment" name="payment"/>'))
    app = start(engine, db, "race").application
    assert open_tasks(engine, db, app.id) == []
    time.sleep(0.3)
    fire_due(engine, db, app.id)
    assert names(open_tasks(engine, db, app.id)) == ["cancelled"]


def test_message_between_branches_of_one_application(engine, db, tmp_path):
    deploy_text(engine, db, tmp_path, process("internal_message", "\n".join([
        '<bpmn:startEvent id="s"/>', '<bpmn:parallelGateway id="split"/>',
        '<bpmn:intermediateCatchEvent id="wait_signal"><bpmn:messageEventDefinition messageRef="go"/>'
        '</bpmn:intermediateCatchEvent>', user_task("after_signal"),
        user_task("sender"),
        '<bpmn:intermediateThrowEvent id="send_signal"><bpmn:messageEventDefinition messageRef="go"/>'
        '</bpmn:intermediateThrowEvent>',
        '<bpmn:parallelGateway id="join"/>', '<bpmn:endEvent id="e"/>',
        chain("s", "split"), flow("a", "split", "wait_signal"), flow("b", "split", "sender"),
        chain("wait_signal", "after_signal"), flow("c", "after_signal", "join"),
        chain("sender", "send_signal"), flow("d", "send_signal", "join"), chain("join", "e")]),
        extra='<bpmn:message id="go" name="go"/>'))
    started = start(engine, db, "internal_message")
    assert names(started.opened_tasks) == ["sender"]
    result = complete(engine, db, started.opened_tasks[0].id, "clerk")
    assert names(result.opened_tasks) == ["after_signal"]
    assert complete(engine, db, result.opened_tasks[0].id, "clerk").application.status == "completed"


def test_call_activity_runs_a_process_from_another_file(engine, db, tmp_path):
    bundle = tmp_path / "bundle"
    bundle.mkdir()
    (bundle / "procedure.toml").write_text('key = "with-call"\nprocess = "parent"\n')
    write(bundle, "parent.bpmn", process("parent", "\n".join([
        '<bpmn:startEvent id="s"/>', '<bpmn:callActivity id="check" calledElement="identity_check"/>',
        script_task("use", "outcome = 'ok' if verified else 'ng'"), '<bpmn:endEvent id="e"/>',
        chain("s", "check", "use", "e")])))
    write(bundle, "child.bpmn", process("identity_check", "\n".join([
        '<bpmn:startEvent id="cs"/>', user_task("verify"), '<bpmn:endEvent id="ce"/>',
        chain("cs", "verify", "ce")])))
    with db.transaction() as session:
        engine.deploy(session, bundle)
    started = start(engine, db, "with-call", {"name": "山田"})
    assert names(started.opened_tasks) == ["verify"]
    result = complete(engine, db, started.opened_tasks[0].id, "clerk", {"verified": True})
    assert result.application.status == "completed"
    assert show(engine, db, result.application.id)["data"]["outcome"] == "ok"


def test_call_activity_target_deployed_earlier(engine, db, tmp_path):
    deploy_text(engine, db, tmp_path, process("shared_step", "\n".join([
        '<bpmn:startEvent id="cs"/>', script_task("mark", "shared = True"), '<bpmn:endEvent id="ce"/>',
        chain("cs", "mark", "ce")])), name="shared.bpmn")
    deploy_text(engine, db, tmp_path, process("uses_shared", "\n".join([
        '<bpmn:startEvent id="s"/>', '<bpmn:callActivity id="call" calledElement="shared_step"/>',
        '<bpmn:endEvent id="e"/>', chain("s", "call", "e")])), name="user.bpmn")
    result = start(engine, db, "uses_shared")
    assert result.application.status == "completed"
    assert show(engine, db, result.application.id)["data"]["shared"] is True


def test_parallel_multi_instance_user_task(engine, db, tmp_path):
    deploy_text(engine, db, tmp_path, process("consult", "\n".join([
        '<bpmn:startEvent id="s"/>',
        '<bpmn:userTask id="opinion" camunda:candidateGroups="clerks">'
        '<bpmn:multiInstanceLoopCharacteristics>'
        '<bpmn:loopDataInputRef>sections</bpmn:loopDataInputRef>'
        '<bpmn:loopDataOutputRef>opinions</bpmn:loopDataOutputRef>'
        '<bpmn:inputDataItem id="section" name="section"/>'
        '<bpmn:outputDataItem id="verdict" name="verdict"/>'
        '</bpmn:multiInstanceLoopCharacteristics></bpmn:userTask>',
        '<bpmn:endEvent id="e"/>', chain("s", "opinion", "e")])))
    started = start(engine, db, "consult", {"sections": ["finance", "legal", "tax"]})
    assert len(started.opened_tasks) == 3
    for i, task in enumerate(started.opened_tasks):
        result = complete(engine, db, task.id, "clerk", {"verdict": f"ok-{i}"})
    assert result.application.status == "completed"
    assert sorted(show(engine, db, result.application.id)["data"]["opinions"]) == ["ok-0", "ok-1", "ok-2"]


DMN = """<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/" id="d" name="route" namespace="x">
  <decision id="route" name="route">
    <decisionTable id="t" hitPolicy="FIRST">
      <input id="i1"><inputExpression id="ie1" typeRef="number"><text>amount</text></inputExpression></input>
      <output id="o1" name="approver" typeRef="string"/>
      <rule id="r1"><inputEntry id="r1i"><text>&lt;= 1000000</text></inputEntry>
        <outputEntry id="r1o"><text>"kacho"</text></outputEntry></rule>
      <rule id="r2"><inputEntry id="r2i"><text>&lt;= 10000000</text></inputEntry>
        <outputEntry id="r2o"><text>"bucho"</text></outputEntry></rule>
      <rule id="r3"><inputEntry id="r3i"><text>-</text></inputEntry>
        <outputEntry id="r3o"><text>"fukushicho"</text></outputEntry></rule>
    </decisionTable>
  </decision>
</definitions>
"""


@pytest.mark.parametrize(("amount", "approver"), [(500_000, "kacho"), (5_000_000, "bucho"),
                                                   (50_000_000, "fukushicho")])
def test_business_rule_task_uses_the_bundle_dmn(engine, db, tmp_path, amount, approver):
    bundle = tmp_path / "route"
    bundle.mkdir()
    write(bundle, "route.dmn", DMN)
    write(bundle, "route.bpmn", process("routing", "\n".join([
        '<bpmn:startEvent id="s"/>', '<bpmn:businessRuleTask id="decide" camunda:decisionRef="route"/>',
        '<bpmn:endEvent id="e"/>', chain("s", "decide", "e")])))
    with db.transaction() as session:
        engine.deploy(session, bundle)
    result = start(engine, db, "routing", {"amount": amount})
    assert show(engine, db, result.application.id)["data"]["approver"] == approver


def test_spiff_dialect_properties_and_scripts(engine, db, tmp_path):
    deploy_text(engine, db, tmp_path, process("spiff_dialect", "\n".join([
        '<bpmn:startEvent id="s"/>',
        '<bpmn:userTask id="check"><bpmn:extensionElements>'
        '<spiffworkflow:properties><spiffworkflow:property name="candidateGroups" value="=team"/>'
        '<spiffworkflow:property name="dueDate" value="P2D"/></spiffworkflow:properties>'
        '<spiffworkflow:preScript>team = "clerks"</spiffworkflow:preScript>'
        '<spiffworkflow:postScript>checked = True</spiffworkflow:postScript>'
        '</bpmn:extensionElements></bpmn:userTask>',
        '<bpmn:endEvent id="e"/>', chain("s", "check", "e")])))
    started = start(engine, db, "spiff_dialect")
    [task] = started.opened_tasks
    assert task.candidate_groups == ["clerks"]
    assert (task.due_at - task.created_at).days == 2
    result = complete(engine, db, task.id, "clerk")
    assert show(engine, db, result.application.id)["data"]["checked"] is True


@sqlite_only
def test_ten_thousand_loop_iterations_complete(engine, db, tmp_path):
    """SpiffWorkflow alone stalls silently after ~500 iterations of such a loop. The loop runs
    within one step of the engine, the database only stores its result: SQLite suffices."""
    deploy_text(engine, db, tmp_path, process("long_loop", "\n".join([
        '<bpmn:startEvent id="s"/>', script_task("init", "i = 0"), script_task("step", "i = i + 1"),
        '<bpmn:exclusiveGateway id="again" default="more"/>', user_task("done_check"), '<bpmn:endEvent id="e"/>',
        chain("s", "init", "step", "again"), flow("more", "again", "step"),
        flow("enough", "again", "done_check", "i >= 10000"), chain("done_check", "e")])))
    started = start(engine, db, "long_loop")
    assert names(started.opened_tasks) == ["done_check"]
    assert show(engine, db, started.application.id)["data"]["i"] == 10000
    assert len(started.application.state) < 100_000  # history is compacted, state stays small
    result = complete(engine, db, started.opened_tasks[0].id, "clerk")
    assert result.application.status == "completed"


def test_user_task_loop_survives_many_round_trips(engine, db, tmp_path):
    deploy_text(engine, db, tmp_path, process("rework", "\n".join([
        '<bpmn:startEvent id="s"/>', user_task("fix"), script_task("count", "n = n + 1"),
        '<bpmn:exclusiveGateway id="ok" default="again"/>', '<bpmn:endEvent id="e"/>',
        chain("s", "fix", "count", "ok"), flow("again", "ok", "fix"), flow("done", "ok", "e", "good")])))
    task = start(engine, db, "rework", {"n": 0}).opened_tasks[0]
    for _ in range(30):
        task = complete(engine, db, task.id, "clerk", {"good": False}).opened_tasks[0]
    result = complete(engine, db, task.id, "clerk", {"good": True})
    assert result.application.status == "completed"
    assert show(engine, db, result.application.id)["data"]["n"] == 31


def test_collaboration_diagram_with_black_box_pool(engine, db, tmp_path):
    content = definitions(
        '<bpmn:collaboration id="c"><bpmn:participant id="p1" processRef="office"/>'
        '<bpmn:participant id="p2" processRef="applicant"/></bpmn:collaboration>'
        '<bpmn:process id="office" isExecutable="false"><bpmn:startEvent id="s"/>'
        + user_task("review") + '<bpmn:endEvent id="e"/>' + chain("s", "review", "e") + '</bpmn:process>'
        '<bpmn:process id="applicant" isExecutable="false"/>', "collab")
    definition = deploy_text(engine, db, tmp_path, content)
    assert definition.process_id == "office"
