"""The command line contract (docs/cli.md): output, --json shapes and exit codes."""

import json
import time
from pathlib import Path

from tests.diagrams import chain, process, user_task, write

REPO = Path(__file__).resolve().parents[3]
CAMUNDA = process("camunda_style", "\n".join([
    '<bpmn:startEvent id="s"/>', user_task("review", groups="clerks"),
    '<bpmn:exclusiveGateway id="gw" default="no"/>', '<bpmn:endEvent id="yes_end"/>', '<bpmn:endEvent id="no_end"/>',
    chain("s", "review", "gw"),
    '<bpmn:sequenceFlow id="yes" sourceRef="gw" targetRef="yes_end"><bpmn:conditionExpression '
    'xsi:type="bpmn:tFormalExpression">${approved &amp;&amp; fee &gt; 10000 &amp;&amp; !exempt}'
    '</bpmn:conditionExpression></bpmn:sequenceFlow>',
    '<bpmn:sequenceFlow id="no" sourceRef="gw" targetRef="no_end"/>']))


def ok(result, code: int = 0):
    assert result.exit_code == code, (result.stdout, result.stderr)
    return result


def test_quick_flow_with_json(cli, tmp_path):
    ok(cli("users", "add", "clerk", "--group", "clerks"))
    deployed = json.loads(ok(cli("deploy", str(write(tmp_path, "c.bpmn", CAMUNDA)), "--json")).stdout)
    assert deployed["deployed"][0] | {"created": True} == deployed["deployed"][0]
    assert deployed["problems"] == []
    data = tmp_path / "data.json"
    data.write_text(json.dumps({"fee": 20000, "exempt": False}))
    started = json.loads(ok(cli("start", "camunda_style", "--data", f"@{data}", "--as", "resident", "--json")).stdout)
    assert set(started) == {"id", "reference", "status", "open_tasks"}
    assert started["status"] == "in_review"
    tasks = json.loads(ok(cli("tasks", "--user", "clerk", "--json")).stdout)
    assert [t["id"] for t in tasks] == [started["open_tasks"][0]["id"]]
    assert set(tasks[0]) == {"id", "application_id", "reference", "element_id", "name", "candidate_groups",
                             "candidate_users", "assignee", "due_at", "created_at", "status", "kind"}
    task_id = tasks[0]["id"]
    ok(cli("claim", task_id, "--as", "clerk"))
    done = json.loads(ok(cli("complete", task_id, "--as", "clerk", "--data", '{"approved": true}', "--json")).stdout)
    assert done["status"] == "completed"
    shown = json.loads(ok(cli("show", str(started["id"]), "--json")).stdout)
    assert shown["data"]["approved"] is True
    assert shown["history"][0]["action"] == "application_started"
    assert json.loads(ok(cli("definitions", "--json")).stdout)[0]["key"] == "camunda_style"


def test_exit_codes(cli, tmp_path):
    ok(cli("users", "add", "clerk", "--group", "clerks"))
    ok(cli("users", "add", "stranger"))
    ok(cli("deploy", str(write(tmp_path, "c.bpmn", CAMUNDA))))
    started = json.loads(ok(cli("start", "camunda_style", "--data", '{"fee": 1}', "--json")).stdout)
    task_id = started["open_tasks"][0]["id"]
    assert "not valid JSON" in ok(cli("start", "camunda_style", "--data", "{nope"), 2).stderr
    assert ok(cli("start", "no-such-key"), 2).stderr.startswith("error:")
    assert "neither the assignee nor a candidate" in ok(cli("complete", task_id, "--as", "stranger"), 3).stderr
    ok(cli("complete", task_id, "--as", "clerk", "--data", '{"approved": false}'))
    assert "already completed" in ok(cli("complete", task_id, "--as", "clerk"), 4).stderr


def test_deploy_refusal_lists_problems_and_exits_2(cli, tmp_path):
    bad = CAMUNDA.replace('user_task', '').replace('<bpmn:endEvent id="no_end"/>',
                                                   '<bpmn:endEvent id="no_end"/><bpmn:serviceTask id="java" '
                                                   'camunda:class="a.B"/>')
    result = ok(cli("deploy", str(write(tmp_path, "bad.bpmn", bad))), 2)
    lines = result.stderr.strip().splitlines()
    assert any(line.startswith("bad.bpmn:") and ": java: camunda:class" in line and " — " in line for line in lines)
    assert lines[-1].startswith("deploy refused")


def test_worker_once_fires_due_timers(cli, tmp_path):
    timer = process("timed", "\n".join([
        '<bpmn:startEvent id="s"/>', '<bpmn:intermediateCatchEvent id="wait"><bpmn:timerEventDefinition>'
        '<bpmn:timeDuration>PT0.2S</bpmn:timeDuration></bpmn:timerEventDefinition></bpmn:intermediateCatchEvent>',
        '<bpmn:endEvent id="e"/>', chain("s", "wait", "e")]))
    ok(cli("deploy", str(write(tmp_path, "t.bpmn", timer))))
    started = json.loads(ok(cli("start", "timed", "--json")).stdout)
    assert started["status"] == "received"
    time.sleep(0.3)
    assert "ran 1 job(s)" in ok(cli("worker", "--once")).stdout
    assert json.loads(ok(cli("show", str(started["id"]), "--json")).stdout)["status"] == "completed"


def test_users_add_with_password_from_stdin(cli, engine, db):
    from sqlalchemy import select

    from engine.identity import check_password
    from engine.store.models import User

    ok(cli("users", "add", "sato", "--group", "a", "--group", "b", "--password-stdin", input="s3cret!\n"))
    listed = json.loads(ok(cli("users", "list", "--json")).stdout)
    assert listed == [{"name": "sato", "display_name": None, "groups": ["a", "b"]}]
    with db.transaction() as session:
        user = session.scalars(select(User).where(User.name == "sato")).one()
        assert check_password(user.password_hash, "s3cret!")
        assert not check_password(user.password_hash, "wrong")


def test_demo_walks_the_sample_end_to_end(cli):
    result = ok(cli("demo", "--workflows", str(REPO / "workflows")))
    assert "application is now completed" in result.stdout
    assert "audit trail intact" in result.stdout


def test_samples_deploy(cli):
    deployed = json.loads(ok(cli("deploy", str(REPO / "workflows"), "--json")).stdout)
    assert {d["key"] for d in deployed["deployed"]} >= {"dog-registration"}


def test_users_add_without_groups_keeps_them(cli):
    ok(cli("users", "add", "sato", "--group", "a"))
    ok(cli("users", "add", "sato", "--password-stdin", input="pw\n"))
    assert json.loads(ok(cli("users", "list", "--json")).stdout)[0]["groups"] == ["a"]


def test_database_without_schema_gets_a_clear_message(monkeypatch, tmp_path):
    from click.testing import CliRunner

    from engine.cli import main

    monkeypatch.setenv("MADOGUCHI_DATABASE_URL", f"sqlite:///{tmp_path}/empty.db")
    result = CliRunner().invoke(main, ["definitions"])
    assert result.exit_code == 1
    assert "madoguchi db upgrade" in result.stderr


def test_bad_setting_is_bad_input(monkeypatch, tmp_path):
    from click.testing import CliRunner

    from engine.cli import main

    monkeypatch.setenv("MADOGUCHI_DATABASE_URL", f"sqlite:///{tmp_path}/x.db")
    monkeypatch.setenv("MADOGUCHI_MAX_UPLOAD_BYTES", "lots")
    result = CliRunner().invoke(main, ["definitions"])
    assert result.exit_code == 2
    assert "MADOGUCHI_MAX_UPLOAD_BYTES" in result.stderr


def test_worker_goes_on_when_one_application_fails(cli, tmp_path, monkeypatch):
    monkeypatch.setenv("MADOGUCHI_JOB_MAX_ATTEMPTS", "1")
    timer = process("fragile", "\n".join([
        '<bpmn:startEvent id="s"/>', '<bpmn:intermediateCatchEvent id="wait"><bpmn:timerEventDefinition>'
        '<bpmn:timeDuration>PT0.1S</bpmn:timeDuration></bpmn:timerEventDefinition></bpmn:intermediateCatchEvent>',
        '<bpmn:scriptTask id="divide" scriptFormat="python"><bpmn:script>x = 1 / d</bpmn:script></bpmn:scriptTask>',
        '<bpmn:endEvent id="e"/>', chain("s", "wait", "divide", "e")]))
    ok(cli("deploy", str(write(tmp_path, "t.bpmn", timer))))
    broken = json.loads(ok(cli("start", "fragile", "--data", '{"d": 0}', "--json")).stdout)
    fine = json.loads(ok(cli("start", "fragile", "--data", '{"d": 2}', "--json")).stdout)
    time.sleep(0.2)
    assert "ran 1 job(s)" in ok(cli("worker", "--once")).stdout
    [incident] = json.loads(ok(cli("incidents", "--json")).stdout)
    assert (incident["application_id"], incident["kind"]) == (broken["id"], "timer")
    assert "division by zero" in incident["message"]
    assert json.loads(ok(cli("show", str(fine["id"]), "--json")).stdout)["status"] == "completed"
    assert json.loads(ok(cli("show", str(broken["id"]), "--json")).stdout)["status"] == "received"
