"""The form builder pages: only for admins, plain POSTs build a form, the preview speaks both
languages, saving deploys a new version, problems stand beside their inputs."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from engine.form_builder import form_named, user_tasks
from tests.diagrams import chain, process, user_task
from tests.webui.conftest import add_staff, csrf_of, sign_in
from webui import create_app
from webui.form_builder import blueprint as form_builder

DOG_REGISTRATION = Path(__file__).parents[2] / "workflows" / "dog-registration"
EDITOR = "/admin/forms/dog-registration/owner"


@pytest.fixture
def app(engine):
    app = create_app(engine, config={"TESTING": True})
    if "form_builder" not in app.blueprints:
        app.register_blueprint(form_builder)
    return app


@pytest.fixture
def admin(engine, db, client):
    with db.transaction() as session:
        engine.deploy(session, DOG_REGISTRATION, actor="setup")
    add_staff(engine, db, "root", "admin")
    assert sign_in(client, "root").status_code == 302
    return client


def draft(token: str, action: str, *, lang: str = "ja", **changes) -> dict:
    """The editor's inputs for a form of two fields: a choice and a field shown for one choice."""
    data = {
        "csrf_token": token, "action": action, "preview_lang": lang, "field_count": "2",
        "title_ja": "飼い主の情報", "title_en": "Owner",
        "fields-0-name": "housing", "fields-0-type": "string", "fields-0-widget": "radio",
        "fields-0-label_ja": "住まいの種類", "fields-0-label_en": "Kind of home", "fields-0-required": "on",
        "fields-0-choices": "house|一戸建て|House\nflat|集合住宅|Flat",
        "fields-1-name": "landlord_consent", "fields-1-type": "boolean", "fields-1-widget": "checkbox",
        "fields-1-label_ja": "管理者の同意", "fields-1-label_en": "Landlord's consent",
        "fields-1-help_ja": "集合住宅の場合", "fields-1-help_en": "For flats", "fields-1-required": "on",
        "fields-1-show_if_field": "housing", "fields-1-show_if_equals": "flat",
    }
    data.update(changes)
    return data


def preview_of(page: str) -> str:
    return page.split('id="builder-preview"', 1)[1]


def test_only_admins_may_build_forms(engine, db, client):
    assert client.get("/admin/forms/").status_code == 302  # to the sign-in
    add_staff(engine, db, "tanaka", "tanto")
    assert sign_in(client, "tanaka").status_code == 302
    assert client.get("/admin/forms/").status_code == 403
    token = csrf_of(client, "/office/")
    creating = client.post("/admin/forms/new", data={"csrf_token": token, "key": "x", "name": "y"})
    assert creating.status_code == 403
    assert client.post(EDITOR, data={"csrf_token": token, "action": "save"}).status_code == 403


def test_the_list_shows_each_procedures_forms(admin):
    page = admin.get("/admin/forms/").get_data(as_text=True)
    assert "dog-registration" in page and 'href="/admin/forms/dog-registration/review"' in page
    editor = admin.get("/admin/forms/dog-registration/review").get_data(as_text=True)
    assert 'value="decision"' in editor and "審査結果" in editor


def test_build_preview_and_save_a_form_with_a_condition(engine, db, admin):
    token = csrf_of(admin, "/admin/forms/")
    created = admin.post("/admin/forms/new", data={"csrf_token": token, "key": "dog-registration",
                                                   "name": "owner"})
    assert created.status_code == 302 and created.headers["Location"] == EDITOR
    empty = admin.get(EDITOR).get_data(as_text=True)
    assert 'name="field_count" value="1"' in empty

    added = admin.post(EDITOR, data={**draft(token, "add")}).get_data(as_text=True)
    assert 'name="field_count" value="3"' in added and 'id="f2-name"' in added

    japanese = preview_of(admin.post(EDITOR, data=draft(token, "refresh")).get_data(as_text=True))
    assert "住まいの種類" in japanese and "集合住宅" in japanese and "管理者の同意" in japanese
    assert "Kind of home" not in japanese and "（必須）" in japanese
    english = preview_of(admin.post(EDITOR, data=draft(token, "refresh", lang="en")).get_data(as_text=True))
    assert "Kind of home" in english and "Flat" in english and "Landlord&#39;s consent" in english
    assert "住まいの種類" not in english and "(required when shown)" in english

    saved = admin.post(EDITOR, data=draft(token, "save"))
    assert saved.status_code == 302
    page = admin.get(saved.headers["Location"]).get_data(as_text=True)
    assert "dog-registration の第2版として保存しました。" in page
    with db.transaction() as session:
        definition, files = engine.definition_files(session, "dog-registration")
    assert definition.version == 2 and definition.deployed_by == "root"
    form = form_named(files, "owner")
    assert form.schema["required"] == ["housing"]
    assert form.schema["allOf"][0]["then"] == {"required": ["landlord_consent"]}
    assert form.ui_schema["fields"]["housing"]["choice_labels"]["flat"] == {"ja": "集合住宅", "en": "Flat"}

    again = admin.post(EDITOR, data=draft(token, "save"))
    assert "変更はありません" in admin.get(again.headers["Location"]).get_data(as_text=True)
    listed = admin.get("/admin/forms/").get_data(as_text=True)
    assert 'href="/admin/forms/dog-registration/owner"' in listed


def test_fields_move_and_go(admin):
    token = csrf_of(admin, "/admin/forms/")
    moved = admin.post(EDITOR, data=draft(token, "down-0")).get_data(as_text=True)
    assert moved.index('value="landlord_consent"') < moved.index('value="housing"')
    removed = admin.post(EDITOR, data=draft(token, "remove-0")).get_data(as_text=True)
    assert 'name="field_count" value="1"' in removed and 'value="housing"' not in removed.split("<form")[1] \
        .split('name="fields-0-show_if_field"')[0]
    assert admin.post(EDITOR, data=draft(token, "remove-7")).status_code == 400


def test_problems_stand_beside_their_inputs(engine, db, admin):
    token = csrf_of(admin, "/admin/forms/")
    answer = admin.post(EDITOR, data=draft(token, "save", **{"fields-0-name": "住まい",
                                                             "fields-1-show_if_equals": "castle"}))
    page = answer.get_data(as_text=True)
    assert answer.status_code == 400
    name_input = re.search(r'<input id="f0-name"[^>]*>', page).group(0)
    assert 'aria-invalid="true"' in name_input and "f0-name-error" in name_input
    assert re.search(r'<span class="field-error" id="f0-name-error">「住まい」は名前に使えません', page)
    assert 'id="f1-show_if-error"' in page and 'href="#f0-name"' in page
    with db.transaction() as session:
        assert engine.definition_files(session, "dog-registration")[0].version == 1


def test_a_bad_form_name_is_refused(admin):
    token = csrf_of(admin, "/admin/forms/")
    answer = admin.post("/admin/forms/new", data={"csrf_token": token, "key": "dog-registration",
                                                  "name": "Bad Name"})
    assert answer.status_code == 302 and answer.headers["Location"] == "/admin/forms/"
    assert "フォーム名" in admin.get("/admin/forms/").get_data(as_text=True)
    assert admin.get("/admin/forms/dog-registration/Bad%20Name").status_code == 404
    existing = admin.post("/admin/forms/new", data={"csrf_token": token, "key": "dog-registration",
                                                    "name": "review"})
    assert existing.headers["Location"] == "/admin/forms/"


def test_the_preview_fragment_for_scripts(admin):
    token = csrf_of(admin, "/admin/forms/")
    fragment = admin.post(EDITOR + "/preview", data=draft(token, "refresh", lang="en")).get_data(as_text=True)
    assert 'lang="en"' in fragment and "Kind of home" in fragment and "(required)" in fragment
    assert "<html" not in fragment  # a fragment, to put in place of the preview


def test_changes_without_the_csrf_token_are_refused(admin):
    token = csrf_of(admin, "/admin/forms/")
    assert admin.post(EDITOR, data={**draft(token, "save"), "csrf_token": "forged"}).status_code == 400
    without = draft(token, "save")
    del without["csrf_token"]
    assert admin.post(EDITOR, data=without).status_code == 400
    creating = admin.post("/admin/forms/new", data={"key": "dog-registration", "name": "owner"})
    assert creating.status_code == 400


def test_a_form_is_given_to_a_task_of_an_uploaded_diagram(engine, db, admin, tmp_path):
    folder = tmp_path / "pet-permit"
    folder.mkdir()
    diagram = process("pet_permit", "\n".join([
        '<bpmn:startEvent id="s"/>', user_task("check", "書類確認"), '<bpmn:endEvent id="e"/>',
        chain("s", "check", "e")]))
    (folder / "pet-permit.bpmn").write_text(diagram, encoding="utf-8")
    with db.transaction() as session:
        engine.deploy(session, folder, actor="root")
    editor = "/admin/forms/pet_permit/check_form"
    page = admin.get(editor).get_data(as_text=True)
    assert 'name="tasks" value="check"' in page and "書類確認" in page
    token = csrf_of(admin, "/admin/forms/")
    saved = admin.post(editor, data={**draft(token, "save"), "tasks": "check"})
    assert saved.status_code == 302
    with db.transaction() as session:
        definition, files = engine.definition_files(session, "pet_permit")
    assert definition.version == 2
    assert [(t.id, t.form_key) for t in user_tasks(files)] == [("check", "check_form")]
    assert "このフォームを使用中" in admin.get(editor).get_data(as_text=True)
