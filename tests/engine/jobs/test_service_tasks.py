"""Service tasks: the call happens in a job, never inside the approver's request.

Parameters are evaluated in the sandbox when the task is reached, the result goes into the
task data, every call of one task carries the same idempotency key, and a diagram naming an
operation nobody provides is refused at deploy time.
"""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import select

from engine.errors import DeployRefused
from engine.store.models import AuditEvent, Job, utcnow
from tests.diagrams import chain, process, user_task, write
from tests.engine.helpers import complete, deploy_text, open_tasks, show, start
from tests.engine.jobs.support import (
    camunda_external_task,
    drain,
    job_rows,
    service_task,
    task_states,
    timer_boundary,
    wait_for,
)

REVIEW_THEN_CALL = process("review_then_call", "\n".join([
    '<bpmn:startEvent id="s"/>', user_task("review"),
    service_task("register", "fixture.record", {"amount": "fee * 2", "name": "applicant['name'].upper()",
                                                "items": "[i for i in range(count)]"}),
    user_task("after"), '<bpmn:endEvent id="e"/>',
    chain("s", "review", "register", "after", "e")]))


def test_complete_returns_before_the_operation_runs(engine, db, tmp_path, plugin, clerk, database_url):
    deploy_text(engine, db, tmp_path, REVIEW_THEN_CALL)
    app = start(engine, db, "review_then_call", {"fee": 1500, "applicant": {"name": "sato"}, "count": 3}).application
    [review] = open_tasks(engine, db, app.id)

    step = complete(engine, db, review.id, clerk, {"approved": True})

    # The approver's step ended at the service task: parked, with a pending job, nothing called.
    assert step.opened_tasks == []
    assert task_states(engine, db, app.id)["register"] == "STARTED"
    [job] = job_rows(db)
    assert (job.kind, job.status, job.attempts, job.application_id) == ("service", "pending", 0, app.id)
    assert job.payload == {"element_id": "register", "operation": "fixture.record", "reference": app.reference,
                           "params": {"amount": 3000, "items": [0, 1, 2], "name": "SATO"}}
    assert plugin.recorded_calls(database_url) == []

    assert drain(engine, db) == 1

    [call] = plugin.recorded_calls(database_url)
    assert call["params"] == {"amount": 3000, "name": "SATO", "items": [0, 1, 2]}
    assert (call["attempt"], call["application_id"], call["element_id"]) == (1, app.id, "register")
    assert call["reference"] == app.reference
    assert call["idempotency_key"] == job.idempotency_key == f"{app.reference}/{job.task_id}"
    view = show(engine, db, app.id)
    # A dict result is merged into the task data.
    assert view["data"]["received"] == {"amount": 3000, "name": "SATO", "items": [0, 1, 2]}
    assert view["data"]["attempt"] == 1
    assert [t["element_id"] for t in view["open_tasks"]] == ["after"]
    assert "service_task_completed" in [e["action"] for e in view["history"]]
    assert job_rows(db) == []


def test_result_variable_keeps_the_whole_result(engine, db, tmp_path, plugin):
    deploy_text(engine, db, tmp_path, process("result_var", "\n".join([
        '<bpmn:startEvent id="s"/>',
        service_task("lookup", "fixture.record", {"code": "'13101'"}, result_variable="lookup_result"),
        user_task("after"), '<bpmn:endEvent id="e"/>', chain("s", "lookup", "after", "e")])))
    app = start(engine, db, "result_var").application
    assert open_tasks(engine, db, app.id) == []  # even the first step never calls the operation
    drain(engine, db)
    data = show(engine, db, app.id)["data"]
    assert data["lookup_result"] == {"received": {"code": "13101"}, "attempt": 1}
    assert "received" not in data


def test_camunda_external_task_receives_the_task_data(engine, db, tmp_path, plugin, database_url):
    deploy_text(engine, db, tmp_path, process("external", "\n".join([
        '<bpmn:startEvent id="s"/>', camunda_external_task("notify", "fixture.record"),
        user_task("after"), '<bpmn:endEvent id="e"/>', chain("s", "notify", "after", "e")])))
    app = start(engine, db, "external", {"email": "sato@example.jp", "fee": 300}).application
    drain(engine, db)
    [call] = plugin.recorded_calls(database_url)
    assert call["params"] == {"email": "sato@example.jp", "fee": 300}
    assert show(engine, db, app.id)["data"]["received"] == {"email": "sato@example.jp", "fee": 300}


def test_idempotency_key_is_the_same_on_every_retry(engine, db, tmp_path, plugin, database_url):
    deploy_text(engine, db, tmp_path, process("flaky_call", "\n".join([
        '<bpmn:startEvent id="s"/>',
        service_task("pay", "fixture.flaky", {"fail_times": "2"}, retry=(3, 0)),
        '<bpmn:endEvent id="e"/>', chain("s", "pay", "e")])))
    app = start(engine, db, "flaky_call").application
    drain(engine, db)

    made = plugin.recorded_calls(database_url, "fixture.flaky")
    assert [c["attempt"] for c in made] == [1, 2, 3]
    assert len({c["idempotency_key"] for c in made}) == 1
    assert made[0]["idempotency_key"].startswith(f"{app.reference}/")
    view = show(engine, db, app.id)
    assert view["status"] == "completed"
    assert view["data"]["flaky_ok"] is True
    with db.transaction() as session:
        assert engine.incidents(session) == []


def test_same_task_in_two_applications_gets_two_keys(engine, db, tmp_path, plugin, database_url):
    deploy_text(engine, db, tmp_path, process("two_apps", "\n".join([
        '<bpmn:startEvent id="s"/>', service_task("call", "fixture.record"), '<bpmn:endEvent id="e"/>',
        chain("s", "call", "e")])))
    first, second = start(engine, db, "two_apps").application, start(engine, db, "two_apps").application
    drain(engine, db)
    keys = {c["application_id"]: c["idempotency_key"] for c in plugin.recorded_calls(database_url)}
    assert set(keys) == {first.id, second.id}
    assert keys[first.id] != keys[second.id]


@pytest.mark.parametrize("task", [
    service_task("call", "nobody.provides_this"),
    camunda_external_task("call", "nobody.provides_this"),
], ids=["spiff", "camunda"])
def test_unregistered_operation_is_refused_at_deploy(engine, db, tmp_path, task):
    path = write(tmp_path, "unknown.bpmn", process("unknown_op", "\n".join([
        '<bpmn:startEvent id="s"/>', task, '<bpmn:endEvent id="e"/>', chain("s", "call", "e")])))
    with db.transaction() as session, pytest.raises(DeployRefused) as refused:
        engine.deploy(session, path)
    [problem] = refused.value.problems
    assert problem.element_id == "call"
    assert "no installed plugin provides the operation 'nobody.provides_this'" in problem.message
    with db.transaction() as session:
        assert engine.definitions(session) == []


def test_operation_of_a_plugin_not_loaded_is_refused(settings, db, tmp_path):
    from engine.facade import Engine

    without_plugin = Engine(settings)  # the fixture plugin is not loaded here
    path = write(tmp_path, "p.bpmn", process("needs_plugin", "\n".join([
        '<bpmn:startEvent id="s"/>', service_task("call", "fixture.record"), '<bpmn:endEvent id="e"/>',
        chain("s", "call", "e")])))
    with db.transaction() as session, pytest.raises(DeployRefused):
        without_plugin.deploy(session, path)


TIMED_CALL = process("timed_call", "\n".join([
    '<bpmn:startEvent id="s"/>',
    service_task("slow_call", "fixture.slow", {"seconds": "seconds"}),
    timer_boundary("too_slow", "slow_call", "PT0.3S"),
    user_task("after"), user_task("escalate"), '<bpmn:endEvent id="e1"/>', '<bpmn:endEvent id="e2"/>',
    chain("s", "slow_call", "after", "e1"), chain("too_slow", "escalate", "e2")]))


def test_interrupting_timer_cancels_a_running_call_and_drops_its_late_result(engine, db, tmp_path, plugin,
                                                                             database_url):
    deploy_text(engine, db, tmp_path, TIMED_CALL)
    app = start(engine, db, "timed_call", {"seconds": 2.0}).application
    service_job = job_rows(db, kind="service")[0]

    # Worker A claims the service job and is inside the slow operation ...
    slow_worker = engine.worker(db, name="worker-a")
    thread = threading.Thread(target=slow_worker.run_once)
    thread.start()
    wait_for(lambda: plugin.recorded_calls(database_url, "fixture.slow"), what="the slow call to start")
    # ... while worker B fires the due timer, which cancels the service task.
    timer_worker = engine.worker(db, name="worker-b")
    wait_for(lambda: timer_worker.run_once() >= 1, what="the timer to fire")
    assert [t.element_id for t in open_tasks(engine, db, app.id)] == ["escalate"]
    assert [j.id for j in job_rows(db)] == [service_job.id]  # still leased by A

    thread.join(timeout=30)
    assert not thread.is_alive()

    view = show(engine, db, app.id)
    assert "slow_result" not in view["data"]  # the late result was dropped
    assert [t["element_id"] for t in view["open_tasks"]] == ["escalate"]
    assert "service_task_completed" not in [e["action"] for e in view["history"]]
    assert job_rows(db) == []
    with db.transaction() as session:
        assert engine.incidents(session) == []
    assert len(plugin.recorded_calls(database_url, "fixture.slow")) == 1


def test_call_cancelled_before_its_job_runs_is_never_made(engine, db, tmp_path, plugin, database_url):
    deploy_text(engine, db, tmp_path, TIMED_CALL)
    app = start(engine, db, "timed_call", {"seconds": 0}).application
    # Every worker is busy until the timer is due: hold the service job back meanwhile.
    [service_job] = job_rows(db, kind="service")
    with db.transaction() as session:
        session.get(Job, service_job.id).due_at = utcnow() + timedelta(hours=1)
    wait_for(lambda: engine.worker(db).run_once() >= 1, what="the timer to fire")
    assert [t.element_id for t in open_tasks(engine, db, app.id)] == ["escalate"]

    assert job_rows(db, kind="service") == []  # the step that cancelled the task removed its job
    drain(engine, db)
    assert plugin.recorded_calls(database_url) == []  # the cancelled call was never made
    assert job_rows(db) == []
    with db.transaction() as session:
        assert engine.incidents(session) == []


def test_service_call_result_is_audited_with_the_worker_as_actor(engine, db, tmp_path, plugin):
    deploy_text(engine, db, tmp_path, process("audited", "\n".join([
        '<bpmn:startEvent id="s"/>', service_task("call", "fixture.record", {"x": "1"}), '<bpmn:endEvent id="e"/>',
        chain("s", "call", "e")])))
    app = start(engine, db, "audited").application
    drain(engine, db)
    with db.transaction() as session:
        event = session.scalars(select(AuditEvent).where(AuditEvent.application_id == app.id,
                                                         AuditEvent.action == "service_task_completed")).one()
        assert event.actor == "system:worker"
        assert event.details == {"element_id": "call", "operation": "fixture.record"}
        assert engine.verify_audit(session) == []
