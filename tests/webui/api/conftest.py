"""API tests: the office bundles deployed, staff signed up, and tokens made for them."""

from __future__ import annotations

import pytest

from tests.webui.test_office_setup import APPROVAL, DOG, STAFF

ALL_SCOPES = ("applications:read", "applications:write", "tasks:read", "tasks:write", "messages:write",
              "documents:read", "documents:verify", "incidents:read", "incidents:write")


@pytest.fixture
def office(engine, db):
    """The approval-test and dog-registration bundles, and the office staff (no passwords:
    they act through tokens here)."""
    with db.transaction() as session:
        engine.deploy(session, APPROVAL)
        engine.deploy(session, DOG)
        for name, group in STAFF.items():
            engine.add_user(session, name, groups=[group])
    return engine


@pytest.fixture
def make_token(engine, db):
    """A token acting as ``user`` with ``scopes``: its secret."""
    made = iter(range(1, 1000))

    def token(user: str = "tanaka", *scopes: str, expires=None, name: str | None = None) -> str:
        with db.transaction() as session:
            _row, secret = engine.create_api_token(session, name=name or f"system-{next(made)}", user=user,
                                                   scopes=list(scopes or ALL_SCOPES), expires=expires, actor="root")
        return secret

    return token


def bearer(secret: str) -> dict:
    return {"Authorization": f"Bearer {secret}"}
