"""Payments end to end: the payment plugin's operations run by the worker against the real
stand-in gateway (an HTTP server on 127.0.0.1), whose signed callbacks reach a real callback
receiver that calls ``engine.payments.handle_callback`` — nothing is patched.

Diagrams: tests/workflows/payment_at_submission.bpmn (pay first, then review; a rejected
application is refunded) and tests/workflows/payment_after_fee.bpmn (事後決済: a clerk fixes
the fee, then the applicant pays it).
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from engine.config import Settings
from engine.facade import Engine
from engine.jobs.context import JobContext, OperationContext
from engine.payments import CallbackRefused, PaymentRequest, handle_callback, providers
from plugins.payment.gateway_client import GatewayError, GatewayRefused
from plugins.payment.standin import StandinGateway, sign
from tests.engine.helpers import add_user, complete, open_tasks, show, start
from tests.engine.jobs.support import wait_for
from tests.plugins.payment_support import (
    CallbackReceiver,
    GatewayControl,
    message_rows,
    payment_rows,
    settle,
)

WORKFLOWS = Path(__file__).parents[1] / "workflows"
API_KEY = "test-api-key"
SECRET = "test-callback-secret"
MERCHANT = "madoguchi-test"


@pytest.fixture
def settings(database_url, tmp_path) -> Settings:
    # The plugin by module name, as MADOGUCHI_PLUGINS would load it; fast retries.
    return Settings(home=tmp_path, database_url=database_url, plugin_modules=("plugins.payment",),
                    job_max_attempts=4, job_backoff_seconds=0.05, job_lease_seconds=30.0)


@pytest.fixture
def engine(settings) -> Engine:
    return Engine(settings)


@pytest.fixture
def gateway():
    with StandinGateway(api_key=API_KEY, callback_secret=SECRET, merchant_id=MERCHANT) as running:
        yield running


@pytest.fixture
def receiver(engine, db):
    with CallbackReceiver(engine, db) as running:
        yield running


@pytest.fixture
def control(gateway, receiver, monkeypatch, engine, db) -> GatewayControl:
    """The plugin configured for the gateway and receiver, both diagrams deployed, a clerk."""
    for name, value in {"BASE_URL": gateway.url, "MERCHANT_ID": MERCHANT, "API_KEY": API_KEY,
                        "CALLBACK_SECRET": SECRET, "CALLBACK_URL": receiver.url("standin"),
                        "CONNECT_TIMEOUT": "0.5", "READ_TIMEOUT": "0.5"}.items():
        monkeypatch.setenv(f"MADOGUCHI_PAYMENT_{name}", value)
    with db.transaction() as session:
        for name in ("payment_at_submission.bpmn", "payment_after_fee.bpmn"):
            engine.deploy(session, WORKFLOWS / name)
    add_user(engine, db, "clerk", "clerks")
    return GatewayControl(gateway.url)


def tasks(engine, db, application_id: int) -> list[str]:
    return [t.element_id for t in open_tasks(engine, db, application_id)]


def data(engine, db, application_id: int) -> dict:
    return show(engine, db, application_id)["data"]


def submit(engine, db, fee: int = 1200):
    """An application that pays at submission, with its payment opened by the worker."""
    app = start(engine, db, "payment_at_submission", {"fee": fee}).application
    assert tasks(engine, db, app.id) == []  # the call happens in a job, not in the applicant's request
    assert settle(engine, db) == 1
    return app


def task_id(engine, db, application_id: int, element_id: str) -> str:
    [task] = [t for t in open_tasks(engine, db, application_id) if t.element_id == element_id]
    return task.id


# -- the two ways to pay ----------------------------------------------------------------------------

def test_pay_at_submission(engine, db, control):
    app = submit(engine, db, fee=1200)
    values = data(engine, db, app.id)
    reference = values["payment_reference"]
    assert values["payment_url"] == f"{control.base_url}/pay/{reference}"
    assert values["payment_expires_at"] == control.payment(reference)["expires_at"]
    [row] = payment_rows(db)
    assert (row.reference, row.provider, row.application_id, row.amount, row.currency, row.status) == (
        reference, "standin", app.id, 1200, "JPY", "created")
    at_gateway = control.payment(reference)
    assert (at_gateway["amount"], at_gateway["order_reference"], at_gateway["description"]) == (
        1200, app.reference, "申請手数料")
    [create] = control.requests("create")
    assert create["idempotency_key"] == row.details["idempotency_key"]
    assert create["idempotency_key"].startswith(app.reference + "/")
    # the application waits for its payment, under the payment reference
    assert httpx.get(values["payment_url"]).status_code == 200  # the applicant's page

    assert control.pay(values["payment_url"]).status_code == 200
    wait_for(lambda: tasks(engine, db, app.id) == ["review"], what="the review after payment")

    paid = data(engine, db, app.id)["payment"]
    assert paid | {"paid_at": None} == {"payment_reference": reference, "amount": 1200, "currency": "JPY",
                                        "paid_at": None}
    [row] = payment_rows(db)
    assert row.status == "paid" and row.details["paid_at"] == paid["paid_at"]
    [message] = message_rows(db)
    assert (message.name, message.correlation_key, message.status, message.sender) == (
        "payment_completed", reference, "delivered", "payment:standin")
    complete(engine, db, task_id(engine, db, app.id, "review"), "clerk", {"approved": True})
    assert show(engine, db, app.id)["status"] == "completed"


def test_pay_after_the_fee_is_fixed(engine, db, control):
    app = start(engine, db, "payment_after_fee", {"applicant": "山田"}).application
    assert tasks(engine, db, app.id) == ["fix_fee"]
    assert control.state()["payments"] == []

    complete(engine, db, task_id(engine, db, app.id, "fix_fee"), "clerk", {"fee": 300})
    assert settle(engine, db) == 1
    values = data(engine, db, app.id)
    [row] = payment_rows(db)
    assert (row.amount, row.reference, row.status) == (300, values["payment_reference"], "created")
    assert control.payment(row.reference)["amount"] == 300
    assert control.payment(row.reference)["description"] == "交付手数料"

    control.pay(values["payment_url"])
    wait_for(lambda: tasks(engine, db, app.id) == ["review"], what="the task after payment")
    assert data(engine, db, app.id)["payment"]["amount"] == 300
    complete(engine, db, task_id(engine, db, app.id, "review"), "clerk")
    assert show(engine, db, app.id)["status"] == "completed"
    assert payment_rows(db)[0].status == "paid"


def test_failed_payment_takes_the_payment_failed_path(engine, db, control):
    app = submit(engine, db)
    reference = data(engine, db, app.id)["payment_reference"]
    control.pay(data(engine, db, app.id)["payment_url"], "failed")
    wait_for(lambda: tasks(engine, db, app.id) == ["contact_applicant"], what="the follow-up of a failed payment")
    assert data(engine, db, app.id)["payment_failure"] == {"payment_reference": reference, "status": "failed",
                                                          "reason": "card_declined"}
    assert payment_rows(db)[0].status == "failed"
    assert [m.name for m in message_rows(db)] == ["payment_failed"]


# -- callbacks: duplicates and forgeries ------------------------------------------------------------

def test_duplicate_callbacks_deliver_one_message(engine, db, control, receiver):
    control.callbacks(duplicates=3)  # three copies, sent at the same time
    app = submit(engine, db)
    control.pay(data(engine, db, app.id)["payment_url"])
    wait_for(lambda: len([d for d in control.deliveries() if d["status"] == 200]) == 3, what="three deliveries")
    assert tasks(engine, db, app.id) == ["review"]
    assert sorted(answer["outcome"] for _status, answer in receiver.answers) == ["applied", "duplicate", "duplicate"]
    assert len(message_rows(db, "payment_completed")) == 1
    history = [e["action"] for e in show(engine, db, app.id)["history"]]
    assert history.count("message_received") == 1


def test_callback_with_a_bad_signature_is_refused_and_changes_nothing(engine, db, control, receiver):
    control.callbacks(bad_signature=True, attempts=2, backoff=0.05)
    app = submit(engine, db)
    reference = data(engine, db, app.id)["payment_reference"]
    control.pay(data(engine, db, app.id)["payment_url"])
    deliveries = wait_for(lambda: len(control.deliveries()) == 2 and control.deliveries(), what="two refused tries")
    assert [d["status"] for d in deliveries] == [400, 400]
    assert "bad signature" in json.loads(deliveries[0]["response"])["error"]
    assert control.payment(reference)["status"] == "paid"  # the gateway thinks so; we were not told credibly
    assert payment_rows(db)[0].status == "created"
    assert message_rows(db) == []
    assert tasks(engine, db, app.id) == []


def test_callback_checks_refuse_with_clear_errors(engine, db, control):
    app = submit(engine, db)
    reference = data(engine, db, app.id)["payment_reference"]
    body = json.dumps({"id": "evt_1", "type": "payment.paid",
                       "data": {"reference": reference, "status": "paid", "amount": 1200,
                                "merchant_id": MERCHANT}}).encode()
    cases = [
        ({}, body, "no Standin-Signature header"),
        ({"Standin-Signature": sign("guessed", body)}, body, "bad signature"),
        ({"Standin-Signature": sign(SECRET, body)}, body.replace(b"1200", b"1"), "bad signature"),  # altered
        ({"Standin-Signature": sign(SECRET, body, int(time.time()) - 3600)}, body, "signed 3600 s ago"),
        ({"Standin-Signature": "v1=abc"}, body, "malformed Standin-Signature"),
        ({"Standin-Signature": sign(SECRET, b"{not json")}, b"{not json", "malformed callback body"),
        ({"Standin-Signature": sign(SECRET, b'{"data": {"reference": "x", "status": "won"}}')},
         b'{"data": {"reference": "x", "status": "won"}}', "unknown status 'won'"),
    ]
    for headers, payload, expected in cases:
        with db.transaction() as session, pytest.raises(CallbackRefused, match=expected) as refused:
            handle_callback(engine, session, "standin", payload, headers)
        assert refused.value.exit_code == 2
    wrong_amount = body.replace(b"1200", b"1")
    with db.transaction() as session, pytest.raises(CallbackRefused, match="paid with 1 JPY, but it is for 1200"):
        handle_callback(engine, session, "standin", wrong_amount, {"Standin-Signature": sign(SECRET, wrong_amount)})
    assert payment_rows(db)[0].status == "created"
    assert message_rows(db) == []
    # a correctly signed one is accepted
    with db.transaction() as session:
        event = handle_callback(engine, session, "standin", body, {"standin-signature": sign(SECRET, body)})
    assert (event.reference, event.status, event.outcome) == (reference, "paid", "applied")
    assert tasks(engine, db, app.id) == ["review"]


# -- a misbehaving gateway ------------------------------------------------------------------------

def test_create_that_timed_out_is_retried_with_the_same_key_and_pays_once(engine, db, control):
    # The gateway opens the payment but answers after the read timeout (0.5 s).
    control.fault("create", "delay", seconds=1.5)
    app = submit(engine, db)
    creates = control.requests("create")
    assert [c["fault"] for c in creates] == ["delay", None]
    assert creates[0]["idempotency_key"] == creates[1]["idempotency_key"]
    assert len(control.state()["payments"]) == 1
    [row] = payment_rows(db)
    assert row.reference == data(engine, db, app.id)["payment_reference"]
    with db.transaction() as session:
        assert engine.incidents(session) == []
    # the applicant pays the one payment and the application goes on
    control.pay(data(engine, db, app.id)["payment_url"])
    wait_for(lambda: tasks(engine, db, app.id) == ["review"], what="the review")


def test_replayed_operation_does_not_call_the_gateway_again(engine, db, control):
    """A worker that died after recording the payment: the next attempt answers from the row."""
    app = submit(engine, db)
    [row] = payment_rows(db)
    context = OperationContext(job_id=1, idempotency_key=row.details["idempotency_key"], attempt=2,
                               application_id=app.id, reference=app.reference, element_id="create_payment")
    again = engine.operations["payment.create"]({"amount": 1200, "description": "申請手数料"}, context)
    assert again["payment_reference"] == row.reference
    assert len(control.requests("create")) == 1
    assert len(payment_rows(db)) == 1


def test_server_errors_then_success(engine, db, control):
    control.fault("create", "error", status=503)
    control.fault("create", "error", status=429)  # "too many requests" means later, not never
    app = submit(engine, db)
    assert [c["fault"] for c in control.requests("create")] == ["error", "error", None]
    assert len(control.state()["payments"]) == 1
    assert [r.reference for r in payment_rows(db)] == [data(engine, db, app.id)["payment_reference"]]


def test_malformed_answers_become_an_incident_then_retry_pays_once(engine, db, control):
    control.fault("create", "malformed", times=10)
    app = start(engine, db, "payment_at_submission", {"fee": 800}).application
    settle(engine, db)
    with db.transaction() as session:
        [incident] = engine.incidents(session)
        assert incident.message.startswith("GatewayError: payment gateway answered POST /v1/payments (HTTP 200) "
                                           "with malformed JSON")
        assert (incident.attempts, incident.element_id, incident.application_id) == (4, "create_payment", app.id)
    assert payment_rows(db) == []
    assert len(control.requests("create")) == 4

    control.clear_faults()  # the gateway is fixed; an administrator retries
    with db.transaction() as session:
        engine.retry_incident(session, incident.id, actor="admin")
    assert settle(engine, db) == 1
    # it had opened the payment on the first attempt already: the same key gets that one
    assert len(control.state()["payments"]) == 1
    assert [r.reference for r in payment_rows(db)] == [control.state()["payments"][0]["reference"]]
    assert data(engine, db, app.id)["payment_reference"] == payment_rows(db)[0].reference


def test_unreachable_gateway_and_wrong_api_key_are_clear_errors(engine, db, control, monkeypatch):
    provider = providers(engine)["standin"]
    context = OperationContext(job_id=1, idempotency_key="k-1", attempt=1, application_id=None)
    request = PaymentRequest(amount=100, currency="JPY", description="x", application_reference="R")
    monkeypatch.setenv("MADOGUCHI_PAYMENT_API_KEY", "wrong")
    with pytest.raises(GatewayRefused, match="refused POST /v1/payments: HTTP 401 unauthorized"):
        providers(engine)["standin"].create_payment(request, context)
    monkeypatch.setenv("MADOGUCHI_PAYMENT_BASE_URL", "http://127.0.0.1:9")  # nothing listens there
    with pytest.raises(GatewayError, match="unreachable"):
        providers(engine)["standin"].create_payment(request, context)
    control.fault("create", "drop")
    with pytest.raises(GatewayError, match="unreachable"):
        provider.create_payment(request, context)


# -- expiry ------------------------------------------------------------------------------------------

def test_unpaid_payment_is_cancelled_when_it_expires(engine, db, control):
    control.ttl(1.0)
    app = start(engine, db, "payment_at_submission", {"fee": 500}).application
    settle(engine, db)  # creates the payment, then fires the expiry timer and cancels it
    assert show(engine, db, app.id)["status"] == "completed"
    assert data(engine, db, app.id)["payment_status"] == "cancelled"
    [row] = payment_rows(db)
    assert row.status == "cancelled"
    assert control.payment(row.reference)["status"] == "cancelled"
    assert control.pay(data(engine, db, app.id)["payment_url"]).status_code == 409


def test_payment_made_just_before_expiry_still_counts(engine, db, control):
    control.ttl(1.0)
    control.callbacks(hold=True)  # the confirmation is slow to arrive
    app = start(engine, db, "payment_at_submission", {"fee": 500}).application
    settle(engine, db, horizon=0)
    assert control.pay(data(engine, db, app.id)["payment_url"]).status_code == 200
    settle(engine, db)  # the expiry timer fires; cancelling finds the payment paid
    assert data(engine, db, app.id)["payment_status"] == "paid"
    assert tasks(engine, db, app.id) == []
    control.release_callbacks()
    wait_for(lambda: tasks(engine, db, app.id) == ["review"], what="the review after the late confirmation")
    assert payment_rows(db)[0].status == "paid"


# -- refunds -----------------------------------------------------------------------------------------

def paid_application(engine, db, control, fee: int = 1200):
    app = submit(engine, db, fee)
    control.pay(data(engine, db, app.id)["payment_url"])
    wait_for(lambda: tasks(engine, db, app.id) == ["review"], what="the review")
    return app, data(engine, db, app.id)["payment_reference"]


def test_refund_of_a_rejected_application_is_idempotent(engine, db, control):
    app, reference = paid_application(engine, db, control)
    control.fault("refund", "delay", seconds=1.5)  # refunded, but the answer comes too late
    complete(engine, db, task_id(engine, db, app.id, "review"), "clerk", {"approved": False})
    settle(engine, db)
    assert show(engine, db, app.id)["status"] == "completed"
    refunds = control.requests("refund")
    assert [r["fault"] for r in refunds] == ["delay", None]
    assert refunds[0]["idempotency_key"] == refunds[1]["idempotency_key"]
    at_gateway = control.payment(reference)
    assert (len(at_gateway["refunds"]), at_gateway["refunded_amount"], at_gateway["status"]) == (1, 1200, "refunded")
    [row] = payment_rows(db)
    assert (row.status, row.refunded_amount, len(row.details["refunds"])) == ("refunded", 1200, 1)
    assert data(engine, db, app.id) | {"refund_amount": 1200, "refunded_amount": 1200,
                                       "payment_status": "refunded"} == data(engine, db, app.id)


def test_refund_jobs_partial_replayed_and_too_much(engine, db, control):
    app, reference = paid_application(engine, db, control)

    def refund_job(request_id: str, amount: int | None = None) -> None:
        payload = {"reference": reference, "request_id": request_id}
        if amount is not None:
            payload["amount"] = amount
        with db.transaction() as session:
            engine.enqueue_job(session, "payment.refund", payload, application_id=app.id)

    refund_job("refund-1", 500)
    settle(engine, db)
    assert (payment_rows(db)[0].refunded_amount, payment_rows(db)[0].status) == (500, "refunded")

    # the same request run twice (a worker lost its lease, or it was queued twice): refunded once
    handler = engine.job_handlers["payment.refund"]
    context = JobContext(job_id=99, idempotency_key="job-99", attempt=1, application_id=app.id)
    for _ in range(2):
        handler({"reference": reference, "amount": 200, "request_id": "refund-2"}, context)
    refund_job("refund-2", 200)
    settle(engine, db)
    assert payment_rows(db)[0].refunded_amount == 700
    assert control.payment(reference)["refunded_amount"] == 700
    assert len(control.requests("refund")) == 2

    # the rest, then nothing is left: an incident that says so
    refund_job("refund-3")
    refund_job("refund-4")
    settle(engine, db)
    assert (payment_rows(db)[0].refunded_amount, control.payment(reference)["refunded_amount"]) == (1200, 1200)
    with db.transaction() as session:
        [incident] = engine.incidents(session)
    assert incident.message == f"BadInput: cannot refund 0 JPY of payment {reference}: 0 of 1200 is left to refund"
    assert incident.attempts == 1  # a retry cannot help: an incident at once


# -- the stand-in as a program ---------------------------------------------------------------------

def test_standin_runs_as_a_module():
    process = subprocess.Popen([sys.executable, "-m", "plugins.payment.standin", "--port", "0",
                                "--callback-secret", "s"], stdout=subprocess.PIPE, text=True,
                               cwd=Path(__file__).parents[2])
    try:
        line = process.stdout.readline()
        assert line.startswith("stand-in payment gateway listening on http://127.0.0.1:")
        url = line.rsplit(" ", 1)[1].strip()
        created = httpx.post(f"{url}/v1/payments", json={"amount": 100, "currency": "JPY"},
                             headers={"Idempotency-Key": "k", "X-Merchant-Id": "m"})
        assert created.status_code == 201 and created.json()["payment_url"].startswith(url + "/pay/")
        replayed = httpx.post(f"{url}/v1/payments", json={"amount": 100, "currency": "JPY"},
                              headers={"Idempotency-Key": "k", "X-Merchant-Id": "m"})
        assert replayed.json()["reference"] == created.json()["reference"]
        reused = httpx.post(f"{url}/v1/payments", json={"amount": 999, "currency": "JPY"},
                            headers={"Idempotency-Key": "k", "X-Merchant-Id": "m"})
        assert (reused.status_code, reused.json()["error"]) == (422, "idempotency_key_reused")
        assert len(httpx.get(f"{url}/_control/state").json()["payments"]) == 1
    finally:
        process.terminate()
        assert process.wait(timeout=10) == 0


# -- the command line (engine/cli/payments.py) ------------------------------------------------------

@pytest.fixture
def payment_cli(settings, monkeypatch, control):
    """``madoguchi payment …`` in-process, against the test database."""
    import click
    from click.testing import CliRunner

    from engine.cli import MadoguchiGroup
    from engine.cli.context import CliContext
    from engine.cli.payments import COMMANDS

    @click.group(cls=MadoguchiGroup)
    @click.pass_context
    def madoguchi(ctx: click.Context) -> None:
        ctx.obj = CliContext()

    for command in COMMANDS:
        madoguchi.add_command(command)
    monkeypatch.setenv("MADOGUCHI_HOME", str(settings.home))
    monkeypatch.setenv("MADOGUCHI_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("MADOGUCHI_PLUGINS", "plugins.payment")
    runner = CliRunner()
    return lambda *args: runner.invoke(madoguchi, list(args), catch_exceptions=False)


def test_cli_applies_a_callback_by_hand_lists_and_refunds(engine, db, control, payment_cli, tmp_path):
    control.callbacks(hold=True)  # the gateway's callback never arrives: an operator applies it
    app = submit(engine, db)
    reference = data(engine, db, app.id)["payment_reference"]
    control.pay(data(engine, db, app.id)["payment_url"])
    body = json.dumps({"id": "evt_9", "type": "payment.paid", "data": {
        "reference": reference, "status": "paid", "amount": 1200, "merchant_id": MERCHANT}}).encode()
    (tmp_path / "callback.json").write_bytes(body)

    forged = payment_cli("payment", "callback", "standin", "--body", "@" + str(tmp_path / "callback.json"),
                         "--header", f"Standin-Signature={sign('guessed', body)}")
    assert forged.exit_code == 2
    assert "callback refused: bad signature" in forged.output
    assert tasks(engine, db, app.id) == []

    for outcome in ("applied", "duplicate"):
        result = payment_cli("payment", "callback", "standin", "--body", "@" + str(tmp_path / "callback.json"),
                             "--header", f"Standin-Signature={sign(SECRET, body)}")
        assert (result.exit_code, result.output) == (0, f"payment {reference}: paid ({outcome})\n")
    assert tasks(engine, db, app.id) == ["review"]

    [listed] = json.loads(payment_cli("payment", "list", "--json").output)
    assert (listed["reference"], listed["status"], listed["application_id"]) == (reference, "paid", app.id)
    shown = dict(line.split(":", 1) for line in payment_cli("payment", "show", reference).output.splitlines())
    assert (shown["status"].strip(), shown["amount"].strip()) == ("paid", "1200")
    assert payment_cli("payment", "show", "SP-NOPE").exit_code == 2

    queued = json.loads(payment_cli("payment", "refund", reference, "--amount", "100", "--json").output)
    assert queued["request_id"].startswith("refund-")
    settle(engine, db)
    assert payment_rows(db)[0].refunded_amount == 100
    assert control.payment(reference)["refunded_amount"] == 100
