"""Paying fees in the portal, against the stand-in payment gateway (a real HTTP server on
127.0.0.1) whose signed callbacks reach the portal's callback endpoint served over real HTTP
too: pay at submission (after signing), pay after the office fixed the fee (事後決済) from My
Page, a forged callback, a duplicate callback, garbage, and someone else's payment."""

from __future__ import annotations

import json
import threading
import time

import httpx
import pytest
from werkzeug.serving import make_server

from engine.config import Settings
from engine.store.models import utcnow
from plugins.payment.standin import StandinGateway
from plugins.payment.standin import sign as signature_header
from tests.engine.helpers import complete, open_tasks
from tests.plugins.payment_support import GatewayControl, message_rows, payment_rows, settle
from tests.webui.portal_apply_support import page
from tests.webui.portal_pay_sign_support import (
    AFTER,
    SIGNED,
    deploy_both,
    send,
    sign,
    signed_in_applicant,
    trusted_signer,
)

API_KEY = "portal-test-api-key"
SECRET = "portal-test-callback-secret"
MERCHANT = "madoguchi-portal-test"


@pytest.fixture
def settings(database_url, tmp_path) -> Settings:
    return Settings(home=tmp_path, database_url=database_url, job_max_attempts=4, job_backoff_seconds=0.05)


@pytest.fixture
def live(app):
    """The portal served over HTTP on 127.0.0.1, where the gateway posts its callbacks."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)


@pytest.fixture
def control(live, engine, db, monkeypatch, settings) -> GatewayControl:
    trusted_signer(settings.home, monkeypatch)
    with StandinGateway(api_key=API_KEY, callback_secret=SECRET, merchant_id=MERCHANT) as gateway:
        for name, value in {"BASE_URL": gateway.url, "MERCHANT_ID": MERCHANT, "API_KEY": API_KEY,
                            "CALLBACK_SECRET": SECRET, "CALLBACK_URL": f"{live}/payments/callbacks/standin",
                            "RETURN_URL": f"{live}/payments/return"}.items():
            monkeypatch.setenv(f"MADOGUCHI_PAYMENT_{name}", value)
        deploy_both(engine, db)
        yield GatewayControl(gateway.url)


def wait_until(check, timeout: float = 10.0):
    deadline = time.monotonic() + timeout
    while not (found := check()):
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)
    return found


def paid_row(db, reference: str):
    return wait_until(lambda: next((r for r in payment_rows(db) if r.reference == reference and r.status == "paid"),
                                   None))


def checkout(client, reference: str, payment_reference: str):
    return client.get(f"/applications/{reference}/payment/{payment_reference}/checkout")


def test_pay_at_submission_after_signing(engine, db, client, control):
    applicant = signed_in_applicant(engine, db, client)
    response = sign(client, SIGNED, action="development")
    pay_page = response.headers["Location"]
    with db.transaction() as session:
        [application] = engine.applicant_applications(session, applicant)
    assert pay_page.endswith(f"/applications/{application.reference}/payment")
    # The payment is opened by a background job: until then the page says it is being prepared.
    assert 'role="status"' in page(client.get(pay_page)) and not payment_rows(db)
    settle(engine, db)
    [row] = payment_rows(db)
    html = page(client.get(pay_page))
    assert row.amount == 300 and "¥300" in html and "payment-state-created" in html
    assert "¥300" in page(client.get("/mypage"))

    redirected = checkout(client, application.reference, row.reference)
    assert redirected.status_code == 303
    assert redirected.headers["Location"] == row.details["payment_url"]
    gateway_page = httpx.post(redirected.headers["Location"], data={"outcome": "paid"}, timeout=10)
    assert gateway_page.status_code == 303 and gateway_page.headers["Location"].endswith("/payments/return")
    paid_row(db, row.reference)

    back = page(client.get("/payments/return"))
    assert "payment-state-paid" in back and application.reference in back
    assert "¥300" not in page(client.get("/mypage"))
    settle(engine, db)
    assert [t.element_id for t in open_tasks(engine, db, application.id)] == ["review"]
    [delivery] = control.deliveries()
    assert delivery["status"] == 200


def test_pay_after_the_fee_is_fixed_from_my_page(engine, db, client, control):
    applicant = signed_in_applicant(engine, db, client)
    response = send(client, AFTER)
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/procedures/{AFTER}/apply/receipt")
    with db.transaction() as session:
        [application] = engine.applicant_applications(session, applicant)
    assert "portal-after-fee" not in page(client.get("/mypage")).split("<h2>")[1]  # no fee to pay yet

    [task] = open_tasks(engine, db, application.id)
    complete(engine, db, task.id, "clerk", {"fee": 1500})
    settle(engine, db)
    my_page = page(client.get("/mypage"))
    assert "¥1,500" in my_page and f"/applications/{application.reference}/payment" in my_page

    [row] = payment_rows(db)
    redirected = checkout(client, application.reference, row.reference)
    GatewayControl.pay(redirected.headers["Location"])
    paid_row(db, row.reference)
    assert "payment-state-paid" in page(client.get(f"/applications/{application.reference}/payment"))
    assert "¥1,500" not in page(client.get("/mypage"))
    settle(engine, db)
    assert [t.element_id for t in open_tasks(engine, db, application.id)] == ["review"]


def opened_payment(engine, db, client) -> tuple[str, object]:
    applicant = signed_in_applicant(engine, db, client)
    sign(client, SIGNED, action="development")
    settle(engine, db)
    with db.transaction() as session:
        [application] = engine.applicant_applications(session, applicant)
    [row] = payment_rows(db)
    return application.reference, row


def test_a_duplicate_callback_is_applied_once(engine, db, client, control):
    _reference, row = opened_payment(engine, db, client)
    control.callbacks(duplicates=2)
    GatewayControl.pay(row.details["payment_url"])
    paid_row(db, row.reference)
    deliveries = wait_until(lambda: len(control.deliveries()) >= 2 and control.deliveries())
    assert [d["status"] for d in deliveries] == [200, 200]
    assert sorted(json.loads(d["response"])["outcome"] for d in deliveries) == ["applied", "duplicate"]
    assert len(message_rows(db, "payment_completed")) == 1


def test_a_forged_callback_changes_nothing(engine, db, client, control, live):
    _reference, row = opened_payment(engine, db, client)
    # The gateway itself signs with a wrong secret: refused with a 400 that names the signature.
    control.callbacks(bad_signature=True, attempts=1)
    GatewayControl.pay(row.details["payment_url"])
    [delivery] = wait_until(control.deliveries)
    assert delivery["status"] == 400 and "signature" in json.loads(delivery["response"])["error"]
    body = json.dumps({"id": "evt_forged", "type": "payment.paid", "created": int(time.time()),
                       "data": {"reference": row.reference, "merchant_id": MERCHANT, "status": "paid",
                                "amount": 300, "currency": "JPY", "paid_at": utcnow().isoformat()}}).encode()
    forged = httpx.post(f"{live}/payments/callbacks/standin", content=body, timeout=10,
                        headers={"Standin-Signature": signature_header("not-the-secret", body),
                                 "Content-Type": "application/json"})
    assert forged.status_code == 400 and "signature" in forged.json()["error"]
    unsigned = httpx.post(f"{live}/payments/callbacks/standin", content=body, timeout=10)
    assert unsigned.status_code == 400
    [unchanged] = payment_rows(db)
    assert unchanged.status == "created" and message_rows(db, "payment_completed") == []

    # The provider's retry with the right secret is accepted: no cookie or CSRF token needed.
    genuine = httpx.post(f"{live}/payments/callbacks/standin", content=body, timeout=10,
                         headers={"Standin-Signature": signature_header(SECRET, body)})
    assert genuine.status_code == 200 and genuine.json()["outcome"] == "applied"


@pytest.mark.parametrize(("path", "body", "status"), [
    ("/payments/callbacks/standin", b"\xff\xfe garbage", 400),
    ("/payments/callbacks/standin", b"{\"data\": []}", 400),
    ("/payments/callbacks/standin", b"", 400),
    ("/payments/callbacks/no-such-provider", b"{}", 404),
])
def test_garbage_callbacks_get_a_clear_4xx(client, control, path, body, status):
    response = client.post(path, data=body, headers={"Standin-Signature": "t=1,v1=00"})
    assert response.status_code == status and response.get_json()["error"]


def test_someone_elses_payment_is_not_found(engine, db, client, control, app):
    reference, row = opened_payment(engine, db, client)
    other = app.test_client()
    signed_in_applicant(engine, db, other, email="ichiro@example.jp")
    assert other.get(f"/applications/{reference}/payment").status_code == 404
    assert checkout(other, reference, row.reference).status_code == 404
    assert app.test_client().get(f"/applications/{reference}/payment").status_code == 404
