"""イベント申込 (workflows/event-registration): no sign-in, a place at once while there is one,
定員 held under concurrency on both databases, and the confirmation mail through a real SMTP server."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

import plugins.mail
from engine.capacity import CAPACITY_OPERATION, pool_parameters, reserve
from engine.config import Settings
from engine.errors import BadInput
from engine.facade import Engine
from engine.jobs.context import OperationContext
from engine.jobs.worker import WorkerOptions
from engine.plugins import setting_variable
from plugins.mail import config as mail_config
from plugins.mail.delivery import template_context
from plugins.mail.render import render
from tests.engine.helpers import show, start
from tests.engine.jobs.support import drain, job_rows
from tests.plugins.mail_server import Inbox, smtp_server

BUNDLE = Path(__file__).parents[2] / "workflows" / "event-registration"
POOL = "bousai-kouenkai-2026-12-05"
CAPACITY = 30


def form(name: str, email: str, **more) -> dict:
    """What the portal's start form posts for an applicant without an account."""
    return {"applicant_name": name, "applicant_name_kana": "ミホン　ハナコ", "applicant_birth_date": "1990-04-01",
            "applicant_address": "見本市中央区本町一丁目2番3号", "applicant_phone": "045-000-1234",
            "applicant_email": email, "needs_support": False, **more}


@pytest.fixture
def settings(database_url, tmp_path) -> Settings:
    return Settings(home=tmp_path, database_url=database_url, job_max_attempts=3, job_backoff_seconds=30.0)


@pytest.fixture
def inbox():
    return Inbox()


@pytest.fixture
def engine(settings, inbox, monkeypatch):
    with smtp_server(inbox) as port:
        for name, value in {"HOST": "127.0.0.1", "PORT": port, "SENDER": "bousai@city.example.jp",
                            "SENDER_NAME": "見本市役所"}.items():
            monkeypatch.setenv(f"MADOGUCHI_MAIL_{name}", str(value))
        engine = Engine(settings, plugins=(plugins.mail,))
        with engine.database().transaction() as session:
            result = engine.deploy(session, BUNDLE)
        assert result.definition.key == "event-registration"
        yield engine


def fill_places(engine, db, count: int) -> None:
    """Places taken by earlier applicants, through the same counter the procedure uses."""
    with db.transaction() as session:
        for number in range(count):
            assert reserve(session, POOL, CAPACITY, holder=f"earlier/{number}", application_id=None)[
                "capacity"]["reserved"]


def body(message) -> str:
    return message.get_body(("plain",)).get_content()


def test_accepted_at_once_with_a_confirmation_mail(engine, db, inbox):
    started = start(engine, db, "event-registration", form("見本　花子", "hanako@example.jp"),
                    actor="portal:anonymous")
    assert started.opened_tasks == []  # no staff task on the way
    drain(engine, db)
    view = show(engine, db, started.application.id)
    assert view["status"] == "approved" and view["open_tasks"] == []
    assert view["data"]["capacity"] == {"pool": POOL, "reserved": True, "seat": 1, "capacity": CAPACITY,
                                        "remaining": CAPACITY - 1}
    (message,) = inbox.messages  # the anonymous form has no applicant.email at the start: one mail only
    assert message["To"] == "hanako@example.jp"
    reference = started.application.reference
    assert str(message["Subject"]).strip() == f"参加申込みが確定しました：市民防災講演会の参加申込（受付番号 {reference}）"
    assert "見本 花子 様" in body(message) and f"受付番号：{reference}" in body(message)
    with db.transaction() as session:
        assert engine.verify_audit(session) == []


def test_english_confirmation(engine, db, inbox):
    started = start(engine, db, "event-registration", form("Mihon Hanako", "hanako@example.jp", language="en"))
    drain(engine, db)
    (message,) = inbox.messages
    assert str(message["Subject"]).strip().startswith("Your place is confirmed:")
    assert f"Reference number: {started.application.reference}" in body(message)


def test_full_refuses_and_tells_the_applicant(engine, db, inbox):
    fill_places(engine, db, CAPACITY)
    started = start(engine, db, "event-registration", form("見本　次郎", "jiro@example.jp"))
    drain(engine, db)
    view = show(engine, db, started.application.id)
    assert view["status"] == "rejected"
    assert view["data"]["capacity"]["reserved"] is False and view["data"]["capacity"]["remaining"] == 0
    assert view["data"]["rejection_reason"] == "定員に達しました"
    (message,) = inbox.messages
    assert "定員に達しました" in str(message["Subject"]) and started.application.reference in str(message["Subject"])
    assert "今回はご参加いただけません" in body(message)


def test_two_workers_racing_for_the_last_place(engine, db, inbox):
    fill_places(engine, db, CAPACITY - 1)
    first = start(engine, db, "event-registration", form("見本　一郎", "ichiro@example.jp"))
    second = start(engine, db, "event-registration", form("見本　三郎", "saburo@example.jp"))
    assert len([j for j in job_rows(db) if j.status == "pending"]) == 2
    workers = [engine.worker(db, WorkerOptions(batch=1)) for _ in range(2)]
    barrier = threading.Barrier(2)
    failures = []

    def run(worker) -> None:
        try:
            barrier.wait(timeout=10)
            worker.run_once()
        except Exception as exc:  # reported below, with the thread's exception
            failures.append(exc)

    threads = [threading.Thread(target=run, args=(worker,)) for worker in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not failures
    drain(engine, db)
    statuses = sorted(show(engine, db, a.application.id)["status"] for a in (first, second))
    assert statuses == ["approved", "rejected"]
    seats = [show(engine, db, a.application.id)["data"]["capacity"]["seat"] for a in (first, second)]
    assert sorted(seats, key=lambda seat: seat or 0) == [None, CAPACITY]
    assert sorted(str(m["Subject"]).split("：")[0].strip() for m in inbox.messages) == ["参加申込みが確定しました",
                                                                                      "定員に達しました"]


def test_many_threads_never_take_more_places_than_there_are(engine, db):
    operation = engine.operations[CAPACITY_OPERATION]
    barrier = threading.Barrier(8)
    answers, failures = {}, []

    def take(number: int) -> None:
        context = OperationContext(job_id=number, idempotency_key=f"race/{number}", attempt=1,
                                   application_id=None, element_id="reserve", task_id=str(number))
        try:
            barrier.wait(timeout=10)
            answers[number] = operation({"pool": "race", "capacity": 3}, context)["capacity"]
        except Exception as exc:  # reported below
            failures.append(exc)

    threads = [threading.Thread(target=take, args=(number,)) for number in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not failures
    assert sorted(a["seat"] for a in answers.values() if a["reserved"]) == [1, 2, 3]
    assert sum(not a["reserved"] for a in answers.values()) == 5
    # A retried job (same idempotency key) gets its own place back and never a second one.
    winner = next(number for number, a in answers.items() if a["reserved"])
    again = operation({"pool": "race", "capacity": 3}, OperationContext(
        job_id=winner, idempotency_key=f"race/{winner}", attempt=2, application_id=None))["capacity"]
    assert again["reserved"] and again["seat"] == answers[winner]["seat"] and again["remaining"] == 0


def test_bad_parameters_name_the_parameter():
    with pytest.raises(BadInput, match="parameter capacity"):
        pool_parameters({"pool": "p", "capacity": "thirty"})
    with pytest.raises(BadInput, match="parameter pool"):
        pool_parameters({"pool": " ", "capacity": 3})


@pytest.mark.parametrize("language", ["ja", "en"])
@pytest.mark.parametrize("template", ["received", "approved", "rejected"])
def test_the_procedures_own_mails_render_in_both_languages(monkeypatch, template, language):
    for name in mail_config.SETTINGS:
        monkeypatch.delenv(setting_variable(mail_config.PLUGIN, name), raising=False)
    config = mail_config.load()
    data = {"reference": "2026-ABCD-EFGH", "procedure": "event-registration", "applicant_name": "見本 花子",
            "reason": "定員に達しました"}
    common = render(template, language, template_context(config, data, language, None))
    own = render(template, language, template_context(config, data, language, None), procedure="event-registration")
    assert own.subject != common.subject and "2026-ABCD-EFGH" in own.subject and "2026-ABCD-EFGH" in own.body
    assert "None" not in own.body
