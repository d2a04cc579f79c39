"""A stand-in payment gateway for tests and the demo — never for real money.

    python -m plugins.payment.standin --port 8090 [--host 127.0.0.1] [--api-key KEY]
        [--callback-secret SECRET] [--callback-url URL] [--merchant-id ID] [--ttl SECONDS]

Options default to the plugin's settings in the environment (``MADOGUCHI_PAYMENT_API_KEY``,
``MADOGUCHI_PAYMENT_CALLBACK_SECRET``, ``MADOGUCHI_PAYMENT_CALLBACK_URL``,
``MADOGUCHI_PAYMENT_MERCHANT_ID``), so one set of variables configures both sides.

It behaves like a small card gateway:

- ``POST /v1/payments`` (``Idempotency-Key`` required): opens a payment and answers its
  ``reference``, ``payment_url`` and ``expires_at``; the same key again answers the same payment.
- ``GET /pay/<ref>``: the page the applicant is sent to; ``POST /pay/<ref>`` with
  ``{"outcome": "paid"|"failed"}`` (JSON or a form) pays — tests play the applicant here.
  The gateway then POSTs a signed callback (header ``Standin-Signature: t=<unix>,v1=<hex
  HMAC-SHA256 of "<t>." + body>``) to the payment's callback URL, retrying until it gets a 2xx.
- ``GET /v1/payments/<ref>``, ``POST /v1/payments/<ref>/cancel`` (unpaid only; 409
  ``already_paid``), ``POST /v1/payments/<ref>/refunds`` ``{"amount": n}`` (idempotent by key).

Test controls (no authentication — never expose this server):

- ``POST /_control/faults`` ``{"operation": "create"|"get"|"cancel"|"refund"|"any", "kind":
  "error"|"delay"|"malformed"|"drop", "times": 1, "status": 503, "seconds": 1.0}``: the next
  ``times`` matching calls fail. ``error`` answers ``status`` without acting; ``delay`` acts,
  then answers ``seconds`` late; ``malformed`` acts, then answers broken JSON; ``drop`` acts,
  then closes the connection without an answer. ``POST /_control/faults/clear`` forgets them.
- ``POST /_control/callbacks`` ``{"duplicates": n, "bad_signature": bool, "attempts": n,
  "backoff": s, "hold": bool}``; ``POST /_control/callbacks/release`` sends held callbacks.
- ``POST /_control/settings`` ``{"ttl_seconds": s}``; ``POST /_control/reset``;
  ``GET /_control/state``: payments, API requests seen, callback deliveries.
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import html
import json
import logging
import os
import secrets
import signal
import sys
import threading
import time
from contextlib import suppress
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import httpx

log = logging.getLogger("madoguchi.payment.standin")

FAULT_KINDS = ("error", "delay", "malformed", "drop")
OPERATIONS = ("create", "get", "cancel", "refund")


class _Refused(Exception):
    """An API error answer: HTTP status, error code, message."""

    def __init__(self, status: int, code: str, message: str):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def _now() -> datetime:
    return datetime.now(UTC)


def sign(secret: str, body: bytes, timestamp: int | None = None) -> str:
    """The value of the Standin-Signature header for ``body``."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


class StandinGateway:
    """The gateway's state and behaviour; an HTTP server in front (``start()``/``close()``)."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0, *, api_key: str = "", callback_secret: str = "",
                 callback_url: str = "", merchant_id: str = "", ttl_seconds: float = 1800.0,
                 public_url: str | None = None):
        self.api_key = api_key
        self.callback_secret = callback_secret
        self.callback_url = callback_url
        self.merchant_id = merchant_id
        self.ttl_seconds = ttl_seconds
        self._lock = threading.RLock()
        self.server = ThreadingHTTPServer((host, port), _Handler)
        self.server.daemon_threads = True
        self.server.gateway = self
        self.public_url = (public_url or self.url).rstrip("/")
        self._serving: threading.Thread | None = None
        self._senders: list[threading.Thread] = []
        self.reset()

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def reset(self) -> None:
        with self._lock:
            self.payments: dict[str, dict] = {}
            #: (operation, idempotency key) → (request fingerprint, answer)
            self.replies: dict[tuple[str, str], tuple[str, dict]] = {}
            self.faults: list[dict] = []
            self.requests: list[dict] = []
            self.deliveries: list[dict] = []
            self.held: list[tuple[str, dict]] = []
            self.callback_options = {"duplicates": 1, "bad_signature": False, "attempts": 5, "backoff": 0.2,
                                     "hold": False}

    # -- running ----------------------------------------------------------------------------

    def start(self) -> StandinGateway:
        # A short poll interval: close() (shutdown) waits up to one interval.
        self._serving = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05},
                                         name="standin-gateway", daemon=True)
        self._serving.start()
        return self

    def close(self) -> None:
        if self._serving is not None:
            self.server.shutdown()
            self._serving.join(timeout=10)
        self.server.server_close()
        for sender in list(self._senders):
            sender.join(timeout=10)

    def __enter__(self) -> StandinGateway:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.close()

    # -- test controls ----------------------------------------------------------------------

    def add_fault(self, operation: str = "any", kind: str = "error", times: int = 1, status: int = 503,
                  seconds: float = 1.0) -> None:
        if operation not in (*OPERATIONS, "any") or kind not in FAULT_KINDS:
            raise _Refused(400, "bad_fault", f"operation one of {OPERATIONS} or 'any', kind one of {FAULT_KINDS}")
        with self._lock:
            self.faults.append({"operation": operation, "kind": kind, "times": int(times), "status": int(status),
                                "seconds": float(seconds)})

    def set_callbacks(self, **options) -> None:
        unknown = set(options) - set(self.callback_options)
        if unknown:
            raise _Refused(400, "bad_option", f"unknown callback options: {sorted(unknown)}")
        with self._lock:
            self.callback_options.update(options)

    def release_callbacks(self) -> int:
        with self._lock:
            held, self.held = self.held, []
            self.callback_options["hold"] = False
        for url, event in held:
            self._dispatch(url, event)
        return len(held)

    def state(self) -> dict:
        with self._lock:
            return json.loads(json.dumps({"payments": list(self.payments.values()), "requests": self.requests,
                                          "callbacks": self.deliveries, "faults": self.faults,
                                          "held": len(self.held)}))

    def _take_fault(self, operation: str) -> dict | None:
        with self._lock:
            for fault in self.faults:
                if fault["operation"] in (operation, "any") and fault["times"] > 0:
                    fault["times"] -= 1
                    return dict(fault)
        return None

    # -- the API ------------------------------------------------------------------------------

    def create(self, body: dict, key: str | None, merchant: str) -> dict:
        if not key:
            raise _Refused(400, "idempotency_key_required", "send an Idempotency-Key header")
        amount, currency = body.get("amount"), body.get("currency", "JPY")
        if not isinstance(amount, int) or isinstance(amount, bool) or amount <= 0:
            raise _Refused(400, "bad_amount", f"amount must be a whole number above 0, got {amount!r}")
        if not isinstance(currency, str) or len(currency) != 3:
            raise _Refused(400, "bad_currency", f"currency must be a 3-letter code, got {currency!r}")
        expires_in = body.get("expires_in") or self.ttl_seconds
        fingerprint = json.dumps([merchant, amount, currency, body.get("order_reference")])
        with self._lock:
            replay = self._replay("create", key, fingerprint)
            if replay is not None:
                return replay
            reference = "SP-" + secrets.token_hex(6).upper()
            now = _now()
            payment = {"reference": reference, "merchant_id": merchant, "amount": amount, "currency": currency,
                       "description": str(body.get("description") or ""),
                       "order_reference": body.get("order_reference"), "status": "created",
                       "payment_url": f"{self.public_url}/pay/{reference}", "return_url": body.get("return_url"),
                       "callback_url": body.get("callback_url"), "created_at": now.isoformat(),
                       "expires_at": (now + timedelta(seconds=float(expires_in))).isoformat(),
                       "paid_at": None, "refunded_amount": 0, "refunds": []}
            self.payments[reference] = payment
            return self._remember("create", key, fingerprint, self._public(payment))

    def get(self, reference: str, merchant: str) -> dict:
        with self._lock:
            return self._public(self._payment(reference, merchant))

    def cancel(self, reference: str, merchant: str) -> dict:
        with self._lock:
            payment = self._payment(reference, merchant)
            if payment["status"] in ("paid", "refunded"):
                raise _Refused(409, "already_paid", f"payment {reference} is already paid")
            if payment["status"] == "created":
                payment["status"] = "cancelled"
            return self._public(payment)

    def refund(self, reference: str, body: dict, key: str | None, merchant: str) -> dict:
        if not key:
            raise _Refused(400, "idempotency_key_required", "send an Idempotency-Key header")
        amount = body.get("amount")
        with self._lock:
            payment = self._payment(reference, merchant)
            replay = self._replay("refund", key, json.dumps([reference, amount]))
            if replay is not None:
                return replay
            if payment["status"] not in ("paid", "refunded"):
                raise _Refused(409, "not_paid", f"payment {reference} is {payment['status']}")
            left = payment["amount"] - payment["refunded_amount"]
            if not isinstance(amount, int) or isinstance(amount, bool) or not 0 < amount <= left:
                raise _Refused(409, "bad_amount", f"cannot refund {amount!r}: {left} is left to refund")
            refund = {"refund_id": "RF-" + secrets.token_hex(6).upper(), "amount": amount,
                      "created_at": _now().isoformat()}
            payment["refunds"].append(refund)
            payment["refunded_amount"] += amount
            if payment["refunded_amount"] == payment["amount"]:
                payment["status"] = "refunded"
            return self._remember("refund", key, json.dumps([reference, amount]),
                                  {**refund, "payment": self._public(payment)})

    def pay(self, reference: str, outcome: str) -> dict:
        """The applicant pays (or their card is declined); the callback follows."""
        if outcome not in ("paid", "failed"):
            raise _Refused(400, "bad_outcome", "outcome must be 'paid' or 'failed'")
        with self._lock:
            payment = self.payments.get(reference)
            if payment is None:
                raise _Refused(404, "not_found", f"no payment {reference}")
            if payment["status"] == "created" and datetime.fromisoformat(payment["expires_at"]) < _now():
                payment["status"] = "expired"
            if payment["status"] != "created":
                raise _Refused(409, payment["status"], f"payment {reference} is {payment['status']}")
            payment["status"] = outcome
            if outcome == "paid":
                payment["paid_at"] = _now().isoformat()
            else:
                payment["failure_reason"] = "card_declined"
            event = {"id": "evt_" + secrets.token_hex(8), "type": f"payment.{outcome}", "created": int(time.time()),
                     "data": {k: payment.get(k) for k in ("reference", "merchant_id", "status", "amount", "currency",
                                                           "paid_at", "order_reference", "failure_reason")}}
            url = payment["callback_url"] or self.callback_url
            public = self._public(payment)
            if url and self.callback_options["hold"]:
                self.held.append((url, event))
                url = ""
            elif not url:
                self.deliveries.append({"event_id": event["id"], "reference": reference, "attempt": 0,
                                        "status": None, "response": "no callback URL configured"})
        if url:
            self._dispatch(url, event)
        return public

    def _payment(self, reference: str, merchant: str) -> dict:
        payment = self.payments.get(reference)
        if payment is None or payment["merchant_id"] != merchant:
            raise _Refused(404, "not_found", f"no payment {reference} for merchant {merchant!r}")
        return payment

    def _replay(self, operation: str, key: str, fingerprint: str) -> dict | None:
        stored = self.replies.get((operation, key))
        if stored is None:
            return None
        if stored[0] != fingerprint:
            raise _Refused(422, "idempotency_key_reused", f"Idempotency-Key {key!r} was used for another request")
        answer = json.loads(json.dumps(stored[1]))
        if operation == "create":  # the payment as it is now, not as it was
            answer = self._public(self.payments[answer["reference"]])
        return answer

    def _remember(self, operation: str, key: str, fingerprint: str, answer: dict) -> dict:
        self.replies[(operation, key)] = (fingerprint, answer)
        return json.loads(json.dumps(answer))

    @staticmethod
    def _public(payment: dict) -> dict:
        return {k: v for k, v in payment.items() if k not in ("callback_url",)}

    # -- callbacks ----------------------------------------------------------------------------

    def _dispatch(self, url: str, event: dict) -> None:
        with self._lock:
            options = dict(self.callback_options)
        # Duplicates go out together, as a gateway with two senders would send them.
        for _ in range(max(1, int(options["duplicates"]))):
            sender = threading.Thread(target=self._send, args=(url, event, options), name="standin-callback",
                                      daemon=True)
            with self._lock:
                self._senders = [t for t in self._senders if t.is_alive()] + [sender]
            sender.start()

    def _send(self, url: str, event: dict, options: dict) -> None:
        body = json.dumps(event, ensure_ascii=False).encode()
        secret = self.callback_secret + ("-wrong" if options["bad_signature"] else "")
        for attempt in range(1, int(options["attempts"]) + 1):
            headers = {"Content-Type": "application/json", "Standin-Signature": sign(secret, body),
                       "Standin-Event-Id": event["id"]}
            try:
                response = httpx.post(url, content=body, headers=headers, timeout=10.0)
                status, text = response.status_code, response.text[:500]
            except httpx.HTTPError as exc:
                status, text = None, f"{type(exc).__name__}: {exc}"
            with self._lock:
                self.deliveries.append({"event_id": event["id"], "reference": event["data"]["reference"],
                                        "type": event["type"], "attempt": attempt, "status": status,
                                        "response": text})
            if status is not None and 200 <= status < 300:
                return
            time.sleep(float(options["backoff"]) * 2 ** (attempt - 1))
        log.warning("callback %s to %s not accepted after %s attempts", event["id"], url, options["attempts"])


class _Handler(BaseHTTPRequestHandler):
    server_version = "StandinGateway/1"

    @property
    def gateway(self) -> StandinGateway:
        return self.server.gateway

    def log_message(self, format, *args) -> None:  # noqa: A002 — the base class's name
        log.debug("%s " + format, self.address_string(), *args)

    def do_GET(self) -> None:
        self._route("GET")

    def do_POST(self) -> None:
        self._route("POST")

    def _route(self, method: str) -> None:
        path = urlsplit(self.path).path.rstrip("/")
        parts = path.strip("/").split("/")
        try:
            if parts[0] == "_control":
                self._control(method, parts[1:])
            elif parts[0] == "pay" and len(parts) == 2:
                self._pay_page(method, parts[1])
            elif parts[:2] == ["v1", "payments"]:
                self._api(method, parts[2:])
            else:
                raise _Refused(404, "not_found", f"no such endpoint: {method} {path}")
        except _Refused as exc:
            self._json(exc.status, {"error": exc.code, "message": exc.message})

    # -- the merchant API ----------------------------------------------------------------------

    def _api(self, method: str, rest: list[str]) -> None:
        gateway = self.gateway
        if gateway.api_key and not hmac.compare_digest(self.headers.get("Authorization", ""),
                                                       f"Bearer {gateway.api_key}"):
            raise _Refused(401, "unauthorized", "missing or wrong API key")
        merchant = self.headers.get("X-Merchant-Id") or gateway.merchant_id
        key = self.headers.get("Idempotency-Key")
        if method == "POST" and not rest:
            operation, act = "create", lambda body: gateway.create(body, key, merchant)
        elif method == "GET" and len(rest) == 1:
            operation, act = "get", lambda body: gateway.get(rest[0], merchant)
        elif method == "POST" and len(rest) == 2 and rest[1] == "cancel":
            operation, act = "cancel", lambda body: gateway.cancel(rest[0], merchant)
        elif method == "POST" and len(rest) == 2 and rest[1] == "refunds":
            operation, act = "refund", lambda body: gateway.refund(rest[0], body, key, merchant)
        else:
            raise _Refused(404, "not_found", f"no such endpoint: {method} /v1/payments/{'/'.join(rest)}")
        body = self._body_json() if method == "POST" else {}
        fault = gateway._take_fault(operation)
        with gateway._lock:
            gateway.requests.append({"operation": operation, "idempotency_key": key,
                                     "fault": fault["kind"] if fault else None})
        if fault and fault["kind"] == "error":
            self._json(fault["status"], {"error": "unavailable", "message": "injected failure"})
            return
        answer = act(body)
        status = 201 if operation in ("create", "refund") else 200
        if fault and fault["kind"] == "delay":
            time.sleep(fault["seconds"])
        elif fault and fault["kind"] == "malformed":
            self._raw(200, b'{"reference": "' + answer.get("reference", "").encode() + b'", "payment_url": ',
                      "application/json")
            return
        elif fault and fault["kind"] == "drop":
            self.close_connection = True
            return
        self._json(status, answer)

    # -- the applicant's page --------------------------------------------------------------------

    def _pay_page(self, method: str, reference: str) -> None:
        gateway = self.gateway
        if method == "GET":
            with gateway._lock:
                payment = gateway.payments.get(reference)
                if payment is None:
                    raise _Refused(404, "not_found", f"no payment {reference}")
                payment = dict(payment)
            self._raw(200, _PAGE.format(reference=html.escape(reference), amount=payment["amount"],
                                        currency=html.escape(payment["currency"]),
                                        description=html.escape(payment["description"]),
                                        status=html.escape(payment["status"])).encode(), "text/html; charset=utf-8")
            return
        is_form = self.headers.get("Content-Type", "").startswith("application/x-www-form-urlencoded")
        if is_form:
            fields = parse_qs(self._body().decode())
            outcome = (fields.get("outcome") or [""])[0]
        else:
            outcome = self._body_json().get("outcome", "paid")
        payment = gateway.pay(reference, outcome)
        if is_form and payment.get("return_url"):
            self.send_response(303)
            self.send_header("Location", payment["return_url"])
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        self._json(200, payment)

    # -- test controls ----------------------------------------------------------------------------

    def _control(self, method: str, rest: list[str]) -> None:
        gateway = self.gateway
        if method == "GET" and rest == ["state"]:
            self._json(200, gateway.state())
            return
        if method != "POST":
            raise _Refused(404, "not_found", "control endpoints: POST faults|callbacks|settings|reset, GET state")
        body = self._body_json()
        if rest == ["faults"]:
            gateway.add_fault(**body)
        elif rest == ["faults", "clear"]:
            with gateway._lock:
                gateway.faults = []
        elif rest == ["callbacks"]:
            gateway.set_callbacks(**body)
        elif rest == ["callbacks", "release"]:
            gateway.release_callbacks()
        elif rest == ["settings"]:
            gateway.ttl_seconds = float(body.get("ttl_seconds", gateway.ttl_seconds))
        elif rest == ["reset"]:
            gateway.reset()
        else:
            raise _Refused(404, "not_found", f"no control endpoint {'/'.join(rest)}")
        self._json(200, {"ok": True})

    # -- plumbing -------------------------------------------------------------------------------

    def _body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _body_json(self) -> dict:
        raw = self._body()
        if not raw:
            return {}
        try:
            body = json.loads(raw)
        except ValueError:
            raise _Refused(400, "bad_json", "the request body is not JSON") from None
        if not isinstance(body, dict):
            raise _Refused(400, "bad_json", "the request body must be a JSON object")
        return body

    def _json(self, status: int, body: dict) -> None:
        self._raw(status, json.dumps(body, ensure_ascii=False).encode(), "application/json")

    def _raw(self, status: int, content: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(content)))
        self.end_headers()
        # The client may have given up waiting (a "delay" fault): carry on, as a real server would.
        with suppress(BrokenPipeError, ConnectionResetError):
            self.wfile.write(content)


_PAGE = """<!doctype html>
<html lang="ja"><head><meta charset="utf-8"><title>お支払い（テスト用）</title></head>
<body>
<h1>お支払い（テスト用の代替決済画面）</h1>
<p>{description}</p>
<p>金額: {amount} {currency} — 状態: {status} — 決済番号: {reference}</p>
<form method="post"><button name="outcome" value="paid">支払う</button>
<button name="outcome" value="failed">カードが拒否された</button></form>
</body></html>
"""


def _interrupt(*_args) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    env = os.environ.get
    parser = argparse.ArgumentParser(prog="python -m plugins.payment.standin", description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8090, help="0: any free port (printed)")
    parser.add_argument("--api-key", default=env("MADOGUCHI_PAYMENT_API_KEY", ""))
    parser.add_argument("--callback-secret", default=env("MADOGUCHI_PAYMENT_CALLBACK_SECRET", ""))
    parser.add_argument("--callback-url", default=env("MADOGUCHI_PAYMENT_CALLBACK_URL", ""))
    parser.add_argument("--merchant-id", default=env("MADOGUCHI_PAYMENT_MERCHANT_ID", "madoguchi"))
    parser.add_argument("--ttl", type=float, default=1800.0, help="seconds a payment stays payable")
    parser.add_argument("--public-url", default=None, help="base of the payment URLs (default: the listen address)")
    args = parser.parse_args(argv)
    if not args.callback_secret:
        print("warning: no --callback-secret: callbacks are signed with an empty secret", file=sys.stderr)
    gateway = StandinGateway(args.host, args.port, api_key=args.api_key, callback_secret=args.callback_secret,
                             callback_url=args.callback_url, merchant_id=args.merchant_id, ttl_seconds=args.ttl,
                             public_url=args.public_url)
    signal.signal(signal.SIGTERM, _interrupt)  # SIGTERM stops it like Ctrl-C does
    print(f"stand-in payment gateway listening on {gateway.url}", flush=True)
    try:
        gateway.server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        gateway.server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
