"""Security headers on a portal page, a staff page and an API answer: a strict
Content-Security-Policy that no other site may frame, no content sniffing, no referrer to
other origins."""

from __future__ import annotations

import pytest


def assert_protected(response) -> None:
    policy = {part.strip().split(" ", 1)[0]: part.strip() for part in response.headers["Content-Security-Policy"]
              .split(";")}
    assert policy["default-src"] == "default-src 'self'"
    assert policy["script-src"] == "script-src 'self'" and "'unsafe-inline'" not in response.headers[
        "Content-Security-Policy"]
    assert policy["frame-ancestors"] == "frame-ancestors 'none'"
    assert policy["object-src"] == "object-src 'none'" and policy["form-action"] == "form-action 'self'"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Referrer-Policy"] in ("same-origin", "no-referrer", "strict-origin-when-cross-origin")


@pytest.mark.parametrize("page", ["portal", "staff", "api"])
def test_security_headers(engine, db, residents, admin_browser, page):
    hanako, _jiro = residents
    if page == "portal":
        response = hanako.client.get(f"/mypage/applications/{hanako.application_id}")
        assert response.headers["Cache-Control"].startswith("no-store") or "private" in response.headers[
            "Cache-Control"]
    elif page == "staff":
        response = admin_browser.get("/office/")
        assert response.headers["Cache-Control"] == "no-store"
    else:
        with db.transaction() as session:
            _row, secret = engine.create_api_token(session, name="headers", user="tanaka",
                                                   scopes=["applications:read"], actor="root")
        response = admin_browser.get(f"/api/v1/applications/{hanako.application_id}",
                                     headers={"Authorization": f"Bearer {secret}"})
    assert response.status_code == 200
    assert_protected(response)
