"""The staff pages in English: no Japanese left in the page's own words (untranslated templates
or strings). The procedure, people and data here are all in English, so any Japanese on the
page comes from the UI itself — except the language switch and the Japanese terms of art that
the English strings deliberately keep beside their English (代決, 引上げ …)."""

from __future__ import annotations

import re

import pytest

from tests.diagrams import flow, process
from tests.engine.helpers import complete, deploy_text, open_tasks, start
from tests.engine.jobs.support import service_task
from tests.webui.conftest import add_staff, csrf_of, sign_in

PERMIT = process("street_permit", "\n".join([
    '<bpmn:startEvent id="start" name="Received"/>',
    '<bpmn:userTask id="review" name="Review the request" camunda:candidateGroups="clerks"/>',
    service_task("route", "approval_route", {"levels": '["managers"]', "title": '"Permit decision"'}),
    '<bpmn:endEvent id="done" name="Done"/>',
    flow("f1", "start", "review"), flow("f2", "review", "route"), flow("f3", "route", "done"),
]))

JAPANESE = re.compile(r"[\u3000-\u30ff\u3400-\u9fff\uff00-\uffef]+")
#: Japanese the English pages show on purpose: the switch back to Japanese, and terms of art
#: that English strings keep next to their English wording.
KEPT = {"日本語", "代決", "代決者", "引上げ", "引戻し", "後閲", "供覧", "合議", "回議", "回議・決裁", "専決", "差戻し",
        "決裁", "却下", "和暦"}
#: Step labels the engine writes into a route's plan and task names (stored data, signed in the
#: decision records' step names), not words of the page.
ROUTE_STEP_LABELS = {"起案", "決裁（", "）"}
#: Scripts, styles and values shown as code (settings, identifiers) are not the page's words.
HIDDEN = re.compile(r"<(script|style|code)\b.*?</\1>", re.S)
#: The plugins page's last column is each plugin's own description of a setting (its author's words).
PLUGIN_DESCRIPTIONS = re.compile(r"<td>[^<]*</td></tr>")


def leaks(html: str, path: str = "") -> list[str]:
    html = HIDDEN.sub("", html)
    if path == "/admin/plugins":
        html = PLUGIN_DESCRIPTIONS.sub("</tr>", html)
    return sorted({run for run in JAPANESE.findall(html) if run not in KEPT | ROUTE_STEP_LABELS})


@pytest.fixture
def office(engine, db, tmp_path):
    deploy_text(engine, db, tmp_path, PERMIT)
    add_staff(engine, db, "alice", "clerks", "admin")
    add_staff(engine, db, "bob", "managers")
    with db.transaction() as session:
        engine.add_group_manager(session, "clerks", "alice")
    waiting = start(engine, db, "street_permit", {"street": "Main Street", "days": 3}).application.id
    reviewed = start(engine, db, "street_permit", {"street": "Station Road", "days": 1}).application.id
    [review] = open_tasks(engine, db, reviewed)
    complete(engine, db, review.id, "alice")
    [decision] = open_tasks(engine, db, reviewed)
    [open_review] = open_tasks(engine, db, waiting)
    return {"review": open_review.id, "decision": decision.id, "application": reviewed}


def in_english(app, name: str):
    client = app.test_client()
    assert sign_in(client, name).status_code == 302
    client.post("/language", data={"lang": "en", "next": "/office/", "csrf_token": csrf_of(client)})
    return client


def test_the_staff_pages_in_english_have_no_untranslated_japanese(app, office):
    alice, bob = in_english(app, "alice"), in_english(app, "bob")
    application = office["application"]
    pages = {
        alice: ["/office/", "/office/?tab=groups", "/office/?tab=overdue", "/office/team",
                f"/office/tasks/{office['review']}", "/admin/", "/admin/definitions/street_permit",
                "/admin/definitions/street_permit/1", "/admin/applications", f"/admin/applications/{application}",
                "/admin/incidents", "/admin/plugins", "/admin/reports/", "/admin/tokens", "/admin/users",
                "/admin/absences", "/admin/forms/"],
        bob: ["/office/", f"/office/tasks/{office['decision']}"],
    }
    found = {}
    for client, paths in pages.items():
        for path in paths:
            answer = client.get(path)
            assert answer.status_code == 200, path
            html = answer.get_data(as_text=True)
            assert '<html lang="en"' in html, path
            if leaks(html, path):
                found[path] = leaks(html, path)
    assert found == {}, "\n".join(f"{path}: {words}" for path, words in found.items())


def test_the_decision_form_in_english_names_the_deadline(app, office):
    page = in_english(app, "bob").get(f"/office/tasks/{office['decision']}").get_data(as_text=True)
    assert '<label for="decision-deadline">Answer by (for a return)</label>' in page


def test_the_check_sees_japanese_where_it_is(app, office):
    """The same page in Japanese (the default) is full of what the check looks for."""
    client = app.test_client()
    assert sign_in(client, "alice").status_code == 302
    html = client.get("/office/").get_data(as_text=True)
    assert '<html lang="ja"' in html
    assert len(leaks(html)) > 5
