"""HTTP/JSON client of the resident records (住民記録) system, and the errors it raises.

The client makes exactly one request per call and never retries: a service task's job is
retried by the job runner, with backoff, persistently and visibly (docs/jobs.md). What it
does is turn everything that can go wrong into an exception whose text an administrator can
act on, because that text becomes the incident's message.

Messages name fields, paths and status codes but never echo resident data: incidents and the
audit trail are read by administrators who have no business seeing a resident's birth date.
Bodies of error answers are only quoted when they are short system messages.

The API spoken here (and served by ``plugins.resident_records.standin``), relative to the
base URL:

- ``POST /residents/search`` ``{"criteria": {CORE_FIELD: value}}`` → ``{"residents": [...], "total": n}``;
- ``GET /jpki/<serial>/resident`` → ``{"resident": {...}}``, or 404 ``{"error": "resident_not_found"}``;
- ``POST /residents/<宛名番号>/changes`` with ``Idempotency-Key`` ``{"kind", "effective_date", "fields"}``
  → 201 ``{"change": {"change_id", "accepted_at", ...}}``; a replay answers the first result
  again with ``Idempotent-Replayed: true``.
"""

from __future__ import annotations

import json
import re
import ssl
from functools import cached_property
from urllib.parse import quote

import httpx

from engine.errors import BadInput, MadoguchiError
from engine.plugins import setting_variable

PLUGIN = "plugins.resident_records"
#: Answers larger than this are refused rather than parsed (a search never needs more).
MAX_ANSWER_BYTES = 2 * 1024 * 1024
#: How much of a short, non-JSON error body (a proxy's HTML page) is quoted in a message.
SNIPPET_CHARS = 120
#: The error code the core system uses for "no such resident" (a normal answer, not a failure).
NOT_FOUND_CODE = "resident_not_found"


# -- errors ------------------------------------------------------------------------------------

class CoreSystemError(MadoguchiError):
    """Talking to the resident records system failed."""


class CoreSystemUnavailable(CoreSystemError):
    """The system could not be reached or answered 5xx/429: trying again later may work."""

    retryable = True


class CoreSystemTimeout(CoreSystemUnavailable):
    """No connection or no answer within the configured timeout."""


class CoreSystemRejected(CoreSystemError):
    """The system refused the request (4xx): repeating it unchanged will not help."""

    def __init__(self, message: str, status: int, code: str | None = None):
        super().__init__(message)
        self.status, self.code = status, code


class UnexpectedAnswer(CoreSystemError):
    """The answer came but is not what the API promises (not JSON, fields missing …)."""

    def __init__(self, detail: str):
        super().__init__(f"the core system's answer is not what was expected: {detail}")


class InvalidParameters(BadInput):
    """The service task passed parameters the operation cannot use (fix the diagram)."""


class ConfigurationError(MadoguchiError):
    """A setting is missing or wrong (fix the environment, then retry the incident)."""


def variable(name: str) -> str:
    """The environment variable of one of this plugin's settings, for messages."""
    return setting_variable(PLUGIN, name)


# -- the client --------------------------------------------------------------------------------

class ResidentRecordsClient:
    """One request per call; a fresh connection per call.

    A new ``httpx.Client`` per call costs a TCP (and TLS) handshake, which is little next to a
    job's round trip through the database, and means no connection pool has to survive forked
    worker processes or be closed when an Engine goes away. The TLS settings (CA bundle, which
    honours SSL_CERT_FILE) are loaded once, though: that is the slow part of making a client.
    """

    def __init__(self, base_url: str, token: str = "", *, connect_timeout: float = 3.0,
                 read_timeout: float = 10.0, transport: httpx.BaseTransport | None = None):
        if not base_url:
            raise ConfigurationError(f"the resident records system's base URL is not set: set {variable('base_url')}")
        if not base_url.startswith(("http://", "https://")):
            raise ConfigurationError(f"{variable('base_url')} must be an http:// or https:// URL")
        if connect_timeout <= 0 or read_timeout <= 0:
            raise ConfigurationError(f"{variable('connect_timeout')} and {variable('read_timeout')} must be "
                                     "positive numbers of seconds")
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.connect_timeout, self.read_timeout = float(connect_timeout), float(read_timeout)
        self.transport = transport

    @cached_property
    def _tls(self) -> ssl.SSLContext:
        return httpx.create_ssl_context()

    # -- calls ----------------------------------------------------------------------------

    def search(self, criteria: dict, *, request_id: str) -> tuple[list[dict], int]:
        """Residents matching ``criteria`` (core field names) and how many matched in all."""
        where = "POST /residents/search"
        answer = _object(self._call("POST", "/residents/search", where, {"criteria": criteria}, request_id), where)
        residents = answer.get("residents")
        if not isinstance(residents, list) or not all(isinstance(r, dict) for r in residents):
            raise UnexpectedAnswer(f"{where}: 'residents' is missing or not a list of records")
        total = answer.get("total", len(residents))
        if not isinstance(total, int) or isinstance(total, bool) or total < len(residents):
            raise UnexpectedAnswer(f"{where}: 'total' is not a whole number of at least {len(residents)}")
        return residents, total

    def by_jpki_serial(self, serial: str, *, request_id: str) -> dict | None:
        """The resident a JPKI certificate serial number belongs to, or None."""
        path = f"/jpki/{quote(serial, safe='')}/resident"
        where = "GET /jpki/<serial>/resident"  # the serial identifies a person: not in messages
        try:
            answer = _object(self._call("GET", path, where, None, request_id), where)
        except CoreSystemRejected as rejected:
            if rejected.status == 404 and rejected.code == NOT_FOUND_CODE:
                return None
            raise
        resident = answer.get("resident")
        if not isinstance(resident, dict):
            raise UnexpectedAnswer(f"{where}: 'resident' is missing or not a record")
        return resident

    def notify_change(self, resident_id: str, change: dict, *, idempotency_key: str) -> tuple[dict, bool]:
        """Send one change; returns the system's receipt and whether it was a replay.

        The idempotency key makes a retried notification (the first one arrived but its answer
        did not) return the first receipt instead of applying the change twice.
        """
        path = f"/residents/{quote(resident_id, safe='')}/changes"
        where = "POST /residents/<id>/changes"
        response = self._send("POST", path, where, change, request_id=idempotency_key,
                              extra={"Idempotency-Key": idempotency_key})
        answer = _object(self._parse(response, where), where)
        receipt = answer.get("change")
        if not isinstance(receipt, dict) or not isinstance(receipt.get("change_id"), str):
            raise UnexpectedAnswer(f"{where}: 'change' with a 'change_id' is missing")
        return receipt, response.headers.get("Idempotent-Replayed", "").lower() == "true"

    # -- one request ----------------------------------------------------------------------

    def _call(self, method: str, path: str, where: str, body: dict | None, request_id: str) -> object:
        return self._parse(self._send(method, path, where, body, request_id=request_id), where)

    def _send(self, method: str, path: str, where: str, body: dict | None, *, request_id: str,
              extra: dict | None = None) -> httpx.Response:
        headers = {"Accept": "application/json", "X-Request-Id": request_id, **(extra or {})}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        timeout = httpx.Timeout(connect=self.connect_timeout, read=self.read_timeout, write=self.read_timeout,
                                pool=self.connect_timeout)
        try:
            with httpx.Client(timeout=timeout, transport=self.transport, verify=self._tls,
                              follow_redirects=False) as http:
                return http.request(method, self.base_url + path, json=body, headers=headers)
        except httpx.ConnectTimeout as exc:
            raise CoreSystemTimeout(f"could not connect to the resident records system at {self.base_url} within "
                                    f"{self.connect_timeout:g} s (connect timeout, {variable('connect_timeout')})"
                                    ) from exc
        except httpx.TimeoutException as exc:
            raise CoreSystemTimeout(f"the resident records system did not answer {where} within "
                                    f"{self.read_timeout:g} s (read timeout, {variable('read_timeout')})") from exc
        except httpx.TransportError as exc:
            raise CoreSystemUnavailable(f"cannot reach the resident records system at {self.base_url}: "
                                        f"{type(exc).__name__}: {exc}") from exc

    def _parse(self, response: httpx.Response, where: str) -> object:
        status = response.status_code
        if status >= 500 or status == 429:
            raise CoreSystemUnavailable(f"the resident records system answered {where} with HTTP {status}"
                                        f"{_detail(response)}")
        if 300 <= status < 400:
            raise CoreSystemRejected(f"the resident records system redirected {where} (HTTP {status}) — check "
                                     f"{variable('base_url')}", status)
        if status >= 400:
            code, _message = _error_body(response)
            raise CoreSystemRejected(f"the resident records system refused {where} with HTTP {status}"
                                     f"{_detail(response)}{_hint(status, code)}", status, code)
        if len(response.content) > MAX_ANSWER_BYTES:
            raise UnexpectedAnswer(f"{where}: the answer is {len(response.content)} bytes, more than the "
                                   f"{MAX_ANSWER_BYTES} allowed")
        try:
            return json.loads(response.content)
        except (ValueError, UnicodeDecodeError) as exc:
            kind = response.headers.get("Content-Type", "no content type")
            # The position and length say what went wrong; the body itself may hold resident data.
            raise UnexpectedAnswer(f"{where}: the body is not JSON ({kind}, {len(response.content)} bytes: "
                                   f"{_json_problem(exc)})") from None


def _object(answer: object, where: str) -> dict:
    if not isinstance(answer, dict):
        raise UnexpectedAnswer(f"{where}: the body is JSON but not an object")
    return answer


def _json_problem(exc: Exception) -> str:
    if isinstance(exc, json.JSONDecodeError):
        return f"{exc.msg} (byte {exc.pos})"
    return type(exc).__name__


def _error_body(response: httpx.Response) -> tuple[str | None, str | None]:
    """The ``error`` code and ``message`` of a JSON error answer, if it is one."""
    try:
        body = json.loads(response.content)
    except (ValueError, UnicodeDecodeError):
        return None, None
    if not isinstance(body, dict):
        return None, None
    code, message = body.get("error"), body.get("message")
    return (code if isinstance(code, str) else None), (message if isinstance(message, str) else None)


def _detail(response: httpx.Response) -> str:
    code, message = _error_body(response)
    if code or message:
        return ": " + _short(" — ".join(part for part in (code, message) if part))
    text = response.content[:SNIPPET_CHARS * 4].decode("utf-8", "replace")
    text = re.sub(r"<[^>]*>", " ", text)  # a proxy's HTML error page: keep its words
    return f": {_short(text)}" if text.strip() else ""


def _short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= SNIPPET_CHARS else text[:SNIPPET_CHARS - 1] + "…"


def _hint(status: int, code: str | None) -> str:
    if status in (401, 403):
        return f" — check the API token ({variable('token')})"
    if status == 404 and code != NOT_FOUND_CODE:
        return f" — check the base URL ({variable('base_url')})"
    return ""
