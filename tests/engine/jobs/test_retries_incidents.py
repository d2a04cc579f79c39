"""Retries with exponential backoff and jitter, the per-task policy in both dialects, and
incidents when retries run out — shown on the application, retried or resolved by an admin."""

from __future__ import annotations

import random
import statistics
from datetime import timedelta

import pytest

from engine.errors import Conflict, NotFound
from engine.jobs.backoff import MAX_DELAY_S, retry_delay
from engine.store.models import Job, utcnow
from tests.diagrams import chain, process, user_task
from tests.engine.helpers import deploy_text, show, start
from tests.engine.jobs.support import camunda_external_task, drain, job_rows, make_due, service_task

# -- the backoff function ------------------------------------------------------------------------


def test_backoff_stays_within_half_and_full_exponential_delay():
    rng = random.Random(20240401)
    for attempt in range(1, 12):
        full = min(MAX_DELAY_S, 10.0 * 2 ** (attempt - 1))
        for _ in range(200):
            delay = retry_delay(attempt, 10.0, rng)
            assert full / 2 <= delay <= full


def test_backoff_doubles_per_attempt_and_is_capped():
    rng = random.Random(7)
    means = [statistics.mean(retry_delay(attempt, 1.0, rng) for _ in range(2000)) for attempt in range(1, 8)]
    for earlier, later in zip(means, means[1:], strict=False):
        assert 1.8 < later / earlier < 2.2
    capped = [retry_delay(40, 10.0, rng) for _ in range(100)]
    assert max(capped) <= MAX_DELAY_S
    assert min(capped) >= MAX_DELAY_S / 2


def test_backoff_base_above_the_cap_is_honoured():
    rng = random.Random(11)
    six_hours = 6 * 3600.0
    for attempt in (1, 2, 5):
        delay = retry_delay(attempt, six_hours, rng)
        assert six_hours / 2 <= delay <= six_hours  # never sooner than the diagram asked for


def test_backoff_jitter_spreads_jobs_that_failed_together():
    rng = random.Random(1)
    delays = [retry_delay(3, 10.0, rng) for _ in range(1000)]  # 1000 jobs, same attempt, same base
    assert len({round(d, 3) for d in delays}) > 900  # hardly any two retry at the same instant
    # spread over the whole [20, 40] window: every 2-second slice gets some of them
    slices = {int((d - 20) // 2) for d in delays}
    assert slices == set(range(10))


def test_backoff_is_reproducible_with_a_seed_and_zero_base_means_now():
    assert [retry_delay(a, 5.0, random.Random(3)) for a in (1, 2, 3)] == \
           [retry_delay(a, 5.0, random.Random(3)) for a in (1, 2, 3)]
    assert retry_delay(5, 0.0, random.Random(3)) == 0.0
    assert 5.0 / 2 <= retry_delay(0, 5.0, random.Random(3)) <= 5.0  # attempt 0 behaves like attempt 1


# -- the policy of a task -------------------------------------------------------------------------

def _one_call(task_xml: str, pid: str) -> str:
    return process(pid, "\n".join(['<bpmn:startEvent id="s"/>', task_xml, user_task("after"),
                                   '<bpmn:endEvent id="e"/>', chain("s", "call", "after", "e")]))


@pytest.mark.parametrize(("task_xml", "max_attempts", "backoff"), [
    (service_task("call", "fixture.broken", retry=(2, 7)), 3, 7.0),
    (service_task("call", "fixture.broken", properties={"retries": "4", "retryBackoff": "PT1M"}), 5, 60.0),
    (service_task("call", "fixture.broken", properties={"retries": "0", "retryBackoff": "2.5"}), 1, 2.5),
    (camunda_external_task("call", "fixture.broken", retry_cycle="R2/PT1S"), 3, 1.0),
    (camunda_external_task("call", "fixture.broken", properties={"retries": "6", "retryBackoff": "PT5M"}), 7, 300.0),
    (service_task("call", "fixture.broken"), 3, 0.05),  # the default: Settings (see conftest)
], ids=["spiff-retry", "spiff-properties", "seconds-no-retry", "camunda-cycle", "camunda-properties", "default"])
def test_retry_policy_comes_from_the_diagram_or_the_settings(engine, db, tmp_path, task_xml, max_attempts, backoff):
    deploy_text(engine, db, tmp_path, _one_call(task_xml, "policy"))
    start(engine, db, "policy")
    [job] = job_rows(db)
    assert (job.max_attempts, job.backoff_seconds) == (max_attempts, backoff)


def test_failed_attempt_waits_for_its_backoff(engine, db, tmp_path, plugin, database_url):
    deploy_text(engine, db, tmp_path, _one_call(
        service_task("call", "fixture.broken", properties={"retries": "3", "retryBackoff": "PT10M"}), "patient"))
    start(engine, db, "patient")
    before = utcnow()
    assert engine.worker(db).run_once() == 0
    [job] = job_rows(db)
    assert (job.status, job.attempts, job.lease_owner) == ("pending", 1, None)
    assert job.last_error == "RuntimeError: core system rejected the request: account 42 is locked"
    # first retry: between half and all of the base delay (jitter), never sooner
    assert before + timedelta(minutes=5) <= job.due_at <= utcnow() + timedelta(minutes=10)
    assert engine.worker(db).run_once() == 0  # not due: nothing runs
    assert len(plugin.recorded_calls(database_url)) == 1

    make_due(db)
    engine.worker(db).run_once()
    [job] = job_rows(db)
    assert job.attempts == 2
    # second retry: between 10 and 20 minutes (the delay doubled)
    assert utcnow() + timedelta(minutes=9, seconds=59) <= job.due_at <= utcnow() + timedelta(minutes=20)


def test_exhausted_retries_raise_an_incident_the_application_shows(engine, db, tmp_path, plugin, database_url):
    deploy_text(engine, db, tmp_path, _one_call(service_task("call", "fixture.broken", retry=(2, 0)), "doomed"))
    app = start(engine, db, "doomed").application
    drain(engine, db)

    assert [c["attempt"] for c in plugin.recorded_calls(database_url)] == [1, 2, 3]
    [job] = job_rows(db)
    assert (job.status, job.attempts) == ("failed", 3)
    with db.transaction() as session:
        [incident] = engine.incidents(session)
        assert (incident.application_id, incident.job_id, incident.kind) == (app.id, job.id, "service")
        assert incident.element_id == "call"
        assert incident.attempts == 3
        assert incident.message == "RuntimeError: core system rejected the request: account 42 is locked"
        assert "Traceback (most recent call last)" in incident.traceback
        assert "plugin_fixtures.py" in incident.traceback and "def broken" not in incident.message
        assert incident.status == "open"
        assert engine.incidents(session, application_id=app.id + 100) == []
        assert engine.verify_audit(session) == []

    view = show(engine, db, app.id)
    [shown] = view["incidents"]
    assert shown | {"id": incident.id, "status": "open", "kind": "service", "element_id": "call", "attempts": 3,
                    "resolution": None} == shown
    assert "account 42 is locked" in shown["message"]
    assert "incident_raised" in [e["action"] for e in view["history"]]
    assert view["status"] != "completed"
    # the failed job is kept for a retry and is not claimed again by itself
    assert engine.worker(db).run_once() == 0


def test_retrying_an_incident_runs_the_job_again_with_fresh_attempts(engine, db, tmp_path, plugin, database_url):
    deploy_text(engine, db, tmp_path, _one_call(
        service_task("call", "fixture.flaky", {"fail_times": "2"}, retry=(1, 0)), "recovers"))
    app = start(engine, db, "recovers").application
    drain(engine, db)
    with db.transaction() as session:
        [incident] = engine.incidents(session)
        assert incident.attempts == 2

    with db.transaction() as session:
        engine.retry_incident(session, incident.id, actor="admin")
    [job] = job_rows(db)
    assert (job.status, job.attempts, job.lease_owner) == ("pending", 0, None)
    drain(engine, db)

    calls = plugin.recorded_calls(database_url)
    assert [c["attempt"] for c in calls] == [1, 2, 1]
    assert len({c["idempotency_key"] for c in calls}) == 1  # a retried incident keeps the key
    view = show(engine, db, app.id)
    assert view["data"]["flaky_ok"] is True
    assert [t["element_id"] for t in view["open_tasks"]] == ["after"]
    assert view["incidents"][0] | {"status": "resolved", "resolution": "retried", "resolved_by": "admin"} \
        == view["incidents"][0]
    assert "incident_retried" in [e["action"] for e in view["history"]]
    assert job_rows(db) == []
    with db.transaction() as session:
        assert engine.incidents(session) == []
        assert len(engine.incidents(session, status=None)) == 1


def test_an_incident_retried_while_still_failing_raises_a_new_incident(engine, db, tmp_path, plugin):
    deploy_text(engine, db, tmp_path, _one_call(service_task("call", "fixture.broken", retry=(0, 0)), "stubborn"))
    start(engine, db, "stubborn")
    drain(engine, db)
    with db.transaction() as session:
        [first] = engine.incidents(session)
        engine.retry_incident(session, first.id, actor="admin")
    drain(engine, db)
    with db.transaction() as session:
        [second] = engine.incidents(session)
        assert second.id != first.id
        assert second.job_id == first.job_id
        assert second.attempts == 1


def test_resolving_an_incident_completes_the_service_task_with_given_data(engine, db, tmp_path, plugin,
                                                                         database_url):
    deploy_text(engine, db, tmp_path, _one_call(service_task("call", "fixture.broken", retry=(0, 0)), "by_hand"))
    app = start(engine, db, "by_hand").application
    drain(engine, db)
    with db.transaction() as session:
        [incident] = engine.incidents(session)
    with db.transaction() as session:
        engine.resolve_incident(session, incident.id, actor="admin", data={"registered_by_hand": "2026-0042"})

    view = show(engine, db, app.id)
    assert view["data"]["registered_by_hand"] == "2026-0042"
    assert [t["element_id"] for t in view["open_tasks"]] == ["after"]
    assert view["incidents"][0]["resolution"] == "resolved"
    completed = [e for e in view["history"] if e["action"] == "service_task_completed"]
    assert [e["actor"] for e in completed] == ["admin"]
    assert job_rows(db) == []
    assert len(plugin.recorded_calls(database_url)) == 1  # resolving never calls the operation


def test_incident_cannot_be_closed_twice(engine, db, tmp_path, plugin):
    deploy_text(engine, db, tmp_path, _one_call(service_task("call", "fixture.broken", retry=(0, 0)), "twice"))
    start(engine, db, "twice")
    drain(engine, db)
    with db.transaction() as session:
        [incident] = engine.incidents(session)
        engine.resolve_incident(session, incident.id, actor="admin", data={})
    with db.transaction() as session, pytest.raises(Conflict, match="already resolved by admin"):
        engine.retry_incident(session, incident.id, actor="other")
    with db.transaction() as session, pytest.raises(Conflict):
        engine.resolve_incident(session, incident.id, actor="other")
    with db.transaction() as session, pytest.raises(NotFound):
        engine.retry_incident(session, 9999, actor="admin")


# -- plugin jobs -----------------------------------------------------------------------------------

def test_plugin_job_retries_then_succeeds(engine, db, plugin, database_url):
    with db.transaction() as session:
        job = engine.enqueue_job(session, "fixture.effect", {"fail_times": 2})
    key = job.idempotency_key
    assert key == f"job-{job.id}"
    drain(engine, db)
    assert [(c["attempt"], c["idempotency_key"]) for c in plugin.recorded_calls(database_url)] == \
        [(1, key), (2, key), (3, key)]
    assert [e["key"] for e in plugin.effects(database_url)] == [key]
    assert job_rows(db) == []


def test_plugin_job_incident_and_retry(engine, db, plugin, database_url):
    with db.transaction() as session:
        job = engine.enqueue_job(session, "fixture.effect", {"fail_times": 3}, max_attempts=2)
    drain(engine, db)
    with db.transaction() as session:
        [incident] = engine.incidents(session)
        assert (incident.kind, incident.application_id, incident.job_id, incident.attempts) == \
            ("fixture.effect", None, job.id, 2)
        assert incident.message == "RuntimeError: effect failed on attempt 2"
        engine.retry_incident(session, incident.id)
    drain(engine, db)  # attempts 1 (fails: fail_times counts attempts) and 2 ... all fail again
    with db.transaction() as session:
        [again] = engine.incidents(session)
        engine.resolve_incident(session, again.id, actor="admin")
    assert job_rows(db) == []  # resolving a plugin job drops it
    assert plugin.effects(database_url) == []


def test_job_of_a_kind_nobody_handles_becomes_an_incident(engine, db):
    with db.transaction() as session:
        engine.enqueue_job(session, "nobody.handles", {"x": 1}, max_attempts=1)
    drain(engine, db)
    with db.transaction() as session:
        [incident] = engine.incidents(session)
        assert incident.message == "LookupError: no installed plugin handles jobs of kind 'nobody.handles'"


def test_default_policy_applies_to_plugin_jobs(engine, db, settings):
    with db.transaction() as session:
        job = engine.enqueue_job(session, "fixture.effect", {})
    assert (job.max_attempts, job.backoff_seconds) == (settings.job_max_attempts, settings.job_backoff_seconds)


def test_due_at_in_the_future_is_not_run_early(engine, db, plugin, database_url):
    with db.transaction() as session:
        engine.enqueue_job(session, "fixture.effect", {}, due_at=utcnow() + timedelta(hours=1))
    assert engine.worker(db).run_once() == 0
    assert plugin.recorded_calls(database_url) == []


# -- jobs whose worker died -------------------------------------------------------------------------

def _left_by_a_dead_worker(db, job_id: int, attempts: int) -> None:
    """What a worker killed mid-job leaves behind: a running job with an expired lease."""
    with db.transaction() as session:
        job = session.get(Job, job_id)
        job.status, job.lease_owner, job.attempts = "running", "host:4242:dead", attempts
        job.lease_expires_at = utcnow() - timedelta(seconds=1)


def test_job_of_a_dead_worker_is_taken_over_as_its_next_attempt(engine, db, plugin, database_url):
    with db.transaction() as session:
        job = engine.enqueue_job(session, "fixture.effect", {}, max_attempts=3)
    _left_by_a_dead_worker(db, job.id, attempts=1)
    assert engine.worker(db).run_once() == 1
    assert [c["attempt"] for c in plugin.recorded_calls(database_url)] == [2]
    assert job_rows(db) == []


def test_job_that_killed_its_worker_on_every_attempt_becomes_an_incident(engine, db, plugin, database_url):
    with db.transaction() as session:
        job = engine.enqueue_job(session, "fixture.effect", {}, max_attempts=2)
    _left_by_a_dead_worker(db, job.id, attempts=2)
    assert engine.worker(db).run_once() == 0
    assert plugin.recorded_calls(database_url) == []  # not run a third time
    [failed] = job_rows(db)
    assert (failed.status, failed.lease_owner) == ("failed", None)
    with db.transaction() as session:
        [incident] = engine.incidents(session)
        assert incident.job_id == job.id and incident.attempts == 2
        assert incident.message.startswith("WorkerLost: the worker running attempt 2 (host:4242:dead) stopped")
        engine.retry_incident(session, incident.id, actor="admin")
    assert engine.worker(db).run_once() == 1  # after the fix, an admin's retry runs it


def test_failed_timer_step_can_be_retried_but_not_resolved(engine, db, tmp_path):
    from tests.diagrams import script_task

    deploy_text(engine, db, tmp_path, process("fragile_timer", "\n".join([
        '<bpmn:startEvent id="s"/>', '<bpmn:intermediateCatchEvent id="wait"><bpmn:timerEventDefinition>'
        '<bpmn:timeDuration>PT0.1S</bpmn:timeDuration></bpmn:timerEventDefinition></bpmn:intermediateCatchEvent>',
        script_task("divide", "x = 1 / d"), user_task("after"), '<bpmn:endEvent id="e"/>',
        chain("s", "wait", "divide", "after", "e")])))
    app = start(engine, db, "fragile_timer", {"d": 0}).application
    drain(engine, db)
    with db.transaction() as session:
        [incident] = engine.incidents(session)
        assert incident.kind == "timer" and "division by zero" in incident.message
    with db.transaction() as session, pytest.raises(Conflict, match="fix the cause and retry it"):
        engine.resolve_incident(session, incident.id, actor="admin")
    assert [j.status for j in job_rows(db)] == ["failed"]  # nothing was dropped
    with db.transaction() as session:
        engine.retry_incident(session, incident.id, actor="admin")
    drain(engine, db)  # still failing: a new incident, the application still waits for its timer
    with db.transaction() as session:
        assert len(engine.incidents(session)) == 1
    assert show(engine, db, app.id)["status"] != "completed"
