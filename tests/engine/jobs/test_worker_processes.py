"""Real worker processes and real signals: SIGTERM finishes the running job and gives the
rest back; SIGKILL loses nothing — the lease expires and another worker runs the job again,
and an operation that honours the idempotency key acts only once."""

from __future__ import annotations

import signal
import time

from sqlalchemy import select

from engine.store.models import AuditEvent
from tests.diagrams import chain, process
from tests.engine.helpers import deploy_text, show, start
from tests.engine.jobs.processes import WorkerProcess
from tests.engine.jobs.support import job_rows, service_task, wait_for


def _enqueue(engine, db, count: int, payload: dict) -> list[str]:
    with db.transaction() as session:
        return [engine.enqueue_job(session, "fixture.effect", dict(payload)).idempotency_key for _ in range(count)]


def test_sigterm_finishes_the_running_job_and_gives_back_the_rest(engine, db, plugin, database_url, tmp_path):
    keys = _enqueue(engine, db, 3, {"sleep": 1.5, "when": "before"})
    worker = WorkerProcess(database_url, tmp_path, "term")
    worker.wait_until_running()
    wait_for(lambda: plugin.recorded_calls(database_url), timeout=60, what="the first job to start")
    assert [j.status for j in job_rows(db)] == ["running"] * 3  # one batch, claimed together

    sent = time.monotonic()
    worker.signal(signal.SIGTERM)
    assert worker.wait(timeout=60) == 0
    print(f"\nSIGTERM → exit in {time.monotonic() - sent:.2f} s (the running job had up to 1.5 s left)")

    assert "SIGTERM, finishing running jobs" in worker.log
    assert "stopped after 1 job(s)" in worker.log
    [done] = plugin.effects(database_url)
    assert done["key"] == keys[0]  # the running job was finished, not abandoned
    rest = job_rows(db)
    assert [j.idempotency_key for j in rest] == keys[1:]
    # given back unrun: claimable at once by anyone, the attempt not counted
    assert {(j.status, j.attempts, j.lease_owner, j.lease_expires_at) for j in rest} == {("pending", 0, None, None)}

    assert engine.worker(db).run_once() == 2
    assert sorted(e["key"] for e in plugin.effects(database_url)) == sorted(keys)
    assert job_rows(db) == []


def test_sigterm_stops_an_idle_worker(database_url, tmp_path, plugin):
    worker = WorkerProcess(database_url, tmp_path, "idle")
    worker.wait_until_running()
    sent = time.monotonic()
    assert worker.stop(timeout=30) == 0
    print(f"\nidle worker: SIGTERM → exit in {time.monotonic() - sent:.2f} s")
    assert "stopped after 0 job(s)" in worker.log


def test_sigkill_mid_job_loses_nothing(engine, db, plugin, database_url, tmp_path):
    """Killed before the job's effect: the job runs again elsewhere, and its effect happens once."""
    [key] = _enqueue(engine, db, 1, {"sleep": 60, "when": "before"})
    first = WorkerProcess(database_url, tmp_path, "A", env={"MADOGUCHI_JOB_LEASE_SECONDS": "1"})
    first.wait_until_running()
    wait_for(lambda: plugin.recorded_calls(database_url), timeout=60, what="the job to start in A")
    first.kill()
    [job] = job_rows(db)
    assert (job.status, job.lease_owner, job.attempts) == ("running", "A", 1)  # A's lease, left behind

    second = WorkerProcess(database_url, tmp_path, "B", env={"MADOGUCHI_JOB_LEASE_SECONDS": "1"})
    wait_for(lambda: not job_rows(db), timeout=60, what="B to take the job over and finish it")
    assert second.stop() == 0

    calls = plugin.recorded_calls(database_url)
    assert [(c["worker"], c["attempt"], c["idempotency_key"]) for c in calls] == [("A", 1, key), ("B", 2, key)]
    assert [(e["key"], e["worker"]) for e in plugin.effects(database_url)] == [(key, "B")]


def test_sigkill_after_the_effect_is_not_repeated_when_the_key_is_honoured(engine, db, plugin, database_url,
                                                                          tmp_path):
    """Killed after the remote side acted but before the job was done: the job runs again,
    and the idempotency key keeps the effect from happening twice."""
    [key] = _enqueue(engine, db, 1, {"sleep": 60, "when": "after", "idempotent": True})
    first = WorkerProcess(database_url, tmp_path, "A", env={"MADOGUCHI_JOB_LEASE_SECONDS": "1"})
    first.wait_until_running()
    wait_for(lambda: plugin.effects(database_url), timeout=60, what="A to apply the effect")
    first.kill()

    second = WorkerProcess(database_url, tmp_path, "B", env={"MADOGUCHI_JOB_LEASE_SECONDS": "1"})
    wait_for(lambda: not job_rows(db), timeout=60, what="B to take the job over and finish it")
    assert second.stop() == 0

    assert [(c["worker"], c["attempt"]) for c in plugin.recorded_calls(database_url)] == [("A", 1), ("B", 2)]
    assert [(e["key"], e["worker"]) for e in plugin.effects(database_url)] == [(key, "A")]


def test_sigkill_during_a_service_call_completes_the_application_once(engine, db, plugin, database_url, tmp_path):
    deploy_text(engine, db, tmp_path, process("charged", "\n".join([
        '<bpmn:startEvent id="s"/>',
        service_task("charge", "fixture.charge", {"amount": "fee", "slow_attempts": "[1]", "seconds": "60"}),
        '<bpmn:endEvent id="e"/>', chain("s", "charge", "e")])))
    app = start(engine, db, "charged", {"fee": 2400}).application

    first = WorkerProcess(database_url, tmp_path, "A", env={"MADOGUCHI_JOB_LEASE_SECONDS": "1"})
    first.wait_until_running()
    wait_for(lambda: plugin.effects(database_url), timeout=60, what="A to charge")
    first.kill()
    second = WorkerProcess(database_url, tmp_path, "B", env={"MADOGUCHI_JOB_LEASE_SECONDS": "1"})
    wait_for(lambda: not job_rows(db), timeout=60, what="B to finish the service call")
    assert second.stop() == 0

    calls = plugin.recorded_calls(database_url, "fixture.charge")
    assert [(c["worker"], c["attempt"]) for c in calls] == [("A", 1), ("B", 2)]
    assert len({c["idempotency_key"] for c in calls}) == 1
    assert len(plugin.effects(database_url)) == 1  # charged once
    view = show(engine, db, app.id)
    assert view["status"] == "completed"
    assert view["data"]["charged"] is True and view["data"]["first_time"] is False
    with db.transaction() as session:
        completions = session.scalars(select(AuditEvent).where(AuditEvent.application_id == app.id,
                                                               AuditEvent.action == "service_task_completed")).all()
        assert len(completions) == 1
        assert engine.verify_audit(session) == []


def test_a_paused_worker_that_lost_its_lease_drops_its_late_result(engine, db, plugin, database_url, tmp_path):
    """A worker frozen mid-call (SIGSTOP: no heartbeats) loses its lease; another worker
    finishes the task; when the first one wakes up, its late result is not applied."""
    deploy_text(engine, db, tmp_path, process("paused", "\n".join([
        '<bpmn:startEvent id="s"/>',
        service_task("charge", "fixture.charge", {"slow_attempts": "[1]", "seconds": "2"}),
        '<bpmn:endEvent id="e"/>', chain("s", "charge", "e")])))
    app = start(engine, db, "paused").application
    frozen = WorkerProcess(database_url, tmp_path, "A", env={"MADOGUCHI_JOB_LEASE_SECONDS": "1"})
    frozen.wait_until_running()
    wait_for(lambda: plugin.effects(database_url), timeout=60, what="A to charge")
    frozen.signal(signal.SIGSTOP)
    try:
        other = WorkerProcess(database_url, tmp_path, "B", env={"MADOGUCHI_JOB_LEASE_SECONDS": "1"})
        wait_for(lambda: not job_rows(db), timeout=60, what="B to take the call over")
        assert other.stop() == 0
    finally:
        frozen.signal(signal.SIGCONT)
    wait_for(lambda: "lease lost to another worker; result dropped" in frozen.log, timeout=60,
             what="A to finish its call and find its lease gone")
    assert frozen.stop() == 0

    assert [(c["worker"], c["attempt"]) for c in plugin.recorded_calls(database_url)] == [("A", 1), ("B", 2)]
    assert len(plugin.effects(database_url)) == 1
    view = show(engine, db, app.id)
    assert view["status"] == "completed"
    assert [e["action"] for e in view["history"]].count("service_task_completed") == 1
    assert view["data"]["first_time"] is False  # B's result, not A's
    with db.transaction() as session:
        assert engine.incidents(session) == []
