"""Sign-in, sessions, CSRF, security headers, languages, error pages."""

from __future__ import annotations

from tests.webui.conftest import PASSWORD, add_staff, csrf_of, sign_in


def test_pages_need_sign_in_and_come_back_after_it(engine, db, client):
    answer = client.get("/office/")
    assert answer.status_code == 302 and "/sign-in?next=/office/" in answer.headers["Location"]
    add_staff(engine, db, "tanaka", "tanto")
    token = csrf_of(client)
    answer = client.post("/sign-in", data={"name": "tanaka", "password": PASSWORD, "csrf_token": token,
                                           "next": "/office/"})
    assert answer.status_code == 302 and answer.headers["Location"] == "/office/"
    page = client.get("/office/")
    assert page.status_code == 200 and "自分のタスク" in page.get_data(as_text=True)


def test_a_wrong_password_or_user_says_the_same(engine, db, client):
    add_staff(engine, db, "tanaka", "tanto")
    wrong_password = sign_in(client, "tanaka", "nope")
    wrong_user = sign_in(client, "nobody", PASSWORD)
    assert wrong_password.status_code == wrong_user.status_code == 401
    message = "ユーザー名またはパスワードが正しくありません。"
    assert message in wrong_password.get_data(as_text=True) and message in wrong_user.get_data(as_text=True)
    assert client.get("/office/").status_code == 302


def test_sign_in_is_rate_limited(engine, db, app, client):
    add_staff(engine, db, "tanaka", "tanto")
    limit = app.config["LOGIN_ATTEMPTS_PER_MINUTE"]
    statuses = [sign_in(client, "tanaka", f"guess-{n}").status_code for n in range(limit + 2)]
    assert statuses[:limit] == [401] * limit and statuses[limit:] == [429, 429]
    assert sign_in(client, "tanaka").status_code == 429  # even the right password waits


def test_forms_without_the_csrf_token_are_refused(engine, db, client):
    add_staff(engine, db, "tanaka", "tanto")
    refused = client.post("/sign-in", data={"name": "tanaka", "password": PASSWORD})
    assert refused.status_code == 400
    csrf_of(client)
    forged = client.post("/sign-in", data={"name": "tanaka", "password": PASSWORD, "csrf_token": "forged"})
    assert forged.status_code == 400
    assert sign_in(client, "tanaka").status_code == 302
    assert client.post("/sign-out").status_code == 400  # signed in, still no token: refused
    assert client.post("/sign-out", data={"csrf_token": csrf_of(client, "/office/")}).status_code == 302
    assert client.get("/office/").status_code == 302


def test_security_headers(client):
    answer = client.get("/sign-in")
    headers = answer.headers
    assert "default-src 'self'" in headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
    assert headers["X-Content-Type-Options"] == "nosniff" and headers["X-Frame-Options"] == "DENY"
    assert headers["Referrer-Policy"] == "same-origin"
    cookie = headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_staff_pages_are_not_cached(staff):
    client = staff()
    assert client.get("/office/").headers["Cache-Control"] == "no-store"


def test_japanese_by_default_english_by_switch(client):
    assert "<h1>ログイン</h1>" in client.get("/sign-in").get_data(as_text=True)
    answer = client.post("/language", data={"lang": "en", "next": "/sign-in", "csrf_token": csrf_of(client)})
    assert answer.status_code == 302 and answer.headers["Location"] == "/sign-in"
    page = client.get("/sign-in").get_data(as_text=True)
    assert "<h1>Sign in</h1>" in page and 'lang="en"' in page
    outside = client.post("/language", data={"lang": "ja", "next": "https://evil.example/",
                                              "csrf_token": csrf_of(client)})
    assert outside.headers["Location"] == "/office/"


def test_every_ui_string_has_japanese():
    import subprocess
    import sys
    from pathlib import Path

    script = Path(__file__).parents[2] / "scripts" / "translations.py"
    result = subprocess.run([sys.executable, str(script), "--check"], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout


def test_the_compiled_catalogue_is_current():
    from io import BytesIO
    from pathlib import Path

    from babel.messages.mofile import write_mo

    from tests.webui.scripts_translations import build

    catalog, missing = build()
    assert missing == []
    compiled = BytesIO()
    write_mo(compiled, catalog)
    committed = Path(__file__).parents[2] / "webui" / "translations" / "ja" / "LC_MESSAGES" / "messages.mo"
    assert committed.read_bytes() == compiled.getvalue(), "run `make translations` and commit the result"


def test_admin_area_is_for_admins(engine, db, staff):
    client = staff("tanaka", "tanto")
    assert client.get("/admin/").status_code == 403
    add_staff(engine, db, "root", "admin")
    client.post("/sign-out", data={"csrf_token": csrf_of(client, "/office/")})
    assert sign_in(client, "root").status_code == 302
    assert client.get("/admin/").status_code == 200
