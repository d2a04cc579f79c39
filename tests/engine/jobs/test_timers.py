"""Timers run as jobs: boundary (interrupting and not), intermediate catch, and timer start
events (scheduled procedures). A serving worker wakes at the nearest due time."""

from __future__ import annotations

import time
from datetime import timedelta

from sqlalchemy import func, select

from engine.store.models import Application, Job, utcnow
from tests.diagrams import chain, process, user_task
from tests.engine.helpers import complete, deploy_text, open_tasks, show, start
from tests.engine.jobs.support import drain, job_rows, make_due, running_worker, timer_boundary, wait_for

REMINDER = process("reminder", "\n".join([
    '<bpmn:startEvent id="s"/>', user_task("review", groups="clerks"), '<bpmn:endEvent id="e"/>',
    timer_boundary("remind", "review", "PT1S", interrupting=False),
    user_task("chase", groups="clerks"), '<bpmn:endEvent id="e2"/>',
    chain("s", "review", "e"), chain("remind", "chase", "e2")]))


def _names(tasks) -> list[str]:
    return sorted(t.element_id for t in tasks)


def test_reminder_task_appears_from_a_running_worker(engine, db, tmp_path, clerk):
    """Done means: a non-interrupting reminder timer on a review task produces the reminder
    task within a second of its due time, from a worker that is already running."""
    deploy_text(engine, db, tmp_path, REMINDER)
    with running_worker(engine, db):
        app = start(engine, db, "reminder").application
        due = app.next_timer_at
        assert due is not None
        assert _names(open_tasks(engine, db, app.id)) == ["review"]
        tasks = wait_for(lambda: [t for t in open_tasks(engine, db, app.id) if t.element_id == "chase"],
                         timeout=15, interval=0.01, what="the reminder task")
        seen = utcnow()
    [chase] = tasks
    created = chase.as_dict()["created_at"]
    lag = (chase.created_at - due).total_seconds()
    print(f"\nreminder due {due.isoformat()}, task created {created} (lag {lag:.3f} s), "
          f"seen by polling {(seen - due).total_seconds():.3f} s after due")
    assert chase.created_at >= due  # never early
    # the reminder does not interrupt the review
    assert _names(open_tasks(engine, db, app.id)) == ["chase", "review"]
    view = show(engine, db, app.id)
    assert view["next_timer_at"] is None
    assert "task_cancelled" not in [e["action"] for e in view["history"]]
    assert job_rows(db) == []
    # both tasks can be done; the application completes
    for task in open_tasks(engine, db, app.id):
        result = complete(engine, db, task.id, clerk)
    assert result.application.status == "completed"


def test_interrupting_boundary_timer_fires_from_a_running_worker(engine, db, tmp_path, clerk):
    deploy_text(engine, db, tmp_path, process("deadline", "\n".join([
        '<bpmn:startEvent id="s"/>', user_task("answer"), '<bpmn:endEvent id="answered"/>',
        timer_boundary("too_late", "answer", "PT0.3S"), user_task("escalate"), '<bpmn:endEvent id="escalated"/>',
        chain("s", "answer", "answered"), chain("too_late", "escalate", "escalated")])))
    with running_worker(engine, db):
        app = start(engine, db, "deadline").application
        wait_for(lambda: _names(open_tasks(engine, db, app.id)) == ["escalate"], timeout=15, what="escalation")
    history = [e["action"] for e in show(engine, db, app.id)["history"]]
    assert history.count("task_cancelled") == 1
    assert job_rows(db) == []


def test_completing_the_task_first_removes_its_timer_job(engine, db, tmp_path, clerk):
    deploy_text(engine, db, tmp_path, REMINDER)
    app = start(engine, db, "reminder").application
    [timer] = job_rows(db)
    assert (timer.kind, timer.singleton_key, timer.due_at) == ("timer", f"timer:{app.id}", app.next_timer_at)
    [review] = open_tasks(engine, db, app.id)
    assert complete(engine, db, review.id, clerk).application.status == "completed"
    assert job_rows(db) == []


def test_intermediate_duration_timer_moves_the_application_on(engine, db, tmp_path):
    deploy_text(engine, db, tmp_path, process("cooling_off", "\n".join([
        '<bpmn:startEvent id="s"/>', '<bpmn:intermediateCatchEvent id="wait"><bpmn:timerEventDefinition>'
        '<bpmn:timeDuration>PT0.2S</bpmn:timeDuration></bpmn:timerEventDefinition></bpmn:intermediateCatchEvent>',
        user_task("after"), '<bpmn:endEvent id="e"/>', chain("s", "wait", "after", "e")])))
    with running_worker(engine, db):
        app = start(engine, db, "cooling_off").application
        assert open_tasks(engine, db, app.id) == []
        wait_for(lambda: open_tasks(engine, db, app.id), timeout=15, what="the task after the timer")


def test_future_date_timer_waits_for_its_date(engine, db, tmp_path):
    later = (utcnow() + timedelta(days=30)).replace(microsecond=0)
    deploy_text(engine, db, tmp_path, process("dated", "\n".join([
        '<bpmn:startEvent id="s"/>', '<bpmn:intermediateCatchEvent id="wait"><bpmn:timerEventDefinition>'
        f'<bpmn:timeDate>{later.isoformat()}</bpmn:timeDate></bpmn:timerEventDefinition></bpmn:intermediateCatchEvent>',
        user_task("after"), '<bpmn:endEvent id="e"/>', chain("s", "wait", "after", "e")])))
    app = start(engine, db, "dated").application
    [job] = job_rows(db)
    assert job.due_at == later == app.next_timer_at
    assert engine.worker(db).run_once() == 0
    assert open_tasks(engine, db, app.id) == []


def test_cycle_boundary_timer_reminds_repeatedly(engine, db, tmp_path):
    deploy_text(engine, db, tmp_path, process("nagging", "\n".join([
        '<bpmn:startEvent id="s"/>', user_task("review"), '<bpmn:endEvent id="e"/>',
        '<bpmn:boundaryEvent id="nag" attachedToRef="review" cancelActivity="false"><bpmn:timerEventDefinition>'
        '<bpmn:timeCycle>R2/PT0.2S</bpmn:timeCycle></bpmn:timerEventDefinition></bpmn:boundaryEvent>',
        '<bpmn:scriptTask id="count" scriptFormat="python"><bpmn:script>nagged = True</bpmn:script></bpmn:scriptTask>',
        '<bpmn:endEvent id="e2"/>', chain("s", "review", "e"), chain("nag", "count", "e2")])))
    app = start(engine, db, "nagging").application
    drain(engine, db, timeout=20)
    history = show(engine, db, app.id)["history"]
    assert _names(open_tasks(engine, db, app.id)) == ["review"]
    assert show(engine, db, app.id)["next_timer_at"] is None
    assert job_rows(db) == []
    assert history[-1]["action"] != "incident_raised"


# -- timer start events ------------------------------------------------------------------------------

def _applications(db) -> int:
    with db.transaction() as session:
        return session.scalar(select(func.count()).select_from(Application))


def _schedule(startup: str, pid: str = "nightly") -> str:
    return process(pid, "\n".join([
        f'<bpmn:startEvent id="tick"><bpmn:timerEventDefinition>{startup}</bpmn:timerEventDefinition>'
        '</bpmn:startEvent>', user_task("batch"), '<bpmn:endEvent id="e"/>', chain("tick", "batch", "e")]))


def test_cycle_start_event_creates_exactly_its_applications(engine, db, tmp_path):
    deploy_text(engine, db, tmp_path, _schedule("<bpmn:timeCycle>R3/PT0.2S</bpmn:timeCycle>"))
    [job] = job_rows(db)
    assert (job.kind, job.singleton_key) == ("schedule", "schedule:nightly:tick")
    assert job.payload["remaining"] == 3
    with running_worker(engine, db):
        wait_for(lambda: not job_rows(db, kind="schedule"), timeout=20, what="the schedule to end")
    assert _applications(db) == 3
    with db.transaction() as session:
        apps = list(session.scalars(select(Application).order_by(Application.id)))
        assert {a.started_by for a in apps} == {"system:schedule"}
        assert {a.status for a in apps} == {"in_review"}
    view = show(engine, db, apps[0].id)
    assert view["history"][0]["details"]["timer"] == "tick"
    assert [t["element_id"] for t in view["open_tasks"]] == ["batch"]


def test_cycle_start_event_with_worker_once_passes(engine, db, tmp_path):
    deploy_text(engine, db, tmp_path, _schedule("<bpmn:timeCycle>R3/PT0.2S</bpmn:timeCycle>"))
    passes = 0
    while job_rows(db):
        engine.worker(db).run_once()
        passes += 1
        assert passes < 2000
        time.sleep(0.02)
    assert _applications(db) == 3
    assert engine.worker(db).run_once() == 0


def test_date_start_event_in_the_past_creates_one_application(engine, db, tmp_path):
    deploy_text(engine, db, tmp_path, _schedule("<bpmn:timeDate>2020-04-01T02:00:00+09:00</bpmn:timeDate>", "once"))
    assert drain(engine, db) == 1
    assert _applications(db) == 1
    assert engine.worker(db).run_once() == 0
    assert job_rows(db) == []


def test_duration_start_event_fires_once_after_deploy(engine, db, tmp_path):
    deploy_text(engine, db, tmp_path, _schedule("<bpmn:timeDuration>PT0.2S</bpmn:timeDuration>", "soon"))
    assert engine.worker(db).run_once() == 0
    with running_worker(engine, db):
        wait_for(lambda: _applications(db) == 1, timeout=15, what="the application")
    assert job_rows(db) == []


def test_redeploying_a_schedule_keeps_one_schedule_started_by_the_newest_version(engine, db, tmp_path):
    first = deploy_text(engine, db, tmp_path, _schedule("<bpmn:timeCycle>R/PT1H</bpmn:timeCycle>"))
    second = deploy_text(engine, db, tmp_path, _schedule("<bpmn:timeCycle>R/PT2H</bpmn:timeCycle>"), "v2.bpmn")
    assert second.version > first.version
    [job] = job_rows(db, kind="schedule")
    assert job.payload["interval_seconds"] == 7200
    # R/PT2H: the first occurrence is one interval after the deployment
    assert utcnow() + timedelta(minutes=119) <= job.due_at <= utcnow() + timedelta(hours=2)
    make_due(db)
    assert engine.worker(db).run_once() == 1
    with db.transaction() as session:
        [app] = list(session.scalars(select(Application)))
        assert app.definition_id == second.id
    [job] = job_rows(db, kind="schedule")  # an endless cycle: the next occurrence is queued
    assert job.due_at >= utcnow() + timedelta(minutes=119)


def test_schedule_after_downtime_starts_one_application_not_one_per_missed_occurrence(engine, db, tmp_path):
    deploy_text(engine, db, tmp_path, _schedule("<bpmn:timeCycle>R/PT1H</bpmn:timeCycle>"))
    [job] = job_rows(db)
    with db.transaction() as session:  # no worker ran for five hours and a half
        session.get(Job, job.id).due_at = utcnow() - timedelta(hours=5, minutes=30)
    assert engine.worker(db).run_once() == 1
    assert _applications(db) == 1
    [job] = job_rows(db)
    assert utcnow() < job.due_at <= utcnow() + timedelta(hours=1)  # the next one, in the future
