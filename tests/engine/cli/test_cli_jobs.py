"""The command line of the job system: `worker --once`, `incidents` (list, retry, resolve),
`message send` — output, --json shapes and exit codes (docs/jobs.md)."""

from __future__ import annotations

import json

import pytest

from tests.diagrams import chain, process, user_task, write
from tests.engine.jobs import plugin_fixtures
from tests.engine.jobs.support import service_task

INCIDENT_KEYS = {"id", "application_id", "job_id", "kind", "element_id", "message", "attempts", "status",
                 "created_at", "resolved_at", "resolved_by", "resolution", "traceback"}


def ok(result, code: int = 0):
    assert result.exit_code == code, (result.stdout, result.stderr)
    return result


@pytest.fixture
def jobs_cli(cli, settings, monkeypatch):
    """The CLI with the test plugin loaded (MADOGUCHI_PLUGINS) and retries without delay."""
    plugin_fixtures.install(settings.database_url)
    monkeypatch.setenv("MADOGUCHI_PLUGINS", "tests.engine.jobs.plugin_fixtures")
    monkeypatch.setenv("MADOGUCHI_JOB_BACKOFF_SECONDS", "0")
    monkeypatch.setenv("MADOGUCHI_JOB_MAX_ATTEMPTS", "3")
    yield cli
    plugin_fixtures.uninstall(settings.database_url)


def _deploy_call(cli, tmp_path, operation: str, params: dict | None = None, name: str = "svc") -> None:
    ok(cli("deploy", str(write(tmp_path, f"{name}.bpmn", process(name, "\n".join([
        '<bpmn:startEvent id="s"/>', service_task("call", operation, params), user_task("after", groups="clerks"),
        '<bpmn:endEvent id="e"/>', chain("s", "call", "after", "e")]))))))


def _start(cli, key: str, data: str = "{}") -> dict:
    return json.loads(ok(cli("start", key, "--data", data, "--json")).stdout)


def _show(cli, application_id: int) -> dict:
    return json.loads(ok(cli("show", str(application_id), "--json")).stdout)


def test_worker_once_runs_a_service_call(jobs_cli, tmp_path, settings):
    _deploy_call(jobs_cli, tmp_path, "fixture.record", {"fee": "fee + 1"})
    started = _start(jobs_cli, "svc", '{"fee": 99}')
    assert started["open_tasks"] == []
    assert ok(jobs_cli("worker", "--once")).stdout == "ran 1 job(s)\n"
    shown = _show(jobs_cli, started["id"])
    assert shown["data"]["received"] == {"fee": 100}
    assert [t["element_id"] for t in shown["open_tasks"]] == ["after"]
    assert shown["incidents"] == []
    assert ok(jobs_cli("worker", "--once")).stdout == "ran 0 job(s)\n"
    [call] = plugin_fixtures.recorded_calls(settings.database_url)
    assert call["idempotency_key"].startswith(started["reference"] + "/")


def test_failing_call_retries_then_an_admin_retries_the_incident(jobs_cli, tmp_path, settings):
    """Done means: a failing service task retries, then raises an incident that an admin can
    retry from the command line."""
    _deploy_call(jobs_cli, tmp_path, "fixture.flaky", {"fail_times": "3"})
    started = _start(jobs_cli, "svc")
    assert ok(jobs_cli("worker", "--once")).stdout == "ran 0 job(s)\n"  # 3 attempts, all failed
    [incident] = json.loads(ok(jobs_cli("incidents", "--json")).stdout)
    assert set(incident) == INCIDENT_KEYS
    assert incident | {"application_id": started["id"], "kind": "service", "element_id": "call", "attempts": 3,
                       "status": "open", "resolution": None, "resolved_by": None} == incident
    assert incident["message"] == "ConnectionError: core system unreachable (call 3)"
    assert "Traceback (most recent call last)" in incident["traceback"]
    listed = ok(jobs_cli("incidents")).stdout
    assert f"#{incident['id']}" in listed and "after 3 attempt(s): ConnectionError" in listed
    shown = _show(jobs_cli, started["id"])
    assert [i["id"] for i in shown["incidents"]] == [incident["id"]]
    assert "traceback" not in shown["incidents"][0]

    assert ok(jobs_cli("incidents", "retry", str(incident["id"]), "--as", "admin")).stdout == \
        f"incident {incident['id']}: job queued again\n"
    assert ok(jobs_cli("worker", "--once")).stdout == "ran 1 job(s)\n"
    shown = _show(jobs_cli, started["id"])
    assert shown["data"]["flaky_ok"] is True
    assert [t["element_id"] for t in shown["open_tasks"]] == ["after"]
    assert json.loads(ok(jobs_cli("incidents", "--json")).stdout) == []
    [closed] = json.loads(ok(jobs_cli("incidents", "--all", "--json")).stdout)
    assert (closed["status"], closed["resolution"], closed["resolved_by"]) == ("resolved", "retried", "admin")
    calls = plugin_fixtures.recorded_calls(settings.database_url)
    assert [c["attempt"] for c in calls] == [1, 2, 3, 1]
    assert len({c["idempotency_key"] for c in calls}) == 1


def test_resolve_with_data_completes_the_service_task(jobs_cli, tmp_path):
    _deploy_call(jobs_cli, tmp_path, "fixture.broken")
    started = _start(jobs_cli, "svc")
    ok(jobs_cli("worker", "--once"))
    [incident] = json.loads(ok(jobs_cli("incidents", "--application", str(started["id"]), "--json")).stdout)
    data = tmp_path / "result.json"
    data.write_text('{"registration_no": "R-77", "by_hand": true}')
    assert ok(jobs_cli("incidents", "resolve", str(incident["id"]), "--data", f"@{data}", "--as", "suzuki")).stdout \
        == f"incident {incident['id']}: resolved\n"
    shown = _show(jobs_cli, started["id"])
    assert shown["data"] | {"registration_no": "R-77", "by_hand": True} == shown["data"]
    assert [t["element_id"] for t in shown["open_tasks"]] == ["after"]
    assert shown["incidents"][0] | {"status": "resolved", "resolution": "resolved",
                                    "resolved_by": "suzuki"} == shown["incidents"][0]
    assert ok(jobs_cli("worker", "--once")).stdout == "ran 0 job(s)\n"  # nothing left to run


def test_incident_command_exit_codes(jobs_cli, tmp_path):
    _deploy_call(jobs_cli, tmp_path, "fixture.broken")
    _start(jobs_cli, "svc")
    ok(jobs_cli("worker", "--once"))
    [incident] = json.loads(ok(jobs_cli("incidents", "--json")).stdout)
    number = str(incident["id"])
    assert "does not exist" in ok(jobs_cli("incidents", "retry", "999"), 2).stderr
    assert "not valid JSON" in ok(jobs_cli("incidents", "resolve", number, "--data", "{nope"), 2).stderr
    ok(jobs_cli("incidents", "resolve", number, "--data", "{}"))
    assert "already resolved" in ok(jobs_cli("incidents", "retry", number), 4).stderr
    assert "already resolved" in ok(jobs_cli("incidents", "resolve", number), 4).stderr
    assert ok(jobs_cli("incidents")).stdout == ""


def test_job_settings_come_from_the_environment(jobs_cli, tmp_path, monkeypatch, settings):
    monkeypatch.setenv("MADOGUCHI_JOB_MAX_ATTEMPTS", "2")
    _deploy_call(jobs_cli, tmp_path, "fixture.broken")
    _start(jobs_cli, "svc")
    ok(jobs_cli("worker", "--once"))
    [incident] = json.loads(ok(jobs_cli("incidents", "--json")).stdout)
    assert incident["attempts"] == 2
    assert len(plugin_fixtures.recorded_calls(settings.database_url)) == 2


def test_bad_job_setting_is_bad_input(jobs_cli, monkeypatch):
    monkeypatch.setenv("MADOGUCHI_JOB_LEASE_SECONDS", "soon")
    result = ok(jobs_cli("worker", "--once"), 2)
    assert "MADOGUCHI_JOB_LEASE_SECONDS" in result.stderr


WAITS = process("waits", "\n".join([
    '<bpmn:startEvent id="s"/>',
    '<bpmn:intermediateCatchEvent id="paid"><bpmn:messageEventDefinition messageRef="payment">'
    '<bpmn:extensionElements><spiffworkflow:messageVariable>payment</spiffworkflow:messageVariable>'
    '</bpmn:extensionElements></bpmn:messageEventDefinition></bpmn:intermediateCatchEvent>',
    user_task("deliver", groups="clerks"), '<bpmn:endEvent id="e"/>', chain("s", "paid", "deliver", "e")]),
    extra='<bpmn:message id="payment" name="payment"/>')


def test_message_send_json_and_text(jobs_cli, tmp_path):
    ok(jobs_cli("deploy", str(write(tmp_path, "waits.bpmn", WAITS))))
    started = _start(jobs_cli, "waits")
    reference = started["reference"]

    early = json.loads(ok(jobs_cli("message", "send", "payment", "--key", "nobody-yet", "--json")).stdout)
    assert set(early) == {"status", "message_id", "application_id", "expires_at"}
    assert (early["status"], early["application_id"]) == ("buffered", None)
    assert early["expires_at"] is not None

    delivered = json.loads(ok(jobs_cli("message", "send", "payment", "--key", reference, "--data",
                                       '{"amount": 1200, "bank": "ゆうちょ"}', "--as", "bank", "--json")).stdout)
    assert delivered | {"status": "delivered", "application_id": started["id"], "expires_at": None} == delivered
    shown = _show(jobs_cli, started["id"])
    assert shown["data"]["payment"] == {"amount": 1200, "bank": "ゆうちょ"}
    assert [t["element_id"] for t in shown["open_tasks"]] == ["deliver"]

    text = ok(jobs_cli("message", "send", "payment", "--key", reference)).stdout
    assert text.startswith("message ") and "nobody waits yet; kept until " in text


def test_message_refused_when_buffering_is_off(jobs_cli, tmp_path, monkeypatch):
    monkeypatch.setenv("MADOGUCHI_MESSAGE_BUFFER_SECONDS", "0")
    ok(jobs_cli("deploy", str(write(tmp_path, "waits.bpmn", WAITS))))
    result = ok(jobs_cli("message", "send", "payment", "--key", "R-1", "--json"), 2)
    assert result.stdout == ""
    assert result.stderr == ("error: no application waits for message 'payment' with key 'R-1', and no procedure "
                             "starts with it; check the name and key\n")
    assert "must be a JSON object" in ok(jobs_cli("message", "send", "payment", "--data", "[1]"), 2).stderr


def test_message_send_starts_an_application(jobs_cli, tmp_path):
    ok(jobs_cli("deploy", str(write(tmp_path, "filed.bpmn", process("intake_proc", "\n".join([
        '<bpmn:startEvent id="s"><bpmn:messageEventDefinition messageRef="filed"/></bpmn:startEvent>',
        user_task("intake", groups="clerks"), '<bpmn:endEvent id="e"/>', chain("s", "intake", "e")]),
        extra='<bpmn:message id="filed" name="filed"/>')))))
    result = json.loads(ok(jobs_cli("message", "send", "filed", "--json")).stdout)
    assert result["status"] == "started"
    assert _show(jobs_cli, result["application_id"])["procedure"] == "intake_proc"
    text = ok(jobs_cli("message", "send", "filed")).stdout
    assert text.startswith("message ") and ": started → application " in text


def test_serving_worker_refuses_a_database_without_schema(tmp_path):
    from tests.engine.jobs.processes import run_cli_once

    result = run_cli_once(f"sqlite:///{tmp_path}/empty.db", tmp_path, "worker", timeout=60)
    assert result.returncode == 1
    assert "run `madoguchi db upgrade` first" in result.stderr
