"""What every response and every form gets: security headers, CSRF tokens, sign-in throttling.

CSRF: each session holds a random token; every state-changing request (POST, PUT, PATCH,
DELETE) must send it back in the form field ``csrf_token`` or the ``X-CSRF-Token`` header
(htmx sends the header, set once in the base template). Requests without a session cookie
and without a token are refused too, so a cross-site form cannot act for a signed-in user.
"""

from __future__ import annotations

import hmac
import secrets
import threading
import time
from collections import deque

from flask import Flask, abort, request, session

UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
#: Views that take requests without a session (the public verification upload has its own token).
EXEMPT_ENDPOINTS: set[str] = set()

CONTENT_SECURITY_POLICY = "; ".join([
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
])


def csrf_token() -> str:
    token = session.get("csrf_token")
    if not token:
        token = session["csrf_token"] = secrets.token_urlsafe(32)
    return token


def _check_csrf() -> None:
    if request.method not in UNSAFE_METHODS or request.endpoint in EXEMPT_ENDPOINTS:
        return
    if request.url_rule is None:  # no route matched: no view runs, and its 404 or 405 says more
        return
    expected = session.get("csrf_token")
    sent = request.headers.get("X-CSRF-Token") or request.form.get("csrf_token")
    if not expected or not sent or not hmac.compare_digest(str(expected), str(sent)):
        abort(400, description="The form has expired or did not come from this site. Reload the page and try again.")


def _headers(response):
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Referrer-Policy", "same-origin")
    headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
    headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    if request.is_secure:
        headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
    if session.get("user") and "Cache-Control" not in headers:
        headers["Cache-Control"] = "no-store"  # staff pages hold personal data
    return response


class SignInThrottle:
    """At most N *failed* sign-ins per minute per client address and per user name.

    Only failures count (``failed``): a whole office behind one NAT address signs in every
    morning, and each success must not bring the next colleague closer to a lock-out. A
    password-guessing run fails almost every time, so it is still slowed to N tries a minute.
    ``allow`` counts every attempt, for forms where each try costs something (a mail sent).

    Kept in process memory: with several web processes the limit applies per process,
    which still turns a password-guessing run from thousands of tries a minute into a few.
    """

    def __init__(self, per_minute: int):
        self.per_minute = per_minute
        self._attempts: dict[str, deque] = {}
        self._lock = threading.Lock()

    def _window(self, key: str, now: float) -> deque:
        window = self._attempts.setdefault(key, deque())
        while window and now - window[0] > 60:
            window.popleft()
        return window

    def _forget_idle(self, now: float) -> None:
        if len(self._attempts) > 100_000:  # forget idle clients rather than grow without bound
            self._attempts = {k: v for k, v in self._attempts.items() if v and now - v[-1] <= 60}

    def blocked(self, *keys: str) -> bool:
        """Whether any key has had N failures within the last minute (records nothing)."""
        now = time.monotonic()
        with self._lock:
            return any(len(self._window(key, now)) >= self.per_minute for key in keys)

    def failed(self, *keys: str) -> None:
        """Count one failed attempt against every key."""
        now = time.monotonic()
        with self._lock:
            for key in keys:
                self._window(key, now).append(now)
            self._forget_idle(now)

    def allow(self, *keys: str) -> bool:
        """Count this attempt, success or not; False once a key had N within the last minute."""
        now = time.monotonic()
        with self._lock:
            allowed = True
            for key in keys:
                window = self._window(key, now)
                if len(window) >= self.per_minute:
                    allowed = False
                window.append(now)
            self._forget_idle(now)
            return allowed


def init_app(app: Flask) -> None:
    app.before_request(_check_csrf)
    app.after_request(_headers)
    app.jinja_env.globals["csrf_token"] = csrf_token
    app.extensions["madoguchi.throttle"] = SignInThrottle(app.config["LOGIN_ATTEMPTS_PER_MINUTE"])
