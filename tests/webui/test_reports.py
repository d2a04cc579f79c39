"""The reports page: per procedure figures over a period."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from sqlalchemy import update

from engine.store.models import Application, HumanTask, utcnow
from tests.engine.helpers import complete, start

APPROVAL = Path(__file__).parents[1] / "workflows" / "approval"


def test_figures_per_procedure(engine, db, staff):
    client = staff("root", "admin")
    with db.transaction() as session:
        engine.deploy(session, APPROVAL)
        engine.add_user(session, "tanaka", groups=["tanto"])
    online = [start(engine, db, "approval-test", {"amount": 1}, actor="resident").application for _ in range(3)]
    paper = start(engine, db, "approval-test", {"amount": 1}, actor="tanaka").application
    # One finished in two days: a route that returns to the applicant ends the process.
    with db.transaction() as session:
        (review,) = engine.tasks(session, application_id=online[0].id)
    complete(engine, db, review.id, "tanaka")
    with db.transaction() as session:
        route_task = engine.tasks(session, application_id=online[0].id, user=None)
        approve = next(t for t in route_task if t.kind == "approve")
        engine.add_user(session, "sato", groups=["kakaricho"])
    with db.transaction() as session:
        engine.decide(session, approve.id, actor="sato", decision="return_to_applicant", comment="不足",
                      deadline="2099-03-31")
        session.execute(update(Application).where(Application.id == online[0].id)
                        .values(created_at=utcnow() - timedelta(days=2)))
        session.execute(update(HumanTask).where(HumanTask.application_id == paper.id)
                        .values(due_at=utcnow() - timedelta(days=1)))
    with db.transaction() as session:
        (figure,) = engine.procedure_report(session, since=utcnow() - timedelta(days=30),
                                            until=utcnow() + timedelta(days=1))
    assert (figure.key, figure.total, figure.online, figure.completed) == ("approval-test", 4, 3, 1)
    assert 1.9 < figure.median_days < 2.1 and figure.overdue_tasks == 1
    page = client.get("/admin/reports/").get_data(as_text=True)
    assert "補助金交付申請（決裁テスト）" in page and "75%" in page and "月別申請件数" in page


def test_reports_are_for_admins_and_dates_are_checked(engine, db, staff):
    assert staff("tanaka", "tanto").get("/admin/reports/").status_code == 403


def test_bad_dates_fall_back_with_a_message(engine, db, staff):
    page = staff("root", "admin").get("/admin/reports/?since=yesterday").get_data(as_text=True)
    assert "YYYY-MM-DD" in page
