"""The administration's API tokens page: list, create (the secret shown once), revoke."""

from __future__ import annotations

import re
from html import unescape

from tests.webui.conftest import csrf_of


def text(answer) -> str:
    return unescape(answer.get_data(as_text=True))


def test_an_admin_creates_uses_and_revokes_a_token(engine, db, staff, app):
    admin = staff("root", "admin")
    page = text(admin.get("/admin/tokens"))
    assert "<h1>APIトークン</h1>" in page and "まだトークンはありません。" in page
    token = csrf_of(admin, "/admin/tokens")

    refused = admin.post("/admin/tokens", data={"name": "erp sync", "user": "root", "csrf_token": token,
                                                "scopes": ["applications:read"], "expires": "90d"})
    assert refused.status_code == 400 and "token name 'erp sync'" in text(refused)
    assert 'value="erp sync"' in text(refused)  # what was typed is kept

    created = admin.post("/admin/tokens", data={"name": "erp-sync", "user": "root", "csrf_token": token,
                                                "scopes": ["applications:read", "tasks:read"], "expires": "30d"})
    assert created.status_code == 201 and created.headers["Cache-Control"] == "no-store"
    secret = re.search(r'id="created-secret" class="secret" value="(mdg_[^"]+)"', text(created)).group(1)
    assert "今すぐトークンをコピーしてください" in text(created)
    again = text(admin.get("/admin/tokens"))
    assert secret not in again and secret[:12] in again and "<code>tasks:read</code>" in again and "未使用" in again

    api = app.test_client()
    assert api.get("/api/v1/applications", headers={"Authorization": f"Bearer {secret}"}).status_code == 200
    assert "未使用" not in text(admin.get("/admin/tokens"))

    assert admin.post("/admin/tokens/erp-sync/revoke").status_code == 400  # no CSRF token
    revoked = admin.post("/admin/tokens/erp-sync/revoke", data={"csrf_token": token}, follow_redirects=True)
    assert "トークン erp-sync を失効させました。" in text(revoked) and "<td>失効</td>" in text(revoked)
    assert api.get("/api/v1/applications", headers={"Authorization": f"Bearer {secret}"}).status_code == 401


def test_only_admins_see_the_tokens_page(staff):
    assert staff("tanaka", "tanto").get("/admin/tokens").status_code == 403
