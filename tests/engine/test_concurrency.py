"""One writer per application: parallel branches completed at the same instant by separate
processes all succeed, and the join fires exactly once."""

import multiprocessing

from sqlalchemy import func, select

from engine.store.models import AuditEvent
from tests.diagrams import chain, flow, process, script_task, user_task
from tests.engine.concurrent_completion import complete_when_released
from tests.engine.helpers import add_user, deploy_text, show, start

THREE_BRANCHES = process("three_branches", "\n".join([
    '<bpmn:startEvent id="s"/>', '<bpmn:parallelGateway id="split"/>',
    user_task("legal", groups="legal"), user_task("finance", groups="finance"), user_task("tax", groups="tax"),
    '<bpmn:parallelGateway id="join"/>',
    script_task("after_join", "join_count = join_count + 1"),
    '<bpmn:endEvent id="e"/>',
    chain("s", "split"), flow("a", "split", "legal"), flow("b", "split", "finance"), flow("c", "split", "tax"),
    flow("d", "legal", "join"), flow("f", "finance", "join"), flow("g", "tax", "join"), chain("join", "after_join", "e"),
]))


def test_three_processes_complete_three_branches_at_once(engine, db, tmp_path, settings):
    for name in ("legal", "finance", "tax"):
        add_user(engine, db, name, name)
    deploy_text(engine, db, tmp_path, THREE_BRANCHES)
    started = start(engine, db, "three_branches", {"join_count": 0})
    tasks = {t.element_id: t.id for t in started.opened_tasks}
    assert sorted(tasks) == ["finance", "legal", "tax"]

    context = multiprocessing.get_context("spawn")
    barrier, results = context.Barrier(3), context.Queue()
    workers = [context.Process(target=complete_when_released,
                               args=(settings.database_url, str(tmp_path), tasks[name], name, barrier, results))
               for name in tasks]
    for worker in workers:
        worker.start()
    outcomes = [results.get(timeout=60) for _ in workers]
    for worker in workers:
        worker.join(timeout=30)
    assert all(kind == "ok" for kind, _, _ in outcomes), outcomes
    assert sorted(status for _, _, status in outcomes) == ["completed", "in_review", "in_review"]

    view = show(engine, db, started.application.id)
    assert view["status"] == "completed"
    assert view["data"]["join_count"] == 1
    assert all(view["data"][f"done_{name}"] for name in tasks)
    with db.transaction() as session:
        completions = session.scalar(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.application_id == started.application.id, AuditEvent.action == "task_completed"))
        assert completions == 3
        assert engine.verify_audit(session) == []
