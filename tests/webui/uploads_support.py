"""Shared steps of the upload tests: signed-in applicants, tus requests, procedures with limits."""

from __future__ import annotations

import base64

from tests.engine.applicants.support import registered_and_verified

CSRF = "csrf-token-of-this-session"


def b64(text: str) -> str:
    return base64.b64encode(text.encode("utf-8")).decode("ascii")


def signed_in_applicant(engine, db, client, email: str = "hanako@example.jp") -> int:
    """An applicant signed in on ``client`` (their session, with a CSRF token); their id."""
    applicant_id = registered_and_verified(engine, db, email)
    with client.session_transaction() as session:
        session.clear()
        session["applicant"] = applicant_id
        session["applicant_version"] = 1
        session["csrf_token"] = CSRF
    return applicant_id


def tus_headers(**extra) -> dict:
    return {"Tus-Resumable": "1.0.0", "X-CSRF-Token": CSRF, **{k.replace("_", "-"): str(v) for k, v in extra.items()}}


def create(client, base: str, name: str, length: int, procedure: str | None = None, headers: dict | None = None):
    metadata = f"filename {b64(name)}" + (f",procedure {b64(procedure)}" if procedure else "")
    return client.post(base, headers={**(headers or tus_headers()), "Upload-Length": str(length),
                                      "Upload-Metadata": metadata, "Tus-Resumable": "1.0.0"})


def patch(client, url: str, offset: int, body, headers: dict | None = None, **options):
    return client.patch(url, data=body, headers={**(headers or tus_headers()), "Upload-Offset": str(offset),
                                                 "Content-Type": "application/offset+octet-stream",
                                                 "Tus-Resumable": "1.0.0"}, **options)
