"""Tokens: created by the command line (shown once, stored hashed), scopes, expiry,
revocation, last use; 401 and 403 as problem+json; the session cookie never authenticates."""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta

from sqlalchemy import select

from engine.store.models import AuditEvent, utcnow
from engine.store.models_api import ApiToken
from tests.webui.api.conftest import bearer
from tests.webui.conftest import add_staff


def test_the_cli_creates_a_token_shown_once_and_stored_hashed(engine, db, cli):
    add_staff(engine, db, "erp", "kokuho")
    created = cli("tokens", "create", "--name", "erp-sync", "--user", "erp", "--scope", "applications:read",
                  "--scope", "tasks:write", "--expires", "90d", "--as", "root")
    assert created.exit_code == 0, created.output
    secret = created.stdout.splitlines()[0]
    assert secret.startswith("mdg_") and len(secret) > 40
    with db.transaction() as session:
        row = session.scalar(select(ApiToken).where(ApiToken.name == "erp-sync"))
        assert row.token_hash == hashlib.sha256(secret.encode()).hexdigest()
        assert secret not in json.dumps({c.name: str(getattr(row, c.name)) for c in ApiToken.__table__.columns})
        assert row.scopes == ["applications:read", "tasks:write"] and row.user_name == "erp"
        assert timedelta(days=89) < row.expires_at - utcnow() <= timedelta(days=90)
        assert session.scalar(select(AuditEvent.actor).where(AuditEvent.action == "api_token_created")) == "root"
    listed = json.loads(cli("tokens", "list", "--json").stdout)
    assert [(t["name"], t["prefix"], t["status"], t["last_used_at"]) for t in listed] == [
        ("erp-sync", secret[:12], "active", None)]
    assert secret not in cli("tokens", "list").stdout


def test_the_cli_refuses_bad_tokens_with_clear_messages(engine, db, cli):
    add_staff(engine, db, "erp", "kokuho")
    unknown_user = cli("tokens", "create", "--name", "x", "--user", "nobody", "--scope", "tasks:read")
    assert unknown_user.exit_code == 2 and "no such staff user" in unknown_user.output
    bad_scope = cli("tokens", "create", "--name", "x", "--user", "erp", "--scope", "everything")
    assert bad_scope.exit_code == 2 and "everything" in bad_scope.output
    bad_expiry = cli("tokens", "create", "--name", "x", "--user", "erp", "--scope", "tasks:read", "--expires", "soon")
    assert bad_expiry.exit_code == 2 and "90d" in bad_expiry.output
    bad_name = cli("tokens", "create", "--name", "a b", "--user", "erp", "--scope", "tasks:read")
    assert bad_name.exit_code == 2 and "token name" in bad_name.output
    assert cli("tokens", "create", "--name", "x", "--user", "erp", "--scope", "tasks:read").exit_code == 0
    again = cli("tokens", "create", "--name", "x", "--user", "erp", "--scope", "tasks:read")
    assert again.exit_code == 4 and "exists already" in again.output
    assert cli("tokens", "revoke", "nope").exit_code == 2


def test_without_or_with_a_bad_token_the_answer_is_401_problem_json(office, client, make_token):
    secret = make_token("tanaka", "applications:read")
    for headers in ({}, {"Authorization": "Basic dGFuYWthOnB3"}, bearer("mdg_" + "x" * 43),
                    bearer(secret[:-1] + ("A" if secret[-1] != "A" else "B")), bearer("")):
        answer = client.get("/api/v1/applications", headers=headers)
        assert answer.status_code == 401, headers
        assert answer.content_type == "application/problem+json"
        assert answer.json["status"] == 401 and answer.json["title"] == "Unauthorized" and "Bearer" in answer.json["detail"]
        assert answer.headers["WWW-Authenticate"].startswith("Bearer")
    assert client.get("/api/v1/applications", headers=bearer(secret)).status_code == 200


def test_a_token_without_the_scope_gets_403_naming_it(office, client, make_token):
    secret = make_token("tanaka", "applications:read")
    answer = client.post("/api/v1/applications", headers=bearer(secret),
                         json={"procedure": "dog-registration", "data": {}})
    assert answer.status_code == 403 and answer.content_type == "application/problem+json"
    assert answer.json["missing_scope"] == "applications:write" and "applications:write" in answer.json["detail"]
    assert client.get("/api/v1/incidents", headers=bearer(secret)).json["missing_scope"] == "incidents:read"


def test_revoked_and_expired_tokens_stop_working(office, engine, db, client, cli, make_token):
    revoked = make_token("tanaka", "applications:read", name="old-erp")
    assert client.get("/api/v1/applications", headers=bearer(revoked)).status_code == 200
    assert cli("tokens", "revoke", "old-erp", "--as", "root").exit_code == 0
    answer = client.get("/api/v1/applications", headers=bearer(revoked))
    assert answer.status_code == 401 and "revoked" in answer.json["detail"]

    expired = make_token("tanaka", "applications:read", name="short", expires=timedelta(hours=1))
    with db.transaction() as session:
        row = session.scalar(select(ApiToken).where(ApiToken.name == "short"))
        row.expires_at = utcnow() - timedelta(seconds=1)
    answer = client.get("/api/v1/applications", headers=bearer(expired))
    assert answer.status_code == 401 and "expired" in answer.json["detail"]
    statuses = {t["name"]: t["status"] for t in json.loads(cli("tokens", "list", "--json").stdout)}
    assert statuses == {"old-erp": "revoked", "short": "expired"}


def test_the_last_use_is_recorded(office, engine, db, client, make_token):
    secret = make_token("tanaka", "applications:read", name="used")
    with db.transaction() as session:
        assert engine.api_tokens(session)[0].last_used_at is None
    before = utcnow()
    client.get("/api/v1/applications", headers=bearer(secret))
    with db.transaction() as session:
        assert engine.api_tokens(session)[0].last_used_at >= before


def test_a_signed_in_session_never_authenticates_the_api(office, staff):
    client = staff("tanaka", "tanto")
    assert client.get("/api/v1/applications").status_code == 401
    answer = client.post("/api/v1/applications", json={"procedure": "dog-registration", "data": {}})
    assert answer.status_code == 401  # not 400 for a missing CSRF token, and not accepted either


def test_bearer_requests_need_no_csrf_token_and_set_no_cookie(office, client, make_token):
    answer = client.post("/api/v1/applications", headers=bearer(make_token("tanaka")),
                         json={"procedure": "approval-test", "data": {"amount": 1000, "purpose": "備品"}})
    assert answer.status_code == 201, answer.json
    assert "Set-Cookie" not in answer.headers
