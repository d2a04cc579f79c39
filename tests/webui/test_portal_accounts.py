"""Applicant accounts through the web: register, confirm by the link in a real mail (aiosmtpd on
127.0.0.1), sign in, profile, My Page; password reset; unusable links; throttling; staff and
applicant sessions kept apart; another applicant's application answers 404 (IDOR); CSRF."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import update

from engine.store.models import utcnow
from engine.store.models_applicants import ApplicantToken
from tests.plugins.mail_server import Inbox, smtp_server
from tests.webui.conftest import add_staff, csrf_of, sign_in
from webui import create_app

REPO = Path(__file__).parents[2]
PASSWORD = "hanako-password-1"
PROFILE = {"kind": "individual", "name": "山田 花子", "name_kana": "やまだ はなこ", "birth_date": "1985-04-01",
           "postcode": "100-0001", "address": "本町1-2-3", "phone": "03-1234-5678"}


@pytest.fixture
def inbox(monkeypatch):
    """A real SMTP server the mail plugin delivers to."""
    inbox = Inbox()
    with smtp_server(inbox) as port:
        monkeypatch.setenv("MADOGUCHI_MAIL_HOST", "127.0.0.1")
        monkeypatch.setenv("MADOGUCHI_MAIL_PORT", str(port))
        monkeypatch.setenv("MADOGUCHI_MAIL_SENDER", "kurashi@city.example.jp")
        yield inbox


@pytest.fixture
def deliver(engine, db, inbox):
    """Run the queued mail jobs now (as a worker would); returns the mails delivered so far."""
    def run() -> list:
        engine.worker(db).run_once()
        return inbox.messages
    return run


def body(message) -> str:
    return message.get_body(("plain",)).get_content()


def link_path(message) -> str:
    return re.search(r"http://localhost(/account/\S+)", body(message)).group(1)


def page(response) -> str:
    return response.get_data(as_text=True)


def register(client, email: str = "hanako@example.jp", **fields):
    form = {**PROFILE, "email": email, "password": PASSWORD, "password_confirm": PASSWORD, **fields}
    return client.post("/account/register", data={**form, "csrf_token": csrf_of(client, "/account/register")})


def applicant_sign_in(client, email: str = "hanako@example.jp", password: str = PASSWORD, next_page: str = ""):
    return client.post("/account/sign-in", data={"email": email, "password": password, "next": next_page,
                                                 "csrf_token": csrf_of(client, "/account/sign-in")})


def registered(client, deliver, email: str = "hanako@example.jp", **fields) -> None:
    """Register, confirm by the mailed link, and sign in."""
    assert register(client, email, **fields).status_code == 200
    mail = [m for m in deliver() if m["To"] == email][-1]
    assert client.get(link_path(mail)).status_code == 302
    assert applicant_sign_in(client, email).status_code == 302


@pytest.fixture
def dog(engine, db) -> str:
    with db.transaction() as session:
        engine.deploy(session, REPO / "workflows" / "dog-registration")
    return "dog-registration"


def file(engine, db, client_email: str, key: str):
    with db.transaction() as session:
        [account] = [a for a in engine.applicants(session) if a.email == client_email]
        return engine.start_for_applicant(session, key, account.id, {"kind": "new", "dog_name": "ポチ"}).application


def test_register_confirm_sign_in_profile_and_my_page(client, engine, db, deliver, dog):
    response = register(client)
    assert response.status_code == 200 and "hanako@example.jp" in page(response)
    [mail] = deliver()
    assert mail["To"] == "hanako@example.jp" and str(mail["Subject"]).strip().startswith("メールアドレスの確認")
    assert "山田 花子 様" in body(mail) and "24時間" in body(mail)

    # Not confirmed yet: no way in, but a new link (the first one stops working).
    assert applicant_sign_in(client).status_code == 403
    first, second = deliver()
    assert client.get(link_path(first)).status_code == 410
    confirmed = client.get(link_path(second))
    assert confirmed.status_code == 302 and confirmed.headers["Location"] == "/account/sign-in"

    signed_in = applicant_sign_in(client)
    assert signed_in.status_code == 302 and signed_in.headers["Location"] == "/mypage"
    my_page = client.get("/mypage")
    assert my_page.status_code == 200 and "山田 花子" in page(my_page)
    assert my_page.headers["Cache-Control"] == "no-store"

    profile = client.get("/account/profile")
    assert "ヤマダ ハナコ" in page(profile) and 'value="100-0001"' in page(profile)
    saved = client.post("/account/profile", data={**PROFILE, "address": "神宮前1-1", "postcode": "１５０００01",
                                                  "language": "ja", "csrf_token": csrf_of(client, "/account/profile")})
    assert saved.status_code == 302
    assert 'value="150-0001"' in page(client.get("/account/profile"))
    with db.transaction() as session:
        [account] = engine.applicants(session)
        assert engine.applicant_prefill(session, account.id)["applicant"]["address"] == "神宮前1-1"

    application = file(engine, db, "hanako@example.jp", dog)
    listing = page(client.get("/mypage"))
    assert application.reference in listing and "犬の登録申請" in listing and "送信済" in listing
    # No internal step, group or staff member shows.
    assert "内容審査" not in listing and "seikatsu-eisei" not in listing
    detail = client.get(f"/mypage/applications/{application.id}")
    assert detail.status_code == 200 and "送信済" in page(detail)

    client.post("/account/sign-out", data={"csrf_token": csrf_of(client, "/mypage")})
    assert client.get("/mypage").headers["Location"] == "/account/sign-in?next=/mypage"


def test_english_registration_gets_english_mail(client, deliver):
    client.post("/language", data={"lang": "en", "next": "/", "csrf_token": csrf_of(client, "/account/register")})
    register(client)
    [mail] = deliver()
    assert str(mail["Subject"]).strip() == "Please confirm your e-mail address"
    assert body(mail).startswith("Dear 山田 花子,")


def test_form_errors_are_shown_beside_their_fields(client, deliver):
    response = register(client, "hanako@example.jp", kind="business", company_name="", corporate_number="7000012050003",
                        representative="代表取締役 窓口 太郎", postcode="12-34")
    text = page(response)
    assert response.status_code == 422
    assert 'id="corporate_number-error"' in text and 'aria-invalid="true"' in text
    assert "13桁" in text or "13 digits" in text
    assert 'id="company_name-error"' in text and 'id="postcode-error"' in text
    assert deliver() == []


def test_a_taken_address_looks_the_same_and_mails_its_owner(client, app, deliver):
    registered(client, deliver)
    other = app.test_client()
    first = page(register(other, "hanako@example.jp", password="another-pw-12", password_confirm="another-pw-12"))
    fresh = page(register(app.test_client(), "new@example.jp"))
    assert re.sub(r"\S+@example\.jp", "@", first).replace(csrf_pattern(first), "") == \
        re.sub(r"\S+@example\.jp", "@", fresh).replace(csrf_pattern(fresh), "")
    mails = deliver()
    assert [m["To"] for m in mails] == ["hanako@example.jp", "hanako@example.jp", "new@example.jp"]
    assert "すでに登録されています" in body(mails[1]) and "/account/" not in body(mails[1])


def same_page(response, application_id: int) -> str:
    text = page(response)
    return text.replace(csrf_pattern(text), "").replace(f"/mypage/applications/{application_id}", "")


def csrf_pattern(text: str) -> str:
    return re.search(r'name="csrf-token" content="([^"]+)"', text).group(1)


def test_password_reset_does_not_reveal_addresses_and_works_once(client, app, deliver):
    registered(client, deliver)
    stranger = app.test_client()
    known = stranger.post("/account/reset", data={"email": "hanako@example.jp",
                                                  "csrf_token": csrf_of(stranger, "/account/reset")})
    unknown = stranger.post("/account/reset", data={"email": "nobody@example.jp",
                                                    "csrf_token": csrf_of(stranger, "/account/reset")})
    assert known.status_code == unknown.status_code == 200
    assert page(known).replace("hanako", "x") == page(unknown).replace("nobody", "x")
    mails = deliver()
    assert [m["To"] for m in mails] == ["hanako@example.jp", "hanako@example.jp"]
    path = link_path(mails[-1])
    assert "60分" in body(mails[-1])

    assert stranger.get(path).status_code == 200
    mismatch = stranger.post(path, data={"password": "brand-new-password", "password_confirm": "other",
                                         "csrf_token": csrf_of(stranger, path)})
    assert mismatch.status_code == 422
    done = stranger.post(path, data={"password": "brand-new-password", "password_confirm": "brand-new-password",
                                     "csrf_token": csrf_of(stranger, path)})
    assert done.status_code == 302 and done.headers["Location"] == "/account/sign-in"
    # The link is used up; the session signed in with the old password has ended.
    assert stranger.get(path).status_code == 410
    assert client.get("/mypage").status_code == 302
    assert applicant_sign_in(app.test_client(), password=PASSWORD).status_code == 401
    assert applicant_sign_in(app.test_client(), password="brand-new-password").status_code == 302


def test_expired_and_used_verification_links_are_refused(client, engine, db, deliver):
    register(client)
    [mail] = deliver()
    path = link_path(mail)
    with db.transaction() as session:
        session.execute(update(ApplicantToken).values(expires_at=utcnow() - timedelta(minutes=1)))
    expired = client.get(path)
    assert expired.status_code == 410 and "使えません" in page(expired)
    assert client.get("/account/verify/not-a-real-token").status_code == 410

    # Signing in unconfirmed sends a new link; that one works once.
    assert applicant_sign_in(client).status_code == 403
    fresh = link_path(deliver()[-1])
    assert fresh != path
    assert client.get(fresh).status_code == 302
    assert client.get(fresh).status_code == 410


def test_sign_in_is_throttled(engine, deliver):
    app = create_app(engine, config={"TESTING": True, "LOGIN_ATTEMPTS_PER_MINUTE": 3})
    client = app.test_client()
    registered(client, deliver)
    fresh = app.test_client()
    # Three failed tries a minute (the registration's successful sign-in does not count).
    for _try in range(3):
        assert applicant_sign_in(fresh, password="wrong-password").status_code == 401
    refused = applicant_sign_in(fresh)
    assert refused.status_code == 429 and "試行が多すぎます" in page(refused)
    assert fresh.get("/mypage").status_code == 302


def test_staff_and_applicant_sessions_never_mix(client, app, engine, db, deliver):
    add_staff(engine, db, "tanaka", "seikatsu-eisei")
    staff = app.test_client()
    assert sign_in(staff, "tanaka").status_code == 302
    # A staff session is no applicant session.
    assert staff.get("/mypage").headers["Location"].startswith("/account/sign-in")
    assert staff.get("/account/profile").status_code == 302

    registered(client, deliver)
    # An applicant session is no staff session.
    assert client.get("/office/").headers["Location"].startswith("/sign-in")
    assert client.get("/admin/").status_code == 302

    # Signing in as one ends the other on the same browser.
    assert sign_in(client, "tanaka").status_code == 302
    assert client.get("/mypage").status_code == 302
    assert client.get("/office/").status_code == 200
    assert applicant_sign_in(client).status_code == 302
    assert client.get("/office/").status_code == 302
    assert client.get("/mypage").status_code == 200
    # And an applicant's next page never leads into the staff area.
    client.post("/account/sign-out", data={"csrf_token": csrf_of(client, "/mypage")})
    assert applicant_sign_in(client, next_page="/office/").headers["Location"] == "/mypage"


def test_another_applicants_application_is_not_found(client, app, engine, db, deliver, dog):
    registered(client, deliver)
    jiro = app.test_client()
    registered(jiro, deliver, "jiro@example.jp", name="鈴木 次郎")
    hanakos = file(engine, db, "hanako@example.jp", dog)
    assert client.get(f"/mypage/applications/{hanakos.id}").status_code == 200
    theirs = jiro.get(f"/mypage/applications/{hanakos.id}")
    missing = jiro.get(f"/mypage/applications/{hanakos.id + 1000}")
    assert theirs.status_code == missing.status_code == 404
    # Word for word the same page, but for the path asked for (in the language switch's form).
    assert same_page(theirs, hanakos.id) == same_page(missing, hanakos.id + 1000)
    assert hanakos.reference not in page(jiro.get("/mypage"))
    assert app.test_client().get(f"/mypage/applications/{hanakos.id}").status_code == 302


def test_forms_without_the_csrf_token_are_refused(client, deliver):
    registered(client, deliver)
    assert client.post("/account/sign-in", data={"email": "hanako@example.jp", "password": PASSWORD}).status_code == 400
    assert client.post("/account/profile", data=PROFILE).status_code == 400
    assert client.post("/account/sign-out").status_code == 400
    assert client.post("/account/register", data={**PROFILE, "email": "x@example.jp"}).status_code == 400


def test_change_password_keeps_this_session_and_ends_others(client, app, deliver):
    registered(client, deliver)
    elsewhere = app.test_client()
    assert applicant_sign_in(elsewhere).status_code == 302
    changed = client.post("/account/password", data={
        "current_password": PASSWORD, "new_password": "another-password-2", "password_confirm": "another-password-2",
        "csrf_token": csrf_of(client, "/account/password")})
    assert changed.status_code == 302
    assert client.get("/mypage").status_code == 200
    assert elsewhere.get("/mypage").status_code == 302
