"""Sign-in throttling counts failures only: one office (or a library full of residents) behind
one address signs in all morning without locking itself out; guessing is still slowed."""

from __future__ import annotations

from tests.webui.conftest import PASSWORD, add_staff, csrf_of, sign_in
from tests.webui.test_portal_accounts import applicant_sign_in, deliver, inbox, registered  # noqa: F401
from webui import create_app
from webui.security import SignInThrottle

LIMIT = 3


def sign_out(client) -> None:
    client.post("/sign-out", data={"csrf_token": csrf_of(client)})


def test_many_staff_sign_ins_from_one_address_are_not_throttled(engine, db):
    app = create_app(engine, config={"TESTING": True, "LOGIN_ATTEMPTS_PER_MINUTE": LIMIT})
    colleagues = [f"staff{n}" for n in range(LIMIT * 2)]
    for name in colleagues:
        add_staff(engine, db, name, "tanto")
    for name in colleagues:  # the whole office, one NAT address, in one minute
        client = app.test_client()
        assert sign_in(client, name).status_code == 302
        assert client.get("/office/").status_code == 200
    again = app.test_client()
    for _morning in range(LIMIT + 1):  # the same person signing in and out all day
        assert sign_in(again, "staff0").status_code == 302
        sign_out(again)


def test_failures_still_lock_the_address_and_the_user_name(engine, db):
    app = create_app(engine, config={"TESTING": True, "LOGIN_ATTEMPTS_PER_MINUTE": LIMIT})
    add_staff(engine, db, "tanaka", "tanto")
    add_staff(engine, db, "sato", "kakaricho")
    guesser = app.test_client()
    assert sign_in(guesser, "sato").status_code == 302  # a success first: it does not count
    sign_out(guesser)
    statuses = [sign_in(guesser, "tanaka", f"guess-{n}").status_code for n in range(LIMIT + 1)]
    assert statuses == [401] * LIMIT + [429]
    assert sign_in(guesser, "tanaka", PASSWORD).status_code == 429  # even the right password waits
    assert sign_in(guesser, "sato").status_code == 429  # the address is locked for every name


def test_failures_per_user_name_count_from_any_address(engine, db):
    throttle = SignInThrottle(LIMIT)
    for n in range(LIMIT):
        assert not throttle.blocked(f"addr:10.0.0.{n}", "user:tanaka")
        throttle.failed(f"addr:10.0.0.{n}", "user:tanaka")
    assert throttle.blocked("addr:10.0.0.99", "user:tanaka")
    assert not throttle.blocked("addr:10.0.0.99", "user:sato")


def test_many_applicant_sign_ins_from_one_address_are_not_throttled(engine, deliver):  # noqa: F811
    app = create_app(engine, config={"TESTING": True, "LOGIN_ATTEMPTS_PER_MINUTE": LIMIT})
    registered(app.test_client(), deliver)
    for _visit in range(LIMIT * 2):
        assert applicant_sign_in(app.test_client()).status_code == 302
    guesser = app.test_client()
    for _try in range(LIMIT):
        assert applicant_sign_in(guesser, password="wrong-password").status_code == 401
    assert applicant_sign_in(guesser).status_code == 429
