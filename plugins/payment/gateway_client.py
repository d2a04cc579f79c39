"""The ``standin`` payment provider: an HTTP/JSON client of the stand-in gateway (standin.py).

It speaks the small protocol most card and convenience-store gateways share — create a
payment with an ``Idempotency-Key`` header, send the payer to a URL, receive a signed
callback, refund — so a real gateway's provider is this file with other paths and fields.

Every call has a connect and a read timeout, and every failure becomes a :class:`GatewayError`
whose message tells an administrator what happened (it ends up in the incident). A call that
timed out may have been done by the gateway: it is retried by the job with the same key, and
the gateway answers with what it did the first time.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from dataclasses import dataclass
from datetime import datetime

import httpx

from engine.errors import MadoguchiError
from engine.payments import CallbackRefused, PaymentEvent, PaymentRequest, PaymentSession

SIGNATURE_HEADER = "standin-signature"
#: The stand-in's own names for what happened, as Madoguchi's event statuses.
_EVENT_STATUSES = {"paid": "paid", "failed": "failed", "cancelled": "cancelled", "expired": "cancelled"}


#: 4xx answers that mean "not now" rather than "no": retried like a 5xx.
_TRY_AGAIN = (408, 425, 429)


class GatewayError(MadoguchiError):
    """The gateway could not be reached, did not answer in time, or answered nonsense."""

    retryable = True


class GatewayRefused(GatewayError):
    """The gateway understood the request and said no (a 4xx answer): retrying cannot help,
    so the job becomes an incident at once."""

    retryable = False

    def __init__(self, message: str, status: int, code: str | None):
        super().__init__(message)
        self.status = status
        self.code = code


@dataclass(frozen=True)
class GatewayConfig:
    base_url: str
    merchant_id: str
    api_key: str = ""
    connect_timeout: float = 3.0
    read_timeout: float = 10.0


class GatewayClient:
    """One method per gateway endpoint; answers are checked JSON objects."""

    def __init__(self, config: GatewayConfig, transport: httpx.BaseTransport | None = None):
        self.config = config
        self.transport = transport

    def create_payment(self, body: dict, idempotency_key: str) -> dict:
        return self._call("POST", "/v1/payments", body, idempotency_key)

    def get_payment(self, reference: str) -> dict:
        return self._call("GET", f"/v1/payments/{reference}")

    def cancel_payment(self, reference: str, idempotency_key: str) -> dict:
        return self._call("POST", f"/v1/payments/{reference}/cancel", {}, idempotency_key)

    def refund(self, reference: str, amount: int, idempotency_key: str) -> dict:
        return self._call("POST", f"/v1/payments/{reference}/refunds", {"amount": amount}, idempotency_key)

    def _call(self, method: str, path: str, body: dict | None = None, idempotency_key: str | None = None) -> dict:
        config = self.config
        headers = {"Accept": "application/json", "X-Merchant-Id": config.merchant_id}
        if config.api_key:
            headers["Authorization"] = f"Bearer {config.api_key}"
        if idempotency_key:
            headers["Idempotency-Key"] = idempotency_key
        # The read timeout bounds each wait for bytes; the job's lease bounds the whole call.
        timeout = httpx.Timeout(config.read_timeout, connect=config.connect_timeout)
        what = f"{method} {path}"
        try:
            with httpx.Client(base_url=config.base_url, timeout=timeout, transport=self.transport) as client:
                response = client.request(method, path, json=body, headers=headers)
        except httpx.ConnectTimeout:
            raise GatewayError(f"payment gateway {config.base_url} did not accept a connection within "
                               f"{config.connect_timeout} s ({what})") from None
        except httpx.TimeoutException as exc:
            raise GatewayError(f"payment gateway did not answer {what} within {config.read_timeout} s "
                               f"({type(exc).__name__}); it may have acted — the retry uses the same "
                               "idempotency key") from None
        except httpx.HTTPError as exc:
            raise GatewayError(f"payment gateway {config.base_url} unreachable ({what}): "
                               f"{type(exc).__name__}: {exc}") from None
        return _answer(response, what)


def _answer(response: httpx.Response, what: str) -> dict:
    status = response.status_code
    if status >= 500 or status in _TRY_AGAIN:
        raise GatewayError(f"payment gateway failed {what}: HTTP {status} {_excerpt(response.content)}")
    try:
        body = json.loads(response.content)
    except ValueError as exc:
        raise GatewayError(f"payment gateway answered {what} (HTTP {status}) with malformed JSON ({exc}): "
                           f"{_excerpt(response.content)}") from None
    if not isinstance(body, dict):
        raise GatewayError(f"payment gateway answered {what} with JSON that is not an object: "
                           f"{_excerpt(response.content)}")
    if status >= 400:
        code = body.get("error") if isinstance(body.get("error"), str) else None
        detail = " — ".join(str(part) for part in (code, body.get("message")) if part)
        raise GatewayRefused(f"payment gateway refused {what}: HTTP {status}" + (f" {detail}" if detail else ""),
                             status, code)
    if status >= 300:
        raise GatewayError(f"payment gateway answered {what} with HTTP {status}")
    return body


def _excerpt(content: bytes, limit: int = 120) -> str:
    text = content.decode("utf-8", "replace").strip()
    return repr(text[:limit] + ("…" if len(text) > limit else ""))


def _field(body: dict, name: str, kind: type, what: str):
    value = body.get(name)
    if not isinstance(value, kind) or isinstance(value, bool) or (kind is str and not value):
        raise GatewayError(f"payment gateway answered {what} without a valid {name!r}: {body!r:.200}")
    return value


def _timestamp(value, what: str) -> datetime | None:
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(str(value))
    except ValueError:
        raise GatewayError(f"payment gateway answered {what} with an unreadable time {value!r}") from None
    if parsed.tzinfo is None:
        raise GatewayError(f"payment gateway answered {what} with a time without a time zone: {value!r}")
    return parsed


# -- the provider ---------------------------------------------------------------------------------

class StandinProvider:
    """The ``standin`` payment provider (engine.payments.PaymentProvider)."""

    def __init__(self, settings: dict, transport: httpx.BaseTransport | None = None):
        self.client = GatewayClient(GatewayConfig(
            base_url=str(settings["base_url"]).rstrip("/"), merchant_id=str(settings["merchant_id"]),
            api_key=str(settings["api_key"] or ""), connect_timeout=float(settings["connect_timeout"]),
            read_timeout=float(settings["read_timeout"])), transport)
        self.callback_url = str(settings.get("callback_url") or "")
        self.callback_secret = str(settings.get("callback_secret") or "")
        self.tolerance = float(settings.get("callback_tolerance_seconds") or 300)

    def create_payment(self, request: PaymentRequest, context) -> PaymentSession:
        body = {"merchant_id": self.client.config.merchant_id, "amount": request.amount,
                "currency": request.currency, "description": request.description,
                "order_reference": request.application_reference, "return_url": request.return_url,
                "callback_url": self.callback_url or None, "payer": request.payer,
                "expires_in": request.expires_in_seconds}
        answer = self.client.create_payment({k: v for k, v in body.items() if v is not None},
                                            context.idempotency_key)
        what = "POST /v1/payments"
        reference = _field(answer, "reference", str, what)
        if answer.get("amount") != request.amount:
            raise GatewayError(f"payment gateway opened payment {reference} for {answer.get('amount')!r}, "
                               f"but {request.amount} was asked for")
        return PaymentSession(reference=reference, redirect_url=_field(answer, "payment_url", str, what),
                              expires_at=_timestamp(answer.get("expires_at"), what))

    def cancel_payment(self, reference: str, context) -> str:
        """Cancel an unpaid payment; the status afterwards (``paid`` if the payer was first)."""
        try:
            answer = self.client.cancel_payment(reference, context.idempotency_key)
        except GatewayRefused as exc:
            if exc.code == "already_paid":
                return "paid"
            raise
        return _field(answer, "status", str, f"POST /v1/payments/{reference}/cancel")

    def refund(self, reference: str, amount: int, context) -> dict:
        answer = self.client.refund(reference, amount, context.idempotency_key)
        what = f"POST /v1/payments/{reference}/refunds"
        refund_id = _field(answer, "refund_id", str, what)
        if answer.get("amount") != amount:
            raise GatewayError(f"payment gateway refunded {answer.get('amount')!r} of payment {reference}, "
                               f"but {amount} was asked for")
        return {"refund_id": refund_id}

    def parse_callback(self, body: bytes, headers: dict[str, str]) -> PaymentEvent:
        self._verify(body, headers)
        try:
            event = json.loads(body)
        except ValueError as exc:
            raise CallbackRefused(f"malformed callback body (not JSON: {exc})") from None
        data = event.get("data") if isinstance(event, dict) else None
        if not isinstance(data, dict):
            raise CallbackRefused("malformed callback body: expected {\"type\": …, \"data\": {…}}")
        reference, status, amount = data.get("reference"), data.get("status"), data.get("amount")
        if not isinstance(reference, str) or not reference:
            raise CallbackRefused("malformed callback body: data.reference is missing")
        if status not in _EVENT_STATUSES:
            raise CallbackRefused(f"malformed callback body: unknown status {status!r} for payment {reference}")
        if amount is not None and (not isinstance(amount, int) or isinstance(amount, bool)):
            raise CallbackRefused(f"malformed callback body: amount {amount!r} is not a whole number")
        if data.get("merchant_id") not in (None, self.client.config.merchant_id):
            raise CallbackRefused(f"callback is for merchant {data.get('merchant_id')!r}, "
                                  f"not {self.client.config.merchant_id!r}")
        try:
            paid_at = _timestamp(data.get("paid_at"), "the callback")
        except GatewayError as exc:
            raise CallbackRefused(f"malformed callback body: {exc}") from None
        return PaymentEvent(reference=reference, status=_EVENT_STATUSES[status], amount=amount, paid_at=paid_at,
                            raw=data)

    def _verify(self, body: bytes, headers: dict[str, str]) -> None:
        if not self.callback_secret:
            raise CallbackRefused("callbacks cannot be checked: MADOGUCHI_PAYMENT_CALLBACK_SECRET is not set "
                                  "(set it to the gateway's callback signing secret)")
        header = headers.get(SIGNATURE_HEADER)
        if not header:
            raise CallbackRefused("callback refused: it has no Standin-Signature header")
        parts = dict(part.split("=", 1) for part in header.split(",") if "=" in part)
        try:
            signed_at = int(parts["t"])
            signature = parts["v1"]
        except (KeyError, ValueError):
            raise CallbackRefused(f"callback refused: malformed Standin-Signature header {header!r:.80}") from None
        if abs(time.time() - signed_at) > self.tolerance:
            raise CallbackRefused(f"callback refused: signed {int(time.time() - signed_at)} s ago, more than "
                                  f"{self.tolerance:g} s (a replayed callback, or a clock is wrong)")
        expected = hmac.new(self.callback_secret.encode(), f"{signed_at}.".encode() + body, hashlib.sha256)
        if not hmac.compare_digest(expected.hexdigest(), signature):
            raise CallbackRefused("callback refused: bad signature (forged, altered, or signed with another "
                                  "secret — check MADOGUCHI_PAYMENT_CALLBACK_SECRET)")
