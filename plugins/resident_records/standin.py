"""A stand-in for the resident records (住民記録) system, for tests and the demo.

It speaks the API the client speaks (see client.py), over the fictional residents in
``records.json``, with the rules a real system would have: a bearer token, searches that
need at least two criteria, addresses compared the way people write them (``桜台2-5-3`` is
``桜台二丁目5番3号``), changes that are idempotent by their ``Idempotency-Key``.

Run it: ``python -m plugins.resident_records.standin --port 8089`` (``--token``, ``--records``).
From tests: ``with StandinServer() as standin: standin.api_url …`` (a free port, a thread).

Test controls, which a real system does not have, live under ``/_standin/`` and need no token:

- ``POST /_standin/faults`` ``{"status": 503, "times": 2}`` — the next two API requests are
  answered 503 (nothing is done); ``{"delay": 1.5}`` — the next request is carried out, then
  answered 1.5 s late; ``{"malformed": true}`` — carried out, answered with cut-off JSON;
  ``{"omit_field": "SETAI_BANGO"}`` — answered without that field in the records. Add
  ``"path_contains": "/changes"`` to aim a fault at some requests only. Faults queue up.
- ``GET /_standin/changes`` — the changes applied; ``GET /_standin/requests`` — every API
  request with its status and idempotency key; ``POST /_standin/reset`` — data, keys,
  faults and log back to the start.
"""

from __future__ import annotations

import argparse
import copy
import hashlib
import hmac
import json
import re
import threading
import time
import unicodedata
from datetime import date, datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote

RECORDS = Path(__file__).with_name("records.json")
DEFAULT_TOKEN = "standin-token"
API = "/api/v1"
MAX_BODY = 1024 * 1024
MAX_RESULTS = 10
JST = timezone(timedelta(hours=9))


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


# -- how people write names and addresses -------------------------------------------------------

#: Old or variant forms (異体字) folded for comparison only; the record keeps its own.
_VARIANTS = str.maketrans({"髙": "高", "﨑": "崎", "邊": "辺", "邉": "辺", "齋": "斎", "齊": "斉", "濵": "浜",
                           "澤": "沢", "嶋": "島"})
_KANJI_NUMBERS = {"一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9, "十": 10}


def normalize_name(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).translate(_VARIANTS)
    text = "".join(chr(ord(c) + 0x60) if "ぁ" <= c <= "ゖ" else c for c in text)  # ひらがな → カタカナ
    return re.sub(r"\s+", "", text)


def _kanji_number(text: str) -> int:
    if text == "十":
        return 10
    if "十" in text:  # 十一 … 九十九
        tens, _, ones = text.partition("十")
        return (_KANJI_NUMBERS[tens] if tens else 1) * 10 + (_KANJI_NUMBERS[ones] if ones else 0)
    return _KANJI_NUMBERS[text]


def normalize_address(text: str) -> str:
    """``若葉区桜台二丁目5番3号`` and ``若葉区桜台2-5-3`` both become ``若葉区桜台2-5-3``."""
    text = re.sub(r"\s+", "", unicodedata.normalize("NFKC", text))
    text = re.sub(r"([一二三四五六七八九十]+)丁目", lambda m: f"{_kanji_number(m.group(1))}丁目", text)
    text = re.sub(r"(?<=\d)[‐‑‒–—―−ー-]", "-", text)  # dashes after a number; not the ー of カタカナ words
    text = re.sub(r"(\d+)(?:丁目|番地の?|番|の)", r"\1-", text)
    text = re.sub(r"(\d+)号", r"\1", text)
    return re.sub(r"-+", "-", text).rstrip("-")


def address_matches(wanted: str, record: dict) -> bool:
    """The written address is part of the record's (prefecture and city may be left out), and
    does not stop in the middle of a number (``桜台2-5-3`` is not ``桜台2-5-31``)."""
    needle = normalize_address(wanted)
    if not needle:
        return False
    for candidate in (record["JUSHO"], record["JUSHO"] + record.get("KATAGAKI", "")):
        haystack = normalize_address(candidate)
        start = haystack.find(needle)
        while start >= 0:
            end = start + len(needle)
            if end == len(haystack) or not (haystack[end].isdigit() and needle[-1].isdigit()):
                return True
            start = haystack.find(needle, start + 1)
    return False


def _iso(value: object, what: str) -> str:
    if not isinstance(value, str) or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        raise ApiError(400, "invalid_date", f"{what} must be a date written YYYY-MM-DD")
    try:
        date.fromisoformat(value)
    except ValueError:
        raise ApiError(400, "invalid_date", f"{what} is not a day of the calendar") from None
    return value


# -- the data and its rules ---------------------------------------------------------------------

class Directory:
    """The residents, the changes applied and the idempotency keys seen; one lock for all."""

    SEARCHABLE = ("SHIMEI_KANJI", "SHIMEI_KANA", "SEINENGAPPI", "JUSHO")
    CHANGEABLE = ("JUSHO", "KATAGAKI", "SETAI_BANGO", "SHIMEI_KANJI", "SHIMEI_KANA")
    #: 異動事由 → the fields such a change must carry.
    KINDS = {"TENKYO": ("JUSHO",), "SHIMEI_HENKO": ("SHIMEI_KANJI",), "SETAI_HENKO": ("SETAI_BANGO",),
             "TENSHUTSU": ()}
    #: Internal to the system (certificate serials are looked up, never handed out).
    HIDDEN = ("JPKI_SERIALS",)

    def __init__(self, residents: list[dict]):
        self.lock = threading.Lock()
        self.residents = {r["ATENA_BANGO"]: r for r in copy.deepcopy(residents)}
        self.changes: list[dict] = []
        self.keys: dict[str, tuple[str, int, dict]] = {}

    def public(self, record: dict) -> dict:
        return {k: copy.deepcopy(v) for k, v in record.items() if k not in self.HIDDEN}

    def search(self, body: dict) -> tuple[int, dict]:
        criteria = body.get("criteria")
        if not isinstance(criteria, dict):
            raise ApiError(400, "invalid_request", "the body needs 'criteria', an object of field → value")
        unknown = sorted(set(criteria) - set(self.SEARCHABLE))
        if unknown:
            raise ApiError(400, "unknown_field", f"cannot search by {', '.join(unknown)}; searchable: "
                                                 f"{', '.join(self.SEARCHABLE)}")
        given = {k: v for k, v in criteria.items() if v not in (None, "")}
        if not all(isinstance(v, str) for v in given.values()):
            raise ApiError(400, "invalid_request", "criteria values must be text")
        if len(given) < 2:
            # A single criterion would let a caller list residents by name or by street.
            raise ApiError(400, "too_broad", "a search needs at least two criteria")
        if "SEINENGAPPI" in given:
            _iso(given["SEINENGAPPI"], "SEINENGAPPI")
        with self.lock:
            found = [r for r in self.residents.values() if self._matches(r, given)]
            found.sort(key=lambda r: r["ATENA_BANGO"])
            return 200, {"residents": [self.public(r) for r in found[:MAX_RESULTS]], "total": len(found)}

    @staticmethod
    def _matches(record: dict, given: dict) -> bool:
        for field, value in given.items():
            if field == "JUSHO":
                if not address_matches(value, record):
                    return False
            elif field == "SEINENGAPPI":
                if record["SEINENGAPPI"] != value:
                    return False
            elif normalize_name(record.get(field, "")) != normalize_name(value):
                return False
        return True

    def by_serial(self, serial: str) -> tuple[int, dict]:
        serial = serial.strip().upper()
        with self.lock:
            for record in self.residents.values():
                if serial in record.get("JPKI_SERIALS", ()):
                    return 200, {"resident": self.public(record)}
        raise ApiError(404, "resident_not_found", "no resident holds a certificate with this serial number")

    def resident(self, atena: str) -> tuple[int, dict]:
        with self.lock:
            record = self.residents.get(atena)
            if record is None:
                raise ApiError(404, "resident_not_found", f"no resident with ATENA_BANGO {atena}")
            return 200, {"resident": self.public(record)}

    def change(self, atena: str, body: dict, key: str | None) -> tuple[int, dict, bool]:
        """Apply one change, once per idempotency key; a replay answers the first result."""
        if not key:
            raise ApiError(400, "missing_idempotency_key", "changes need an Idempotency-Key header")
        fingerprint = hashlib.sha256(json.dumps([atena, body], sort_keys=True, ensure_ascii=False).encode()).hexdigest()
        with self.lock:
            if key in self.keys:
                seen, status, answer = self.keys[key]
                if seen != fingerprint:
                    raise ApiError(422, "idempotency_key_reused",
                                   "this Idempotency-Key was used for a different request")
                return status, copy.deepcopy(answer), True
            record = self.residents.get(atena)
            if record is None:
                raise ApiError(404, "resident_not_found", f"no resident with ATENA_BANGO {atena}")
            kind, fields = self._valid_change(body)
            effective = _iso(body.get("effective_date"), "effective_date")
            if record["JUMIN_JOTAI"] != "1":
                raise ApiError(409, "not_current_resident", f"resident {atena} is no longer a resident "
                                                            f"(JUMIN_JOTAI {record['JUMIN_JOTAI']})")
            self._apply(record, kind, fields, effective)
            receipt = {"change_id": f"IDO-{len(self.changes) + 1:06d}", "atena_bango": atena, "kind": kind,
                       "effective_date": effective, "accepted_at": datetime.now(JST).isoformat(timespec="seconds")}
            self.changes.append({**receipt, "fields": fields, "idempotency_key": key})
            answer = {"change": receipt}
            self.keys[key] = (fingerprint, 201, answer)
            return 201, copy.deepcopy(answer), False

    def _valid_change(self, body: dict) -> tuple[str, dict]:
        kind, fields = body.get("kind"), body.get("fields", {})
        if kind not in self.KINDS:
            raise ApiError(400, "unknown_kind", f"'kind' must be one of {', '.join(self.KINDS)}")
        if not isinstance(fields, dict) or not all(isinstance(v, str) for v in fields.values()):
            raise ApiError(400, "invalid_request", "'fields' must be an object of field → text")
        unknown = sorted(set(fields) - set(self.CHANGEABLE))
        if unknown:
            raise ApiError(400, "unknown_field", f"cannot change {', '.join(unknown)} by a notification")
        missing = [f for f in self.KINDS[kind] if not fields.get(f)]
        if missing:
            raise ApiError(400, "missing_field", f"a {kind} change needs {', '.join(missing)}")
        return kind, fields

    @staticmethod
    def _apply(record: dict, kind: str, fields: dict, effective: str) -> None:
        if kind == "TENSHUTSU":  # moving out: the record stays, as a 除票, with where they went
            record.update(JUMIN_JOTAI="2", TENSHUTSU_BI=effective)
            if fields.get("JUSHO"):
                record["TENSHUTSU_SAKI"] = fields["JUSHO"]
            return
        record.update(fields)


# -- test controls ------------------------------------------------------------------------------

class Faults:
    KINDS = ("status", "delay", "malformed", "omit_field")

    def __init__(self):
        self.lock = threading.Lock()
        self.queue: list[dict] = []

    def add(self, spec: object) -> None:
        specs = spec if isinstance(spec, list) else [spec]
        for one in specs:
            if not isinstance(one, dict) or sum(k in one for k in self.KINDS) != 1:
                raise ApiError(400, "invalid_fault", f"a fault needs exactly one of {', '.join(self.KINDS)}")
            times = one.get("times", 1)
            if not isinstance(times, int) or times < 1:
                raise ApiError(400, "invalid_fault", "'times' must be a whole number of at least 1")
        with self.lock:
            self.queue.extend(dict(one, times=one.get("times", 1)) for one in specs)

    def take(self, path: str) -> dict | None:
        """The first queued fault aimed at ``path``, used up by one request."""
        with self.lock:
            for fault in self.queue:
                if fault.get("path_contains", "") in path:
                    fault["times"] -= 1
                    if fault["times"] == 0:
                        self.queue.remove(fault)
                    return fault
        return None


# -- HTTP ---------------------------------------------------------------------------------------

class StandinServer:
    """The stand-in on ``host:port`` (0: a free port), served by a thread between start() and stop()."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0, *, token: str = DEFAULT_TOKEN,
                 records: Path | str = RECORDS, quiet: bool = True):
        self.token = token
        self.records_path = Path(records)
        self.quiet = quiet
        self.reset()
        self.httpd = _HTTPServer((host, port), _Handler)
        self.httpd.standin = self
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def api_url(self) -> str:
        return self.url + API

    def reset(self) -> None:
        """Back to the records file: changes, idempotency keys, faults and the request log dropped."""
        residents = json.loads(self.records_path.read_text(encoding="utf-8"))["residents"]
        self.directory = Directory(residents)
        self.faults = Faults()
        self.requests: list[dict] = []

    def start(self) -> StandinServer:
        self._thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="resident-records-standin", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> StandinServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True  # a delayed answer must not hold up stop()
    standin: StandinServer


class _Handler(BaseHTTPRequestHandler):
    server: _HTTPServer
    # HTTP/1.0 (http.server's default): one request per connection, so an answer sent
    # before its request body was read (413) cannot confuse the next request.

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        self._dispatch("GET")

    def do_POST(self) -> None:  # noqa: N802
        self._dispatch("POST")

    def log_message(self, format: str, *args) -> None:  # noqa: A002
        if not self.server.standin.quiet:
            super().log_message(format, *args)

    # -- routing --------------------------------------------------------------------------

    def _dispatch(self, method: str) -> None:
        standin = self.server.standin
        path = self.path.split("?", 1)[0]
        body, body_error = None, None
        try:
            body = self._body() if method == "POST" else {}
        except ApiError as error:
            body_error = error
        if path.startswith("/_standin/"):
            try:
                if body_error:
                    raise body_error
                return self._answer(*self._control(method, path, body))
            except ApiError as error:
                return self._answer(error.status, {"error": error.code, "message": error.message})
        entry = {"method": method, "path": path, "idempotency_key": self.headers.get("Idempotency-Key"),
                 "request_id": self.headers.get("X-Request-Id"), "status": None, "fault": None}
        standin.requests.append(entry)
        fault = standin.faults.take(path) if path != API + "/health" else None
        entry["fault"] = fault and {k: v for k, v in fault.items() if k != "times"}
        if fault and "status" in fault:  # an overloaded gateway: nothing reaches the system
            entry["status"] = fault["status"]
            page = f"<html><body><h1>{fault['status']} Service Temporarily Unavailable</h1></body></html>"
            return self._send(fault["status"], page.encode(), "text/html", {})
        replayed = False
        try:
            self._check_token(path)
            if body_error:
                raise body_error
            if not isinstance(body, dict):
                raise ApiError(400, "invalid_json", "the body must be a JSON object")
            status, answer, replayed = self._api(method, path, body)
        except ApiError as error:
            status, answer = error.status, {"error": error.code, "message": error.message}
        entry["status"] = status
        if fault and "omit_field" in fault:
            for record in answer.get("residents", []) + [answer.get("resident") or {}]:
                record.pop(fault["omit_field"], None)
        payload = json.dumps(answer, ensure_ascii=False).encode()
        if fault and "malformed" in fault:
            payload = payload[: max(1, len(payload) // 2)]  # cut off mid-way, as a broken proxy would
        if fault and "delay" in fault:  # carried out already; only the answer is late
            time.sleep(float(fault["delay"]))
        self._send(status, payload, "application/json; charset=utf-8",
                   {"Idempotent-Replayed": "true"} if replayed else {})

    def _check_token(self, path: str) -> None:
        if path == API + "/health":
            return
        header = self.headers.get("Authorization", "")
        if not header.startswith("Bearer "):
            raise ApiError(401, "unauthorized", "a bearer token is required")
        if not hmac.compare_digest(header[len("Bearer "):].encode(), self.server.standin.token.encode()):
            raise ApiError(401, "unauthorized", "the token is not valid")

    def _api(self, method: str, path: str, body: dict) -> tuple[int, dict, bool]:
        directory = self.server.standin.directory
        route = path[len(API):] if path.startswith(API + "/") else None
        parts = [unquote(p) for p in route.strip("/").split("/")] if route else []
        if method == "GET" and parts == ["health"]:
            return 200, {"status": "ok"}, False
        if method == "POST" and parts == ["residents", "search"]:
            return (*directory.search(body), False)
        if method == "GET" and len(parts) == 3 and parts[0] == "jpki" and parts[2] == "resident":
            return (*directory.by_serial(parts[1]), False)
        if method == "GET" and len(parts) == 2 and parts[0] == "residents":
            return (*directory.resident(parts[1]), False)
        if method == "POST" and len(parts) == 3 and parts[0] == "residents" and parts[2] == "changes":
            return directory.change(parts[1], body, self.headers.get("Idempotency-Key"))
        raise ApiError(404, "not_found", f"no such endpoint: {method} {path}")

    def _control(self, method: str, path: str, body: object) -> tuple[int, dict]:
        standin = self.server.standin
        if method == "POST" and path == "/_standin/faults":
            standin.faults.add(body)
            return 200, {"queued": len(standin.faults.queue)}
        if method == "POST" and path == "/_standin/reset":
            standin.reset()
            return 200, {"reset": True}
        if method == "GET" and path == "/_standin/changes":
            with standin.directory.lock:
                return 200, {"changes": copy.deepcopy(standin.directory.changes)}
        if method == "GET" and path == "/_standin/requests":
            return 200, {"requests": list(standin.requests)}
        raise ApiError(404, "not_found", f"no such control: {method} {path}")

    # -- bytes ----------------------------------------------------------------------------

    def _body(self) -> object:
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY:
            raise ApiError(413, "too_large", f"the body is larger than {MAX_BODY} bytes")
        raw = self.rfile.read(length) if length else b""
        if not raw:
            return {}
        try:
            body = json.loads(raw)
        except ValueError:
            raise ApiError(400, "invalid_json", "the body is not JSON") from None
        return body

    def _answer(self, status: int, answer: dict) -> None:
        self._send(status, json.dumps(answer, ensure_ascii=False).encode(), "application/json; charset=utf-8", {})

    def _send(self, status: int, payload: bytes, content_type: str, headers: dict) -> None:
        try:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(payload)))
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up waiting (a delay fault): that is the point


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m plugins.resident_records.standin",
                                     description="Stand-in for the resident records system (fictional data).")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8089)
    parser.add_argument("--token", default=DEFAULT_TOKEN, help=f"bearer token to accept (default {DEFAULT_TOKEN})")
    parser.add_argument("--records", default=str(RECORDS), help="JSON file with the residents")
    args = parser.parse_args(argv)
    server = StandinServer(args.host, args.port, token=args.token, records=args.records, quiet=False)
    print(f"resident records stand-in: {server.api_url} (token {args.token!r}); Ctrl-C stops it", flush=True)
    try:
        server.httpd.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.httpd.server_close()


if __name__ == "__main__":
    main()
