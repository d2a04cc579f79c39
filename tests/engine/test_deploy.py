"""Deploying: versions, no-op re-deploys, and every refusal with file, line, element and fix."""

import zipfile

import pytest

from engine.errors import DeployRefused
from tests.diagrams import chain, flow, process, script_task, user_task, write
from tests.engine.helpers import complete, deploy_text, show, start

SIMPLE = process("simple", "\n".join([
    '<bpmn:startEvent id="s"/>', user_task("review"), '<bpmn:endEvent id="e"/>', chain("s", "review", "e")]))


def refused(engine, db, tmp_path, content: str, name: str = "bad.bpmn") -> list:
    path = write(tmp_path, name, content)
    with db.transaction() as session, pytest.raises(DeployRefused) as info:
        engine.deploy(session, path)
    return info.value.problems


def test_identical_content_is_a_no_op_and_changes_make_versions(engine, db, tmp_path):
    first = deploy_text(engine, db, tmp_path, SIMPLE)
    assert first.version == 1
    again = deploy_text(engine, db, tmp_path, SIMPLE)
    assert again.id == first.id
    changed = deploy_text(engine, db, tmp_path, SIMPLE.replace('name="review"', 'name="審査"'))
    assert (changed.key, changed.version) == ("simple", 2)


def test_running_applications_stay_on_their_version(engine, db, tmp_path):
    from tests.engine.helpers import add_user

    add_user(engine, db, "clerk", "clerks")
    deploy_text(engine, db, tmp_path, SIMPLE)
    old = start(engine, db, "simple")
    v2 = SIMPLE.replace(chain("s", "review", "e"), "") .replace(
        '<bpmn:endEvent id="e"/>',
        script_task("extra", "v2 = True") + '<bpmn:endEvent id="e"/>' + chain("s", "review", "extra", "e"))
    deploy_text(engine, db, tmp_path, v2)
    new = start(engine, db, "simple")
    complete(engine, db, old.opened_tasks[0].id, "clerk")
    complete(engine, db, new.opened_tasks[0].id, "clerk")
    assert "v2" not in show(engine, db, old.application.id)["data"]
    assert show(engine, db, new.application.id)["data"]["v2"] is True
    assert show(engine, db, old.application.id)["version"] == 1


def test_bundle_zip_deploys_with_manifest_key(engine, db, tmp_path):
    archive = tmp_path / "bundle.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("proc/procedure.toml", 'key = "zipped"\n[title]\nja = "ジップ"\n')
        zf.writestr("proc/main.bpmn", SIMPLE)
    with db.transaction() as session:
        definition = engine.deploy(session, archive).definition
    assert (definition.key, definition.title, definition.process_id) == ("zipped", "ジップ", "simple")


def test_zip_entries_may_not_escape(engine, db, tmp_path):
    archive = tmp_path / "evil.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("../../etc/evil.bpmn", SIMPLE)
    with db.transaction() as session, pytest.raises(DeployRefused, match="outside the bundle"):
        engine.deploy(session, archive)


def _one(problems, fragment: str):
    matching = [p for p in problems if fragment in p.message]
    assert matching, f"no problem mentions {fragment!r}: {[str(p) for p in problems]}"
    return matching[0]


REFUSALS = {
    "javascript script": (script_task("s1", "x = 1").replace('scriptFormat="python"', 'scriptFormat="javascript"'),
                          "s1", "only Python runs here"),
    "groovy script": (script_task("s2", "x = 1").replace('scriptFormat="python"', 'scriptFormat="groovy"'),
                      "s2", "only Python runs here"),
    "java class": ('<bpmn:serviceTask id="svc" camunda:class="org.example.Delegate"/>', "svc", "camunda:class"),
    "java expression": ('<bpmn:serviceTask id="svc2" camunda:expression="${bean.call()}"/>', "svc2",
                        "camunda:expression"),
    "delegate expression": ('<bpmn:serviceTask id="svc3" camunda:delegateExpression="${d}"/>', "svc3",
                            "camunda:delegateExpression"),
    "unknown operation": ('<bpmn:serviceTask id="svc4" camunda:type="external" camunda:topic="nobody-has-it"/>',
                          "svc4", "no installed plugin provides the operation 'nobody-has-it'"),
    "unknown call target": ('<bpmn:callActivity id="call" calledElement="missing_process"/>', "call",
                            "not in this bundle and not deployed"),
    "unknown decision": ('<bpmn:businessRuleTask id="brt" camunda:decisionRef="nope"/>', "brt",
                         "not in any .dmn file"),
    "task listener": ('<bpmn:userTask id="ut"><bpmn:extensionElements><camunda:taskListener '
                      'event="create" class="x.Y"/></bpmn:extensionElements></bpmn:userTask>', "ut",
                      "camunda:taskListener"),
    "import in script": (script_task("imp", "import os"), "imp", "refused"),
    "dunder in condition": ("", "cond", "refused"),
    "bad juel": ("", "juel", "cannot be used"),
    "bad timer": ('<bpmn:intermediateCatchEvent id="tm"><bpmn:timerEventDefinition><bpmn:timeDuration>"PT3X"'
                  '</bpmn:timeDuration></bpmn:timerEventDefinition></bpmn:intermediateCatchEvent>', "tm",
                  "not an ISO-8601"),
    "interrupting event subprocess": (
        '<bpmn:subProcess id="esp" triggeredByEvent="true"><bpmn:startEvent id="esp_start">'
        '<bpmn:messageEventDefinition messageRef="m"/></bpmn:startEvent></bpmn:subProcess>', "esp_start",
        "interrupting event subprocesses"),
}


@pytest.mark.parametrize("case", sorted(REFUSALS))
def test_refusals_name_file_line_element_and_fix(engine, db, tmp_path, case):
    element, element_id, fragment = REFUSALS[case]
    body = ['<bpmn:startEvent id="s"/>', '<bpmn:endEvent id="e"/>', element]
    if case == "dunder in condition":
        body += ['<bpmn:exclusiveGateway id="gw" default="d"/>', chain("s", "gw"),
                 flow("cond", "gw", "e", "().__class__.__bases__"), flow("d", "gw", "e")]
    elif case == "bad juel":
        body += ['<bpmn:exclusiveGateway id="gw" default="d"/>', chain("s", "gw"),
                 flow("juel", "gw", "e", "${bean.method()}"), flow("d", "gw", "e")]
    else:
        body.append(chain("s", "e"))
    problems = refused(engine, db, tmp_path, process("refusals", "\n".join(body)))
    problem = _one(problems, fragment)
    assert problem.file == "bad.bpmn"
    assert problem.line and problem.line > 1
    assert problem.element_id == element_id
    assert problem.fix
    assert str(problem).startswith(f"bad.bpmn:{problem.line}: {element_id}: ")


def test_gateway_without_condition_or_default_is_refused(engine, db, tmp_path):
    problems = refused(engine, db, tmp_path, process("gw", "\n".join([
        '<bpmn:startEvent id="s"/>', '<bpmn:exclusiveGateway id="gw"/>', user_task("a"), user_task("b"),
        '<bpmn:endEvent id="e"/>', chain("s", "gw"), flow("to_a", "gw", "a", "x > 1"), flow("to_b", "gw", "b"),
        chain("a", "e"), flow("b_e", "b", "e")])))
    problem = _one(problems, "without a condition")
    assert problem.element_id == "to_b"


def test_every_problem_is_listed_not_only_the_first(engine, db, tmp_path):
    problems = refused(engine, db, tmp_path, process("many", "\n".join([
        '<bpmn:startEvent id="s"/>',
        script_task("js", "x").replace('scriptFormat="python"', 'scriptFormat="javascript"'),
        '<bpmn:serviceTask id="java" camunda:class="a.B"/>',
        '<bpmn:callActivity id="call" calledElement="ghost"/>',
        '<bpmn:endEvent id="e"/>', chain("s", "js", "java", "call", "e")])))
    assert {p.element_id for p in problems} >= {"js", "java", "call"}


def test_activity_with_two_outgoing_flows_is_refused(engine, db, tmp_path):
    problems = refused(engine, db, tmp_path, process("split", "\n".join([
        '<bpmn:startEvent id="s"/>', user_task("a"), '<bpmn:endEvent id="e1"/>', '<bpmn:endEvent id="e2"/>',
        chain("s", "a"), flow("x", "a", "e1"), flow("y", "a", "e2")])))
    assert _one(problems, "2 outgoing flows").element_id == "a"


def test_doctype_and_entities_are_refused_and_never_echoed(engine, db, tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-42")
    xxe = (f'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x SYSTEM "file://{secret}">]>'
           + SIMPLE.split("?>", 1)[1].replace('name="review"', 'name="&x;"'))
    problems = refused(engine, db, tmp_path, xxe)
    assert "DOCTYPE" in problems[0].message
    assert all("TOP-SECRET" not in str(p) for p in problems)


def test_billion_laughs_is_refused(engine, db, tmp_path):
    bomb = ('<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
            + "".join(f'<!ENTITY lol{i} "{"&lol" + str(i - 1) + ";" if i > 1 else "&lol;"}' * 10 + '">'
                      for i in range(1, 9))
            + ']><lolz>&lol8;</lolz>')
    problems = refused(engine, db, tmp_path, bomb)
    assert "DOCTYPE" in problems[0].message


def test_size_cap(engine, db, tmp_path):
    engine.catalog.max_upload_bytes = 1000
    problems = refused(engine, db, tmp_path, SIMPLE + "<!--" + "x" * 2000 + "-->")
    assert "more than the limit of 1,000 bytes" in problems[0].message


def test_malformed_xml_names_the_line(engine, db, tmp_path):
    problems = refused(engine, db, tmp_path, SIMPLE.replace('<bpmn:endEvent id="e"/>', '<bpmn:endEvent id="e">'))
    assert "not well-formed" in problems[0].message
    assert problems[0].line is not None


def test_schema_violation_is_reported_with_line(engine, db, tmp_path):
    problems = refused(engine, db, tmp_path, SIMPLE.replace('<bpmn:endEvent id="e"/>',
                                                             '<bpmn:endEvent id="e"/><bpmn:bogus/>'))
    assert "BPMN 2.0 schema" in problems[0].message
    assert problems[0].line


def test_invalid_form_schema_is_refused(engine, db, tmp_path):
    bundle = tmp_path / "b"
    bundle.mkdir()
    write(bundle, "p.bpmn", SIMPLE)
    (bundle / "forms").mkdir()
    write(bundle / "forms", "review.json", '{"type": "objekt"}')
    with db.transaction() as session, pytest.raises(DeployRefused, match="not a valid JSON Schema"):
        engine.deploy(session, bundle)


def test_dmn_unsupported_hit_policy_and_feel_ranges(engine, db, tmp_path):
    bundle = tmp_path / "dmn"
    bundle.mkdir()
    write(bundle, "p.bpmn", process("p", "\n".join([
        '<bpmn:startEvent id="s"/>', '<bpmn:businessRuleTask id="d" camunda:decisionRef="dec"/>',
        '<bpmn:endEvent id="e"/>', chain("s", "d", "e")])))
    write(bundle, "d.dmn", """<?xml version="1.0"?>
<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/" id="x" name="x" namespace="x">
  <decision id="dec" name="dec"><decisionTable id="t" hitPolicy="RULE ORDER">
    <input id="i"><inputExpression id="ie"><text>amount</text></inputExpression></input>
    <output id="o" name="level"/>
    <rule id="r1"><inputEntry id="e1"><text>[1..10]</text></inputEntry><outputEntry id="o1"><text>1</text></outputEntry></rule>
  </decisionTable></decision>
</definitions>""")
    with db.transaction() as session, pytest.raises(DeployRefused) as info:
        engine.deploy(session, bundle)
    messages = " | ".join(p.message for p in info.value.problems)
    assert "hit policy RULE ORDER" in messages
    assert "[1..10]" in messages
