"""Shared steps of the portal's apply tests: the test procedure, applicants signed in."""

from __future__ import annotations

import re
from pathlib import Path

from tests.webui.conftest import add_staff, csrf_of

BUNDLE = Path(__file__).parents[1] / "workflows" / "portal_apply"
KEY = "portal-apply-test"
SLUG = "portal-apply-test"
APPLY = f"/procedures/{SLUG}/apply"
PASSWORD = "hanako-password-1"
PROFILE = {"name": "山田 花子", "name_kana": "やまだ はなこ", "birth_date": "1985-04-01", "postcode": "100-0001",
           "address": "本町1-2-3", "phone": "03-1234-5678"}
ANSWERS = {"applicant_name": "山田 花子", "purpose": "new", "household": "2", "move_date": "2026-12-01",
           "contact_time": "morning", "notes": ""}


def deploy(engine, db) -> None:
    with db.transaction() as session:
        engine.deploy(session, BUNDLE)
    add_staff(engine, db, "tanaka", "tanto")
    add_staff(engine, db, "suzuki", "kacho")


def add_applicant(engine, db, email: str = "hanako@example.jp", name: str = "山田 花子") -> int:
    with db.transaction() as session:
        return engine.add_applicant(session, email=email, password=PASSWORD, kind="individual",
                                    profile={**PROFILE, "name": name}).id


def applicant_sign_in(client, email: str = "hanako@example.jp"):
    response = client.post("/account/sign-in", data={"email": email, "password": PASSWORD, "next": "",
                                                     "csrf_token": csrf_of(client, "/account/sign-in")})
    assert response.status_code == 302, response.get_data(as_text=True)[:500]


def page(response) -> str:
    return response.get_data(as_text=True)


def post(client, path: str, data: dict, action: str = "confirm", **extra):
    return client.post(path, data={**data, "action": action, "csrf_token": csrf_of(client, "/"), **extra})


def reference_of(html: str) -> str:
    return re.search(r"<strong>([^<]+)</strong>", html).group(1)
