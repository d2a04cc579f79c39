"""Users with their groups, and absences with substitutes (代決), from the admin pages."""

from __future__ import annotations

from datetime import datetime
from html import unescape

import pytest

from engine.scripting.namespace import JST
from tests.webui.conftest import add_staff, csrf_of, sign_in

NEW_PASSWORD = "a long initial password"


@pytest.fixture
def admin(staff):
    return staff("root", "admin")


def text(answer) -> str:
    return unescape(answer.get_data(as_text=True))


def add_user(client, **fields):
    form = {"name": "yamada", "display_name": "山田 太郎", "groups": "kikaku, somu", "password": NEW_PASSWORD,
            **fields}
    return client.post("/admin/users", data={**form, "csrf_token": csrf_of(client, "/admin/users")})


def test_add_a_user_with_groups_who_can_then_sign_in(engine, db, app, admin):
    answer = add_user(admin)
    assert answer.status_code == 302 and answer.headers["Location"] == "/admin/users"
    page = text(admin.get("/admin/users"))
    assert "ユーザー yamada を追加しました。" in page
    assert '<th scope="row">yamada</th><td>山田 太郎</td><td>kikaku, somu</td>' in page
    assert '<th scope="row">root</th>' in page and "<td>admin</td>" in page
    with db.transaction() as session:
        user = engine.staff_user(session, "yamada")
        assert user.groups == {"kikaku", "somu"} and user.display_name == "山田 太郎"

    newcomer = app.test_client()
    assert sign_in(newcomer, "yamada", NEW_PASSWORD).status_code == 302
    assert newcomer.get("/admin/users").status_code == 403  # not in the admin group


def test_a_user_is_not_overwritten_and_bad_input_is_explained(engine, db, admin):
    assert add_user(admin).status_code == 302
    twice = add_user(admin, groups="admin", password="another long password")
    assert twice.status_code == 409 and "ユーザー yamada はすでに存在します。" in text(twice)
    with db.transaction() as session:
        assert engine.staff_user(session, "yamada").groups == {"kikaku", "somu"}
        assert engine.authenticate(session, "yamada", NEW_PASSWORD) is not None

    short = add_user(admin, name="kato", password="short")
    assert short.status_code == 400 and "初期パスワードは 12 文字以上にしてください。" in text(short)
    spaced = add_user(admin, name="ka to")
    assert spaced.status_code == 400 and "is not a valid user name" in text(spaced)
    assert 'value="ka to"' in spaced.get_data(as_text=True)  # the form keeps what was typed
    with db.transaction() as session:
        assert {u.name for u, _groups in engine.users(session)} == {"root", "yamada"}
    refused = admin.post("/admin/users", data={"name": "kato", "password": NEW_PASSWORD})
    assert refused.status_code == 400  # no CSRF token


def absence_form(**fields):
    return {"user": "kacho", "starts_at": "2026-12-01T09:00", "ends_at": "2026-12-03T17:30",
            "substitute": "hosa", "reason": "出張（東京）", **fields}


def test_add_and_remove_an_absence_with_a_substitute(engine, db, admin):
    add_staff(engine, db, "kacho", "kacho")
    add_staff(engine, db, "hosa", "kacho-hosa")
    page = text(admin.get("/admin/absences"))
    assert "登録されている不在はありません。" in page and '<option value="kacho">kacho</option>' in page

    answer = admin.post("/admin/absences", data={**absence_form(), "csrf_token": csrf_of(admin, "/admin/absences")})
    assert answer.status_code == 302 and answer.headers["Location"] == "/admin/absences"
    with db.transaction() as session:
        [absence] = engine.absences(session)
        assert absence.starts_at == datetime(2026, 12, 1, 9, 0, tzinfo=JST)  # the form means Japan time
        assert absence.ends_at == datetime(2026, 12, 3, 17, 30, tzinfo=JST)
        assert (absence.user, absence.substitute, absence.reason) == ("kacho", "hosa", "出張（東京）")
    page = text(admin.get("/admin/absences"))
    assert "kacho の不在を登録しました。" in page
    assert ('<th scope="row">kacho</th><td>2026-12-01 09:00</td><td>2026-12-03 17:30</td>' in page
            and "<td>hosa</td><td>出張（東京）</td>" in page)

    removed = admin.post(f"/admin/absences/{absence.id}/remove", data={"csrf_token": csrf_of(admin, "/admin/absences")})
    assert removed.status_code == 302
    assert "不在を削除しました。" in text(admin.get("/admin/absences"))
    with db.transaction() as session:
        assert engine.absences(session) == []
    gone = admin.post(f"/admin/absences/{absence.id}/remove", data={"csrf_token": csrf_of(admin, "/admin/absences")})
    assert gone.status_code == 404
    trail = system_events(db, "absence_added", "absence_removed")
    assert [(action, actor, details["user"], details["substitute"]) for action, actor, details in trail] == [
        ("absence_added", "root", "kacho", "hosa"), ("absence_removed", "root", "kacho", "hosa")]


def system_events(db, *actions: str) -> list[tuple]:
    from engine.store.models import AuditEvent

    with db.transaction() as session:
        return [(e.action, e.actor, e.details) for e in session.query(AuditEvent)
                .filter(AuditEvent.chain == "system", AuditEvent.action.in_(actions)).order_by(AuditEvent.seq)]


def manager_form(client, path: str, **fields):
    return client.post(path, data={**fields, "csrf_token": csrf_of(client, "/admin/users")})


def test_group_managers_are_added_shown_and_removed(engine, db, admin):
    add_staff(engine, db, "kacho", "kacho")
    add_staff(engine, db, "tanaka", "tanto")
    page = text(admin.get("/admin/users"))
    assert "管理者のいるグループはまだありません。" in page and '<option value="tanto">tanto</option>' in page
    added = manager_form(admin, "/admin/managers", group="tanto", user="kacho")
    assert added.status_code == 302
    page = text(admin.get("/admin/users"))
    assert "kacho を tanto の管理者にしました。" in page
    assert '<th scope="row">kacho</th><td>—</td><td>kacho</td><td>tanto</td>' in page  # the Manages column
    assert '<th scope="row">tanto</th><td>kacho</td>' in page
    with db.transaction() as session:
        assert engine.group_managers(session) == [("tanto", "kacho")]
    unknown = manager_form(admin, "/admin/managers", group="nobody", user="kacho")
    assert unknown.status_code == 400 and "there is no group 'nobody'" in text(unknown)
    removed = manager_form(admin, "/admin/managers/remove", group="tanto", user="kacho")
    assert removed.status_code == 302
    assert "kacho は tanto の管理者ではなくなりました。" in text(admin.get("/admin/users"))
    again = manager_form(admin, "/admin/managers/remove", group="tanto", user="kacho")
    assert again.status_code == 400 and "is not a manager" in text(again)
    assert [(a, actor, d) for a, actor, d in system_events(db, "group_manager_added", "group_manager_removed")] == [
        ("group_manager_added", "root", {"group": "tanto", "user": "kacho"}),
        ("group_manager_removed", "root", {"group": "tanto", "user": "kacho"})]
    assert admin.post("/admin/managers", data={"group": "tanto", "user": "kacho"}).status_code == 400  # no token


def test_a_wrong_absence_is_refused_with_a_reason(engine, db, admin):
    add_staff(engine, db, "kacho", "kacho")
    token = csrf_of(admin, "/admin/absences")
    backwards = admin.post("/admin/absences", data={**absence_form(substitute="", ends_at="2026-11-30T09:00"),
                                                     "csrf_token": token})
    assert backwards.status_code == 400 and "before it starts" in text(backwards)
    unknown = admin.post("/admin/absences", data={**absence_form(), "csrf_token": token})
    assert unknown.status_code == 400 and "there is no staff user 'hosa'" in text(unknown)
    blank = admin.post("/admin/absences", data={**absence_form(starts_at=""), "csrf_token": token})
    assert blank.status_code == 400 and "不在の開始日時と終了日時を入力してください。" in text(blank)
    assert admin.post("/admin/absences", data=absence_form()).status_code == 400  # no CSRF token
    with db.transaction() as session:
        assert engine.absences(session) == []


def test_the_people_pages_in_english_with_labels_for_every_field(admin):
    admin.post("/language", data={"lang": "en", "next": "/admin/users", "csrf_token": csrf_of(admin, "/admin/users")})
    users = admin.get("/admin/users").get_data(as_text=True)
    assert "<h1>Users and groups</h1>" in users and "Initial password" in users
    assert "<title>Users and groups" in users and users.count('id="managers-heading"') == 1
    absences = admin.get("/admin/absences").get_data(as_text=True)
    assert "<h1>Absences and substitutes</h1>" in absences and "Substitute (代決者)" in absences
    for page in (users, absences):
        fields = [part.split('"', 1)[0] for part in page.split('<input id="')[1:]]
        fields += [part.split('"', 1)[0] for part in page.split('<select id="')[1:]]
        assert fields and all(f'<label for="{field}">' in page for field in fields)
