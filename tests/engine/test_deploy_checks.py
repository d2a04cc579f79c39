"""Deploy-time checks added for cases that used to fail only when an application ran."""

import pytest

from engine.errors import DeployRefused
from tests.diagrams import chain, process, user_task, write
from tests.engine.helpers import add_user, complete, deploy_text, show, start


def refused(engine, db, path) -> list:
    with db.transaction() as session, pytest.raises(DeployRefused) as info:
        engine.deploy(session, path)
    return info.value.problems


def with_task(task_xml: str, pid: str = "p") -> str:
    return process(pid, "\n".join(['<bpmn:startEvent id="s"/>', task_xml, '<bpmn:endEvent id="e"/>',
                                   chain("s", "t", "e")]))


@pytest.mark.parametrize(("attrs", "fragment"), [
    ('camunda:dueDate="soon"', "neither an ISO-8601 duration"),
    ('camunda:priority="high"', "not a whole number"),
    ('camunda:candidateGroups="${groups.append(1)}"', "cannot be used"),
    ('camunda:formKey="missing-form"', "not in the bundle"),
])
def test_bad_task_properties_are_refused(engine, db, tmp_path, attrs, fragment):
    problems = refused(engine, db, write(tmp_path, "p.bpmn", with_task(
        f'<bpmn:userTask id="t" camunda:candidateGroups="clerks" {attrs}/>'.replace(
            'camunda:candidateGroups="clerks" camunda:candidateGroups', 'camunda:candidateGroups'))))
    assert any(fragment in p.message and p.element_id == "t" for p in problems), [str(p) for p in problems]


def test_unknown_status_value_is_refused(engine, db, tmp_path):
    problems = refused(engine, db, write(tmp_path, "p.bpmn", with_task(
        '<bpmn:userTask id="t"><bpmn:extensionElements><camunda:properties>'
        '<camunda:property name="status" value="finished"/></camunda:properties></bpmn:extensionElements>'
        '</bpmn:userTask>')))
    assert "not one of the public statuses" in problems[0].message


def test_juel_error_is_reported_once(engine, db, tmp_path):
    from tests.diagrams import flow

    problems = refused(engine, db, write(tmp_path, "p.bpmn", process("p", "\n".join([
        '<bpmn:startEvent id="s"/>', '<bpmn:exclusiveGateway id="g" default="d"/>', '<bpmn:endEvent id="e"/>',
        chain("s", "g"), flow("bad", "g", "e", "${a.b()}"), flow("d", "g", "e")]))))
    assert [p.element_id for p in problems] == ["bad"]
    assert problems[0].message.count("column") == 1


def test_juel_in_camunda_properties_and_computed_timers(engine, db, tmp_path):
    add_user(engine, db, "clerk", "clerks")
    deploy_text(engine, db, tmp_path, process("p", "\n".join([
        '<bpmn:startEvent id="s"/>',
        '<bpmn:userTask id="t"><bpmn:extensionElements><camunda:properties>'
        '<camunda:property name="candidateGroups" value="${section}"/></camunda:properties>'
        '</bpmn:extensionElements></bpmn:userTask>',
        '<bpmn:boundaryEvent id="late" attachedToRef="t" cancelActivity="false"><bpmn:timerEventDefinition>'
        "<bpmn:timeDuration>'P' + str(days) + 'D'</bpmn:timeDuration></bpmn:timerEventDefinition>"
        '</bpmn:boundaryEvent>', '<bpmn:endEvent id="e2"/>',
        '<bpmn:endEvent id="e"/>', chain("s", "t", "e"), chain("late", "e2")])))
    started = start(engine, db, "p", {"section": "clerks", "days": 3})
    assert started.opened_tasks[0].candidate_groups == ["clerks"]
    assert (started.application.next_timer_at - started.application.created_at).days in (2, 3)


def test_camunda_multi_instance_collection(engine, db, tmp_path):
    add_user(engine, db, "clerk", "clerks")
    deploy_text(engine, db, tmp_path, with_task(
        '<bpmn:userTask id="t" camunda:candidateGroups="clerks"><bpmn:multiInstanceLoopCharacteristics '
        'camunda:collection="${reviewers}" camunda:elementVariable="reviewer"/></bpmn:userTask>'))
    started = start(engine, db, "p", {"reviewers": ["a", "b"]})
    assert len(started.opened_tasks) == 2
    for task in started.opened_tasks:
        result = complete(engine, db, task.id, "clerk")
    assert result.application.status == "completed"


def test_two_decisions_in_one_dmn_file_are_refused(engine, db, tmp_path):
    bundle = tmp_path / "b"
    bundle.mkdir()
    write(bundle, "p.bpmn", with_task('<bpmn:businessRuleTask id="t" camunda:decisionRef="second"/>'))
    write(bundle, "d.dmn", """<?xml version="1.0"?>
<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/" id="x" name="x" namespace="x">
  <decision id="first" name="first"><decisionTable id="t1"><input id="i1"><inputExpression id="e1">
    <text>a</text></inputExpression></input><output id="o1" name="r"/></decisionTable></decision>
  <decision id="second" name="second"><decisionTable id="t2"><input id="i2"><inputExpression id="e2">
    <text>a</text></inputExpression></input><output id="o2" name="r"/></decisionTable></decision>
</definitions>""")
    messages = [p.message for p in refused(engine, db, bundle)]
    assert any("more than one decision" in m for m in messages)


def test_dmn_1_4_is_accepted(engine, db, tmp_path):
    bundle = tmp_path / "b"
    bundle.mkdir()
    write(bundle, "p.bpmn", with_task('<bpmn:businessRuleTask id="t" camunda:decisionRef="d14"/>'))
    write(bundle, "d.dmn", """<?xml version="1.0"?>
<definitions xmlns="https://www.omg.org/spec/DMN/20211108/MODEL/" id="x" name="x" namespace="x">
  <decision id="d14" name="d14"><decisionTable id="t"><input id="i"><inputExpression id="ie">
    <text>a</text></inputExpression></input><output id="o" name="r"/>
    <rule id="r1"><inputEntry id="r1i"><text>1</text></inputEntry><outputEntry id="r1o"><text>"one"</text></outputEntry></rule>
  </decisionTable></decision>
</definitions>""")
    with db.transaction() as session:
        engine.deploy(session, bundle)
    assert show(engine, db, start(engine, db, "p", {"a": 1}).application.id)["data"]["r"] == "one"


def test_call_target_that_is_a_secondary_process_of_another_bundle(engine, db, tmp_path):
    bundle = tmp_path / "lib"
    bundle.mkdir()
    (bundle / "procedure.toml").write_text('key = "library"\nprocess = "main_one"\n')
    write(bundle, "a.bpmn", process("main_one", '<bpmn:startEvent id="s"/><bpmn:endEvent id="e"/>' + chain("s", "e")))
    write(bundle, "b.bpmn", process("helper", '<bpmn:startEvent id="s2"/><bpmn:endEvent id="e2"/>' + chain("s2", "e2")))
    with db.transaction() as session:
        engine.deploy(session, bundle)
    deploy_text(engine, db, tmp_path, with_task('<bpmn:callActivity id="t" calledElement="helper"/>', pid="caller"))
    assert start(engine, db, "caller").application.status == "completed"


def test_assignee_may_claim_and_starter_sees_unnamed_tasks(engine, db, tmp_path):
    deploy_text(engine, db, tmp_path, process("p", "\n".join([
        '<bpmn:startEvent id="s"/>', '<bpmn:userTask id="t" camunda:assignee="sato"/>', user_task("u", groups=None),
        '<bpmn:endEvent id="e"/>', chain("s", "t", "u", "e")])))
    started = start(engine, db, "p", actor="resident")
    with db.transaction() as session:
        assert engine.claim(session, started.opened_tasks[0].id, actor="sato").assignee == "sato"
    unnamed = complete(engine, db, started.opened_tasks[0].id, "sato").opened_tasks[0]
    with db.transaction() as session:
        assert [t.id for t in engine.tasks(session, user="resident")] == [unnamed.id]
