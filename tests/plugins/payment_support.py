"""Helpers of the payment tests: the callback receiver, the stand-in's controls, running jobs.

The receiver stands in for the web endpoint that comes with the web UI: a real HTTP server
on 127.0.0.1 that hands each callback to ``engine.payments.handle_callback`` inside a
transaction and answers 2xx only after the commit — so the gateway retries what failed.
"""

from __future__ import annotations

import json
import threading
import time
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
from sqlalchemy import or_, select

from engine.errors import BadInput, NotFound
from engine.payments import handle_callback
from engine.store.models import Job, Message, Payment, utcnow


class CallbackReceiver:
    """POST /payments/callbacks/<provider> → handle_callback; every answer is kept in ``answers``."""

    def __init__(self, engine, db):
        self.engine, self.db = engine, db
        self.answers: list[tuple[int, dict]] = []
        self._lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _ReceiverHandler)
        self.server.daemon_threads = True
        self.server.receiver = self
        self._thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="callback-receiver", daemon=True)

    def url(self, provider: str = "standin") -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}/payments/callbacks/{provider}"

    def receive(self, provider: str, body: bytes, headers: dict) -> tuple[int, dict]:
        try:
            with self.db.transaction() as session:
                event = handle_callback(self.engine, session, provider, body, headers)
            answer = 200, {"reference": event.reference, "outcome": event.outcome}
        except NotFound as exc:
            answer = 404, {"error": str(exc)}
        except BadInput as exc:
            answer = 400, {"error": str(exc)}
        except Exception as exc:  # noqa: BLE001 — answered 500, so the gateway tries again
            answer = 500, {"error": f"{type(exc).__name__}: {exc}"}
        with self._lock:
            self.answers.append(answer)
        return answer

    def __enter__(self) -> CallbackReceiver:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()
        self._thread.join(timeout=10)


class _ReceiverHandler(BaseHTTPRequestHandler):
    def log_message(self, format, *args) -> None:  # noqa: A002
        pass

    def do_POST(self) -> None:
        prefix = "/payments/callbacks/"
        if not self.path.startswith(prefix):
            self._answer(404, {"error": "not found"})
            return
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self._answer(*self.server.receiver.receive(self.path[len(prefix):], body, dict(self.headers.items())))

    def _answer(self, status: int, body: dict) -> None:
        content = json.dumps(body, ensure_ascii=False).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(content)))
        self.end_headers()
        self.wfile.write(content)


class GatewayControl:
    """The stand-in gateway's test controls and its applicant page, over HTTP."""

    def __init__(self, base_url: str):
        self.base_url = base_url

    def _post(self, path: str, body: dict | None = None) -> httpx.Response:
        response = httpx.post(self.base_url + path, json=body or {}, timeout=10)
        response.raise_for_status()
        return response

    def fault(self, operation: str, kind: str, **options) -> None:
        self._post("/_control/faults", {"operation": operation, "kind": kind, **options})

    def clear_faults(self) -> None:
        self._post("/_control/faults/clear")

    def callbacks(self, **options) -> None:
        self._post("/_control/callbacks", options)

    def release_callbacks(self) -> None:
        self._post("/_control/callbacks/release")

    def ttl(self, seconds: float) -> None:
        self._post("/_control/settings", {"ttl_seconds": seconds})

    def state(self) -> dict:
        return httpx.get(self.base_url + "/_control/state", timeout=10).json()

    def requests(self, operation: str) -> list[dict]:
        return [r for r in self.state()["requests"] if r["operation"] == operation]

    def payment(self, reference: str) -> dict:
        [payment] = [p for p in self.state()["payments"] if p["reference"] == reference]
        return payment

    def deliveries(self) -> list[dict]:
        return self.state()["callbacks"]

    @staticmethod
    def pay(payment_url: str, outcome: str = "paid") -> httpx.Response:
        """The applicant, on the page the application sent them to."""
        return httpx.post(payment_url, json={"outcome": outcome}, timeout=10)


# -- running jobs and reading the database --------------------------------------------------------

def settle(engine, db, *, horizon: float = 3.0, timeout: float = 30.0) -> int:
    """Run ``worker.run_once()`` passes until no job is running or due within ``horizon``
    seconds (so retries after their backoff, and short timers, are included; a payment's
    30-minute expiry timer is not). Returns how many jobs were applied."""
    worker = engine.worker(db)
    applied = 0
    deadline = time.monotonic() + timeout
    while True:
        applied += worker.run_once()
        soon = utcnow() + timedelta(seconds=horizon)
        with db.transaction() as session:
            waiting = session.scalars(select(Job.id).where(or_(
                Job.status == "running", (Job.status == "pending") & (Job.due_at <= soon)))).first()
        if waiting is None:
            return applied
        assert time.monotonic() < deadline, f"jobs still due after {timeout} s"
        time.sleep(0.02)


def payment_rows(db) -> list[Payment]:
    with db.transaction() as session:
        rows = list(session.scalars(select(Payment).order_by(Payment.id)))
        session.expunge_all()
    return rows


def message_rows(db, name: str | None = None) -> list[Message]:
    with db.transaction() as session:
        query = select(Message).order_by(Message.id)
        if name:
            query = query.where(Message.name == name)
        rows = list(session.scalars(query))
        session.expunge_all()
    return rows
