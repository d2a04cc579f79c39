"""HTTP client of the municipal receiving API (マイナポータル 電子申請等情報受取等API).

The published outline of the API [myna.go.jp/html/api/receiveinfo] is: log in for a token
(ログインAPI) → list applications matching search conditions (申請データ一覧取得API) → fetch
one application by its 受付番号 (申請データ取得API) → processing statuses (申請処理状況…).
The request and response formats are given to municipalities with the API and were not
available to us: every path, field name and status word below is this plugin's assumption,
shared with the stand-in server (standin.py), and kept in this one module so that adapting
to the real specification touches nothing else. See docs/plugins/portal-intake.md.

Errors are :class:`PortalError` subclasses whose messages never contain the portal's answer
body (it carries applicants' personal data, and messages end up in logs and incidents).
"""

from __future__ import annotations

import json
import re
import ssl
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import httpx

from engine.errors import MadoguchiError

# -- the wire format (assumed; see the module docstring) -----------------------------------------

LOGIN_PATH = "/auth/login"
LIST_PATH = "/applications"
DETAIL_PATH = "/applications/{receipt_number}"
ATTACHMENT_PATH = "/applications/{receipt_number}/attachments/{attachment_id}"
STATUS_PATH = "/applications/{receipt_number}/status"

#: The portal's status of an application no municipality has acknowledged yet.
ARRIVED = "到達"
#: What the intake reports once the application exists in Madoguchi.
RECEIVED = "受付"
#: Statuses a municipality may report (the operation portal_intake.report_status checks this).
REPORTABLE = (RECEIVED, "処理中", "差戻し", "完了", "却下")

#: 受付番号 and attachment ids end up in URLs and storage keys: only plain characters.
_ID = re.compile(r"^[0-9A-Za-z][0-9A-Za-z_-]{0,63}$")
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
#: Largest JSON answer accepted (a list or one application's items, not its attachments).
MAX_ANSWER_BYTES = 16 * 1024 * 1024


class PortalError(MadoguchiError):
    """Talking to the portal failed; trying again later may work."""

    retryable = True


class PortalUnavailable(PortalError):
    """No answer (timeout, refused connection): the portal or the line is down."""


class PortalAnswerInvalid(PortalError):
    """The portal answered something this client cannot read."""


class PortalRefused(PortalError):
    """The portal answered with an error status: worth retrying for 5xx (and 408, 429), not
    for other 4xx — a refused request is refused again (the job becomes an incident at once)."""

    def __init__(self, message: str, status: int):
        super().__init__(message)
        self.status = status
        self.retryable = status >= 500 or status in (408, 429)


class AttachmentInvalid(PortalError):
    """An attachment arrived damaged (size or SHA-256 differ from what the portal announced) or too big."""


@dataclass(frozen=True)
class ListEntry:
    receipt_number: str
    procedure_code: str
    status: str


@dataclass(frozen=True)
class Attachment:
    attachment_id: str
    file_name: str
    content_type: str | None
    size: int | None
    sha256: str | None


@dataclass(frozen=True)
class ApplicationDetail:
    receipt_number: str
    procedure_code: str
    procedure_name: str | None
    arrived_at: str | None
    form: dict
    attachments: tuple[Attachment, ...]
    #: The answer as received, kept as the original record of what was submitted.
    raw: bytes


@dataclass(frozen=True)
class PortalConfig:
    base_url: str
    login_id: str
    password: str
    timeout_seconds: float = 30.0
    ca_file: str = ""
    #: How the settings are called, for messages ("MADOGUCHI_PORTAL_INTAKE_").
    setting_prefix: str = "MADOGUCHI_PORTAL_INTAKE_"


# Tokens outlive one poll (a source object is rebuilt for every poll): per portal and login.
_tokens: dict[tuple[str, str], tuple[str, float]] = {}
_tokens_lock = threading.Lock()


def forget_tokens() -> None:
    """Drop every cached token (tests, or after the password changed)."""
    with _tokens_lock:
        _tokens.clear()


class PortalClient:
    def __init__(self, config: PortalConfig):
        self.config = config
        verify: ssl.SSLContext | bool = True
        if config.ca_file:  # the closed line (特定通信) may use a private certificate authority
            verify = ssl.create_default_context(cafile=config.ca_file)
        self.http = httpx.Client(base_url=config.base_url.rstrip("/"), timeout=config.timeout_seconds,
                                 verify=verify, headers={"User-Agent": "Madoguchi-portal-intake/1"})
        self._token_key = (config.base_url, config.login_id)

    def __enter__(self) -> PortalClient:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        self.http.close()

    # -- the calls ----------------------------------------------------------------------------

    def list_new(self, limit: int) -> list[ListEntry]:
        """Applications no municipality acknowledged yet (status 到達), oldest first.

        Listing by status rather than "since the last poll" is what makes the intake lose
        nothing: an application leaves this list only when we report 受付 for it, which we do
        only after it exists in Madoguchi.
        """
        answer = self._json("GET", LIST_PATH, "the application list", params={"status": ARRIVED, "limit": limit})
        entries = _field(answer, "applications", list, "the application list")
        result = []
        for index, entry in enumerate(entries):
            what = f"the application list, entry {index + 1}"
            if not isinstance(entry, dict):
                raise PortalAnswerInvalid(f"{what} is not an object")
            result.append(ListEntry(receipt_number=_identifier(entry, "receipt_number", what),
                                    procedure_code=_text(entry, "procedure_code", what),
                                    status=_text(entry, "status", what)))
        return result

    def application(self, receipt_number: str) -> ApplicationDetail:
        what = f"application {receipt_number}"
        response = self._request("GET", DETAIL_PATH.format(receipt_number=receipt_number), what)
        raw = response.content
        answer = _decode(raw, what)
        if _identifier(answer, "receipt_number", what) != receipt_number:
            raise PortalAnswerInvalid(f"{what}: the portal answered with another application's 受付番号")
        attachments = []
        for index, item in enumerate(_field(answer, "attachments", list, what)):
            where = f"{what}, attachment {index + 1}"
            if not isinstance(item, dict):
                raise PortalAnswerInvalid(f"{where} is not an object")
            size = item.get("size")
            if size is not None and (not isinstance(size, int) or isinstance(size, bool) or size < 0):
                raise PortalAnswerInvalid(f"{where}: 'size' is not a byte count")
            digest = item.get("sha256")
            if digest is not None and (not isinstance(digest, str) or not _SHA256.match(digest.lower())):
                raise PortalAnswerInvalid(f"{where}: 'sha256' is not a SHA-256 in hex")
            content_type = item.get("content_type")
            attachments.append(Attachment(
                attachment_id=_identifier(item, "attachment_id", where), file_name=_text(item, "file_name", where),
                content_type=content_type if isinstance(content_type, str) else None, size=size,
                sha256=digest.lower() if digest else None))
        name, arrived = answer.get("procedure_name"), answer.get("arrived_at")
        return ApplicationDetail(
            receipt_number=receipt_number, procedure_code=_text(answer, "procedure_code", what),
            procedure_name=name if isinstance(name, str) else None,
            arrived_at=arrived if isinstance(arrived, str) else None,
            form=_field(answer, "form", dict, what), attachments=tuple(attachments), raw=raw)

    @contextmanager
    def download(self, receipt_number: str, attachment: Attachment) -> Iterator[Iterator[bytes]]:
        """The attachment's bytes as an iterator of chunks, read from the network as consumed."""
        what = f"application {receipt_number}, attachment {attachment.attachment_id}"
        path = ATTACHMENT_PATH.format(receipt_number=receipt_number, attachment_id=attachment.attachment_id)
        for attempt in (1, 2):
            try:
                with self.http.stream("GET", path, headers=self._auth()) as response:
                    if response.status_code == 401 and attempt == 1:
                        self._forget_token()
                        continue
                    _check_status(response, what)
                    yield _translated(response.iter_bytes(), what, self.config.timeout_seconds)
                    return
            except httpx.TimeoutException as exc:
                raise PortalUnavailable(f"{what}: no answer within {self.config.timeout_seconds:g}s") from exc
            except httpx.TransportError as exc:
                raise PortalUnavailable(f"{what}: {type(exc).__name__}: {exc}") from exc

    def report_status(self, receipt_number: str, status: str, *, request_id: str, comment: str | None = None) -> dict:
        """Tell the portal ``status`` for an application; ``request_id`` makes a repeat harmless."""
        body = {"status": status, "request_id": request_id}
        if comment:
            body["comment"] = comment
        return self._json("POST", STATUS_PATH.format(receipt_number=receipt_number),
                          f"status {status} for application {receipt_number}", json=body)

    # -- plumbing -----------------------------------------------------------------------------

    def _json(self, method: str, path: str, what: str, **kwargs) -> dict:
        return _decode(self._request(method, path, what, **kwargs).content, what)

    def _request(self, method: str, path: str, what: str, **kwargs) -> httpx.Response:
        for attempt in (1, 2):
            response = self._send(method, path, what, headers=self._auth(), **kwargs)
            if response.status_code == 401 and attempt == 1:
                self._forget_token()  # expired early, or revoked: log in again once
                continue
            _check_status(response, what)
            if len(response.content) > MAX_ANSWER_BYTES:
                raise PortalAnswerInvalid(f"{what}: the answer is larger than {MAX_ANSWER_BYTES} bytes")
            return response
        raise AssertionError("unreachable")

    def _send(self, method: str, path: str, what: str, **kwargs) -> httpx.Response:
        try:
            return self.http.request(method, path, **kwargs)
        except httpx.TimeoutException as exc:
            raise PortalUnavailable(f"{what}: no answer within {self.config.timeout_seconds:g}s") from exc
        except httpx.TransportError as exc:
            raise PortalUnavailable(f"{what}: {type(exc).__name__}: {exc}") from exc

    def _auth(self) -> dict:
        return {"Authorization": f"Bearer {self._token()}"}

    def _token(self) -> str:
        with _tokens_lock:
            cached = _tokens.get(self._token_key)
        if cached is not None and cached[1] > time.monotonic():
            return cached[0]
        return self._login()

    def _forget_token(self) -> None:
        with _tokens_lock:
            _tokens.pop(self._token_key, None)

    def _login(self) -> str:
        response = self._send("POST", LOGIN_PATH, "login",
                              json={"login_id": self.config.login_id, "password": self.config.password})
        if response.status_code in (401, 403):
            prefix = self.config.setting_prefix
            raise PortalRefused(f"login refused by the portal (HTTP {response.status_code}): check "
                                f"{prefix}LOGIN_ID and {prefix}PASSWORD", response.status_code)
        _check_status(response, "login")
        answer = _decode(response.content, "the login answer")
        token = _text(answer, "access_token", "the login answer")
        lifetime = answer.get("expires_in")
        if not isinstance(lifetime, (int, float)) or isinstance(lifetime, bool) or lifetime <= 0:
            raise PortalAnswerInvalid("the login answer: 'expires_in' is not a number of seconds")
        # Renew a little early, so a token does not expire between our check and its use.
        expires = time.monotonic() + lifetime - min(30.0, lifetime / 10)
        with _tokens_lock:
            _tokens[self._token_key] = (token, expires)
        return token


def _translated(chunks: Iterator[bytes], what: str, timeout: float) -> Iterator[bytes]:
    """Network errors while reading a download, as PortalErrors."""
    try:
        yield from chunks
    except httpx.TimeoutException as exc:
        raise PortalUnavailable(f"{what}: the download stalled for {timeout:g}s") from exc
    except httpx.HTTPError as exc:
        raise PortalUnavailable(f"{what}: the download broke off: {type(exc).__name__}") from exc


def _check_status(response: httpx.Response, what: str) -> None:
    if response.status_code < 400:
        return
    code = ""
    if response.headers.get("content-type", "").startswith("application/json"):
        try:
            response.read()
            error = json.loads(response.content).get("error")
            if isinstance(error, str) and len(error) <= 80:
                code = f" ({error})"
        except (ValueError, AttributeError):
            pass
    raise PortalRefused(f"{what}: the portal answered HTTP {response.status_code}{code}", response.status_code)


def _decode(raw: bytes, what: str) -> dict:
    try:
        answer = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise PortalAnswerInvalid(f"{what}: the answer is not JSON") from None
    if not isinstance(answer, dict):
        raise PortalAnswerInvalid(f"{what}: the answer is not a JSON object")
    return answer


_KINDS = {list: "a list", dict: "an object"}


def _field(answer: dict, name: str, kind: type, what: str):
    value = answer.get(name)
    if not isinstance(value, kind):
        raise PortalAnswerInvalid(f"{what}: {name!r} is missing or not {_KINDS[kind]}")
    return value


def _text(answer: dict, name: str, what: str) -> str:
    value = answer.get(name)
    if not isinstance(value, str) or not value.strip() or len(value) > 500:
        raise PortalAnswerInvalid(f"{what}: {name!r} is missing or not a short text")
    return value


def _identifier(answer: dict, name: str, what: str) -> str:
    value = answer.get(name)
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or not _ID.match(value):
        raise PortalAnswerInvalid(f"{what}: {name!r} is missing or not a plain identifier")
    return value
