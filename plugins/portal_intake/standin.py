"""A stand-in for the national portal's receiving API, for tests and the demo.

    python -m plugins.portal_intake.standin --port 8765

serves the sample applications (sample_applications.json) with the wire format client.py
assumes: token login, the list of unacknowledged applications, one application by 受付番号,
its attachments (sent chunked, generated on the fly, never held whole), and status reports,
idempotent by ``request_id``. It keeps state: an application reported 受付 leaves the list.

Faults for tests, by call (``login``, ``list``, ``detail``, ``attachment``, ``status``; None
for any): ``fail_next`` (answer 5xx), ``delay_next`` (answer late), ``malform_next`` (answer
broken JSON), ``lose_answer_next`` (do the work, then hang up without answering),
``truncate_next`` / ``corrupt_next`` (attachments cut short / with wrong bytes),
``duplicate_list`` (every list entry twice), ``expire_tokens``. In-process tests call these
methods; over HTTP, ``POST /_standin/control`` takes ``{"fail_next": {"count": 1, "call":
"status", "status": 503}, …}`` and ``GET /_standin/state`` shows statuses and reports.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import secrets
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

from plugins.portal_intake.client import ARRIVED, REPORTABLE

SAMPLES = Path(__file__).with_name("sample_applications.json")
CHUNK = 64 * 1024
CALLS = ("login", "list", "detail", "attachment", "status")
#: Leading bytes by content type, so a generated file looks like what it claims to be.
_MAGIC = {"application/pdf": b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n", "image/jpeg": b"\xff\xd8\xff\xe0\x00\x10JFIF\x00",
          "image/png": b"\x89PNG\r\n\x1a\n"}


def load_samples(path: Path = SAMPLES) -> list[dict]:
    return json.loads(path.read_text(encoding="utf-8"))["applications"]


def attachment_chunks(receipt_number: str, attachment_id: str, size: int, content_type: str | None,
                      ) -> Iterator[bytes]:
    """The attachment's bytes, the same on every call, produced a chunk at a time."""
    rng = random.Random(f"{receipt_number}/{attachment_id}")
    head = _MAGIC.get(content_type or "", b"")[:size]
    if head:
        yield head
    left = size - len(head)
    while left > 0:
        n = min(CHUNK, left)
        yield rng.randbytes(n)
        left -= n


def attachment_sha256(receipt_number: str, attachment_id: str, size: int, content_type: str | None) -> str:
    digest = hashlib.sha256()
    for chunk in attachment_chunks(receipt_number, attachment_id, size, content_type):
        digest.update(chunk)
    return digest.hexdigest()


@dataclass
class _Fault:
    count: int
    call: str | None
    status: int = 503
    seconds: float = 0.0


@dataclass
class StatusReport:
    receipt_number: str
    status: str
    request_id: str
    comment: str | None
    #: False when the request_id was seen before and nothing changed.
    applied: bool


@dataclass
class _Record:
    application: dict
    status: str = ARRIVED
    history: list[str] = field(default_factory=list)


class StandinPortal:
    """The portal's state and the faults to inject; thread-safe (the server is threaded)."""

    def __init__(self, applications: list[dict] | None = None, *, login_id: str = "madoguchi",
                 password: str = "standin-password", token_ttl: float = 600.0):
        self.login_id, self.password, self.token_ttl = login_id, password, token_ttl
        self.lock = threading.RLock()
        self.records: dict[str, _Record] = {}
        self.tokens: dict[str, float] = {}
        self.reports: list[StatusReport] = []
        self._answers: dict[str, dict] = {}  # request_id → the first answer
        self.requests: list[tuple[str, str]] = []  # (call, path) of every request
        self.logins = 0
        self.duplicate_list = False
        self._faults: dict[str, list[_Fault]] = {kind: [] for kind in ("fail", "delay", "malform", "lose",
                                                                        "truncate", "corrupt")}
        for application in load_samples() if applications is None else applications:
            self.add(application)

    # -- state ----------------------------------------------------------------------------

    def add(self, application: dict) -> dict:
        """Add an application (as in sample_applications.json); attachment ids and hashes are filled in."""
        application = json.loads(json.dumps(application))
        receipt_number = application["receipt_number"]
        for index, attachment in enumerate(application.get("attachments", []), start=1):
            attachment.setdefault("attachment_id", str(index))
            attachment["sha256"] = attachment_sha256(receipt_number, attachment["attachment_id"],
                                                     attachment["size"], attachment.get("content_type"))
        with self.lock:
            self.records[receipt_number] = _Record(application)
        return application

    def status_of(self, receipt_number: str) -> str:
        with self.lock:
            return self.records[receipt_number].status

    def history_of(self, receipt_number: str) -> list[str]:
        with self.lock:
            return list(self.records[receipt_number].history)

    def calls(self, call: str) -> int:
        with self.lock:
            return sum(1 for kind, _ in self.requests if kind == call)

    def state(self) -> dict:
        with self.lock:
            return {"applications": {rn: {"status": r.status, "history": r.history} for rn, r in self.records.items()},
                    "reports": [vars(report) for report in self.reports], "logins": self.logins}

    # -- faults ---------------------------------------------------------------------------

    def fail_next(self, count: int = 1, *, call: str | None = None, status: int = 503) -> None:
        self._add_fault("fail", _Fault(count, call, status=status))

    def delay_next(self, count: int = 1, *, seconds: float, call: str | None = None) -> None:
        self._add_fault("delay", _Fault(count, call, seconds=seconds))

    def malform_next(self, count: int = 1, *, call: str | None = None) -> None:
        self._add_fault("malform", _Fault(count, call))

    def lose_answer_next(self, count: int = 1, *, call: str | None = None) -> None:
        self._add_fault("lose", _Fault(count, call))

    def truncate_next(self, count: int = 1) -> None:
        self._add_fault("truncate", _Fault(count, "attachment"))

    def corrupt_next(self, count: int = 1) -> None:
        self._add_fault("corrupt", _Fault(count, "attachment"))

    def expire_tokens(self) -> None:
        with self.lock:
            self.tokens.clear()

    def clear_faults(self) -> None:
        with self.lock:
            for faults in self._faults.values():
                faults.clear()

    def _add_fault(self, kind: str, fault: _Fault) -> None:
        if fault.call is not None and fault.call not in CALLS:
            raise ValueError(f"unknown call {fault.call!r}; one of {CALLS}")
        with self.lock:
            self._faults[kind].append(fault)

    def _take_fault(self, kind: str, call: str) -> _Fault | None:
        with self.lock:
            for fault in self._faults[kind]:
                if fault.count > 0 and fault.call in (None, call):
                    fault.count -= 1
                    return fault
        return None

    def control(self, body: dict) -> None:
        """The HTTP form of the fault methods (for the demo and manual tests)."""
        for name, method in (("fail_next", self.fail_next), ("delay_next", self.delay_next),
                             ("malform_next", self.malform_next), ("lose_answer_next", self.lose_answer_next)):
            if name in body:
                method(**body[name])
        if "truncate_next" in body:
            self.truncate_next(int(body["truncate_next"]))
        if "corrupt_next" in body:
            self.corrupt_next(int(body["corrupt_next"]))
        if "duplicate_list" in body:
            self.duplicate_list = bool(body["duplicate_list"])
        if body.get("expire_tokens"):
            self.expire_tokens()
        if body.get("clear_faults"):
            self.clear_faults()
        for application in body.get("add", []):
            self.add(application)

    # -- the API ---------------------------------------------------------------------------

    def login(self, body: dict) -> tuple[int, dict]:
        if body.get("login_id") != self.login_id or body.get("password") != self.password:
            return 401, {"error": "invalid_credentials"}
        token = secrets.token_urlsafe(24)
        with self.lock:
            self.tokens[token] = time.monotonic() + self.token_ttl
            self.logins += 1
        return 200, {"access_token": token, "token_type": "Bearer", "expires_in": self.token_ttl}

    def authorized(self, header: str | None) -> bool:
        if not header or not header.startswith("Bearer "):
            return False
        with self.lock:
            expires = self.tokens.get(header[7:])
        return expires is not None and expires > time.monotonic()

    def list(self, query: dict) -> dict:
        status = query.get("status")
        limit = int(query.get("limit", 100))
        with self.lock:
            records = sorted(self.records.values(), key=lambda r: r.application.get("arrived_at", ""))
            entries = [{"receipt_number": r.application["receipt_number"],
                        "procedure_code": r.application["procedure_code"],
                        "procedure_name": r.application.get("procedure_name"),
                        "arrived_at": r.application.get("arrived_at"), "status": r.status}
                       for r in records if status is None or r.status == status][:limit]
        if self.duplicate_list:
            entries = [entry for entry in entries for _ in (0, 1)]
        return {"applications": entries, "count": len(entries)}

    def detail(self, receipt_number: str) -> tuple[int, dict]:
        with self.lock:
            record = self.records.get(receipt_number)
            if record is None:
                return 404, {"error": "not_found"}
            return 200, {**record.application, "status": record.status}

    def attachment(self, receipt_number: str, attachment_id: str) -> dict | None:
        with self.lock:
            record = self.records.get(receipt_number)
        if record is None:
            return None
        return next((a for a in record.application.get("attachments", []) if a["attachment_id"] == attachment_id),
                    None)

    def report(self, receipt_number: str, body: dict) -> tuple[int, dict]:
        status, request_id = body.get("status"), body.get("request_id")
        if status not in REPORTABLE:
            return 400, {"error": "invalid_status"}
        if not isinstance(request_id, str) or not request_id:
            return 400, {"error": "request_id_required"}
        with self.lock:
            record = self.records.get(receipt_number)
            if record is None:
                return 404, {"error": "not_found"}
            first = self._answers.get(request_id)
            if first is not None:  # a repeat: answer as the first time, change nothing
                self.reports.append(StatusReport(receipt_number, status, request_id, body.get("comment"), False))
                return 200, {**first, "duplicate": True}
            record.status = status
            record.history.append(status)
            answer = {"receipt_number": receipt_number, "status": status}
            self._answers[request_id] = answer
            self.reports.append(StatusReport(receipt_number, status, request_id, body.get("comment"), True))
            return 200, {**answer, "duplicate": False}


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive and chunked attachments
    # Headers and body go out in separate writes: without this, Nagle's algorithm and the
    # client's delayed ACK add 40 ms to every answer.
    disable_nagle_algorithm = True
    server: StandinServer

    def log_message(self, format, *args):  # noqa: A002 — the base class's name
        if self.server.verbose:
            super().log_message(format, *args)

    def do_GET(self):
        self._handle("GET")

    def do_POST(self):
        self._handle("POST")

    def _handle(self, method: str) -> None:
        portal = self.server.portal
        url = urlsplit(self.path)
        parts = [unquote(p) for p in url.path.strip("/").split("/")]
        body = self._body()
        if parts[:1] == ["_standin"]:
            return self._control(method, parts, body)
        call, args = _route(method, parts)
        if call is None:
            return self._json(404, {"error": "no_such_call"})
        with portal.lock:
            portal.requests.append((call, url.path))
        delay = portal._take_fault("delay", call)
        if delay is not None:
            time.sleep(delay.seconds)
        fail = portal._take_fault("fail", call)
        if fail is not None:
            return self._json(fail.status, {"error": "unavailable"})
        if portal._take_fault("malform", call) is not None:
            return self._raw(200, b'{"applications": [{"receipt_number": ', "application/json")
        if call == "login":
            return self._json(*portal.login(body if isinstance(body, dict) else {}))
        if not portal.authorized(self.headers.get("Authorization")):
            return self._json(401, {"error": "invalid_token"})
        lose = portal._take_fault("lose", call) is not None
        if call == "list":
            status, answer = 200, portal.list({k: v[0] for k, v in parse_qs(url.query).items()})
        elif call == "detail":
            status, answer = portal.detail(args[0])
        elif call == "status":
            status, answer = portal.report(args[0], body if isinstance(body, dict) else {})
        else:
            return self._attachment(*args, lose=lose)
        if lose:  # the work is done, the answer never arrives
            self.close_connection = True
            return None
        return self._json(status, answer)

    def _attachment(self, receipt_number: str, attachment_id: str, *, lose: bool) -> None:
        portal = self.server.portal
        if lose:
            self.close_connection = True
            return None
        attachment = portal.attachment(receipt_number, attachment_id)
        if attachment is None:
            return self._json(404, {"error": "not_found"})
        truncate = portal._take_fault("truncate", "attachment") is not None
        corrupt = portal._take_fault("corrupt", "attachment") is not None
        self.send_response(200)
        self.send_header("Content-Type", attachment.get("content_type") or "application/octet-stream")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        sent = 0
        for chunk in attachment_chunks(receipt_number, attachment_id, attachment["size"],
                                       attachment.get("content_type")):
            if truncate and sent + len(chunk) > attachment["size"] // 2:
                self.close_connection = True  # hang up mid-body: no terminating chunk
                return None
            if corrupt and sent == 0:
                chunk = bytes([chunk[0] ^ 0xFF]) + chunk[1:]
            self.wfile.write(f"{len(chunk):X}\r\n".encode() + chunk + b"\r\n")
            sent += len(chunk)
        self.wfile.write(b"0\r\n\r\n")
        return None

    def _control(self, method: str, parts: list[str], body) -> None:
        portal = self.server.portal
        if method == "GET" and parts == ["_standin", "state"]:
            return self._json(200, portal.state())
        if method == "POST" and parts == ["_standin", "control"] and isinstance(body, dict):
            try:
                portal.control(body)
            except (TypeError, ValueError, KeyError) as exc:
                return self._json(400, {"error": str(exc)})
            return self._json(200, {"ok": True})
        return self._json(404, {"error": "no_such_control"})

    def _body(self):
        length = int(self.headers.get("Content-Length") or 0)
        if not length:
            return None
        raw = self.rfile.read(length)
        try:
            return json.loads(raw)
        except ValueError:
            return None

    def _json(self, status: int, answer: dict) -> None:
        self._raw(status, json.dumps(answer, ensure_ascii=False).encode(), "application/json; charset=utf-8")

    def _raw(self, status: int, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def _route(method: str, parts: list[str]) -> tuple[str | None, tuple[str, ...]]:
    if method == "POST" and parts == ["auth", "login"]:
        return "login", ()
    if parts[:1] != ["applications"]:
        return None, ()
    if method == "GET" and len(parts) == 1:
        return "list", ()
    if method == "GET" and len(parts) == 2:
        return "detail", (parts[1],)
    if method == "GET" and len(parts) == 4 and parts[2] == "attachments":
        return "attachment", (parts[1], parts[3])
    if method == "POST" and len(parts) == 3 and parts[2] == "status":
        return "status", (parts[1],)
    return None, ()


class StandinServer(ThreadingHTTPServer):
    """The stand-in on ``host:port`` (port 0: any free one), served from a background thread."""

    daemon_threads = True
    block_on_close = False  # a test's delayed answer must not hold up shutting down

    def __init__(self, portal: StandinPortal | None = None, host: str = "127.0.0.1", port: int = 0, *,
                 verbose: bool = False):
        super().__init__((host, port), _Handler)
        self.portal = portal or StandinPortal()
        self.verbose = verbose
        self._thread: threading.Thread | None = None

    def handle_error(self, request, client_address) -> None:
        # A client that gave up (a test's timeout) leaves a broken pipe behind: not news.
        if self.verbose:
            super().handle_error(request, client_address)

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> StandinServer:
        self._thread = threading.Thread(target=self.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="portal-standin", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self.shutdown()
        self.server_close()

    def __enter__(self) -> StandinServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m plugins.portal_intake.standin",
                                     description="Stand-in for the national portal's receiving API")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--login-id", default="madoguchi")
    parser.add_argument("--password", default="standin-password")
    parser.add_argument("--token-ttl", type=float, default=600.0, help="seconds a login token lasts")
    parser.add_argument("--samples", type=Path, default=SAMPLES, help="applications to serve (JSON)")
    parser.add_argument("--verbose", action="store_true", help="log every request")
    args = parser.parse_args(argv)
    portal = StandinPortal(load_samples(args.samples), login_id=args.login_id, password=args.password,
                           token_ttl=args.token_ttl)
    server = StandinServer(portal, args.host, args.port, verbose=args.verbose)
    print(f"stand-in portal on {server.url} — {len(portal.records)} applications; "
          f"MADOGUCHI_PORTAL_INTAKE_BASE_URL={server.url} MADOGUCHI_PORTAL_INTAKE_LOGIN_ID={args.login_id} "
          f"MADOGUCHI_PORTAL_INTAKE_PASSWORD=… (see --password)", flush=True)
    try:
        server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
