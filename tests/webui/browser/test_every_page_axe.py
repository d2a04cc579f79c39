"""Every page of the staff UI, as each kind of staff user sees it, passes axe (no serious or
critical violations) and breaks no Content Security Policy rule.

The pages come from the app's URL map: every GET route of the staff UI must be visited here,
or be named in NOT_PAGES with the reason it is not a page. A new page without a visit fails
``test_every_staff_page_is_visited``.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

from tests.webui.browser.conftest import check_accessibility, sign_in_as
from tests.webui.conftest import add_staff
from tests.webui.test_office_setup import APPROVAL, DOG, away, dog, drafted, open_tasks
from webui import create_app

#: GET routes that are not pages a person reads, and why.
NOT_PAGES = {
    "static": "stylesheets, scripts and vendored files",
    "diagram.application_diagram": "JSON read by the diagram viewer (tested in test_diagram_viewer.py)",
    "office.download_attachment": "a file download",
    "office.preview_attachment": "the attachment itself (PDF or image) shown in a frame of the task page",
}
#: Whole parts of the site that are not the staff UI, and why (matched on the endpoint's blueprint).
NOT_STAFF_UI = {
    "portal": "the applicants' portal (its own browser tests: test_portal_*.py)",
    "api": "the REST API (JSON, tested with schemathesis)",
}

STAFF = {"tanaka": ("tanto",), "sato": ("kakaricho",), "kato": ("zaisei",), "ito": ("somu",),
         "suzuki": ("kacho",), "kondo": ("kacho-dairi",), "eisei": ("seikatsu-eisei",),
         "kanri": ("seikatsu-eisei",), "root": ("admin",)}
#: The kinds of staff users: who signs in, and what makes them that kind.
KINDS = {"approver": "members of the groups a task is offered to", "manager": "kanri manages seikatsu-eisei",
         "administrator": "root is in the group admin", "signed-out": "nobody signed in"}


@dataclass(frozen=True)
class Visit:
    user: str | None  # None: signed out
    path: str
    status: int = 200
    upload: bool = False  # the verification form: the result page is the answer to a POST


def _holder(task) -> str:
    """A user who may work on ``task`` (by name, else by group)."""
    if task.candidate_users:
        return task.candidate_users[0]
    return next(name for name, groups in STAFF.items() if set(groups) & set(task.candidate_groups or ()))


def _route_task(engine, db, application_id: int, kind: str):
    (task,) = open_tasks(engine, db, application_id, kind)
    return task


def _decide(engine, db, task, actor: str, decision: str, **extra) -> None:
    with db.transaction() as session:
        engine.decide(session, task.id, actor=actor, decision=decision, **extra)


@pytest.fixture(scope="module")
def visits(site_engine, site_db, tmp_path_factory) -> dict[str, list[Visit]]:
    """The data that gives every page something to show, and the visits by kind of user."""
    engine, db = site_engine, site_db
    for name, groups in STAFF.items():
        add_staff(engine, db, name, *groups)
    with db.transaction() as session:
        engine.add_group_manager(session, "seikatsu-eisei", "kanri")
        engine.deploy(session, APPROVAL)
        engine.deploy(session, DOG)
    form_task = dog(engine, db)  # on version 1, so that it may be migrated to version 2
    # A second version of the dog registration: its review form asks one thing more.
    changed = tmp_path_factory.mktemp("bundle") / "dog-registration"
    shutil.copytree(DOG, changed)
    review = changed / "forms" / "review.json"
    review.write_text(review.read_text(encoding="utf-8").replace(
        '"comment":', '"inspector": {"type": "string", "maxLength": 100, "title": "確認者"},\n    "comment":'),
        encoding="utf-8")
    with db.transaction() as session:
        engine.deploy(session, changed)

    pending = _route_task(engine, db, drafted(engine, db), "approve")              # 回議 at 係長
    returned = drafted(engine, db)
    _decide(engine, db, _route_task(engine, db, returned, "approve"), "sato", "return", comment="見積書を添付",
            to="drafter")
    consulting = drafted(engine, db)
    _decide(engine, db, _route_task(engine, db, consulting, "approve"), "sato", "approve")
    delegated, decided = drafted(engine, db), drafted(engine, db)
    for application_id in (delegated, decided):
        _decide(engine, db, _route_task(engine, db, application_id, "approve"), "sato", "approve")
        _decide(engine, db, _route_task(engine, db, application_id, "consult"), "kato", "agree")
    away(engine, db, "suzuki", substitute="kondo")
    _decide(engine, db, _route_task(engine, db, decided, "approve"), "kondo", "approve", comment="代決")

    tasks = [pending, _route_task(engine, db, returned, "resubmit"), _route_task(engine, db, consulting, "consult"),
             _route_task(engine, db, consulting, "circulate"), _route_task(engine, db, decided, "review_after")]
    with db.transaction() as session:
        tasks.insert(0, engine.task(session, form_task))
        application = engine.show(session, tasks[0].application_id).application
    assert sorted(t.kind for t in tasks) == sorted(("task", "approve", "resubmit", "consult", "circulate",
                                                    "review_after"))
    office_tabs = [f"/office/?tab={tab}" for tab in ("mine", "groups", "delegated", "overdue")]
    return {
        "approver": [*(Visit("sato", path) for path in office_tabs),
                     Visit("sato", f"/office/?text={application.reference[:6]}&sort=due"),
                     Visit("kondo", "/office/?tab=delegated"),
                     *(Visit(_holder(t), f"/office/tasks/{t.id}") for t in tasks),
                     Visit("sato", "/admin/", 403), Visit("sato", "/office/tasks/no-such-task", 404),
                     Visit("sato", "/no-such-page", 404)],
        "manager": [Visit("kanri", "/office/?tab=groups"), Visit("kanri", f"/office/tasks/{form_task}"),
                    Visit("kanri", "/office/team")],
        "administrator": [
            Visit("root", "/admin/"), Visit("root", "/admin/definitions/dog-registration"),
            Visit("root", "/admin/definitions/dog-registration/1"),
            Visit("root", "/admin/definitions/dog-registration/diff?from=1&to=2"),
            Visit("root", "/admin/applications"), Visit("root", "/admin/applications?procedure=approval-test"),
            Visit("root", f"/admin/applications/{application.id}"),
            Visit("root", f"/admin/applications/{application.id}?migrate_to=2"),
            Visit("root", "/admin/incidents"), Visit("root", "/admin/users"), Visit("root", "/admin/absences"),
            Visit("root", "/admin/plugins"), Visit("root", "/admin/tokens"), Visit("root", "/admin/reports/"),
            Visit("root", "/admin/forms/"), Visit("root", "/admin/forms/dog-registration/review"),
            Visit("root", "/office/"),
        ],
        "signed-out": [Visit(None, "/sign-in"), Visit(None, "/verify/"), Visit(None, "/verify/", upload=True),
                       Visit(None, "/verify/no-such-document", 404), Visit(None, "/no-such-page", 404)],
    }


def _blueprint(endpoint: str) -> str:
    return endpoint.split(".", 1)[0] if "." in endpoint else ""


def _part_of_site(blueprint: str) -> str | None:
    return next((part for part in NOT_STAFF_UI if blueprint == part or blueprint.startswith(part)), None)


def test_every_staff_page_is_visited(site_engine, visits):
    app = create_app(site_engine)
    adapter = app.url_map.bind("127.0.0.1")
    pages = {rule.endpoint for rule in app.url_map.iter_rules() if "GET" in rule.methods
             and _part_of_site(_blueprint(rule.endpoint)) is None and rule.endpoint not in NOT_PAGES}
    visited = set()
    for visit in (v for kind in visits.values() for v in kind):
        parts = urlsplit(visit.path)
        if visit.status == 404 and visit.path == "/no-such-page":
            continue
        visited.add(adapter.match(parts.path, method="POST" if visit.upload else "GET")[0])
    missing = pages - visited
    assert not missing, "staff pages without an axe visit (add one here, or say in NOT_PAGES why it is none): " \
        + ", ".join(sorted(missing))
    known = {rule.endpoint for rule in app.url_map.iter_rules()}
    assert not set(NOT_PAGES) - known, "NOT_PAGES names routes that are gone"


@pytest.mark.parametrize("kind", list(KINDS))
def test_every_page_passes_axe(kind, visits, site_page):
    page = site_page
    signed_in = None
    for visit in visits[kind]:
        if visit.user != signed_in:
            if signed_in is not None:
                page.context.clear_cookies()
            sign_in_as(page, visit.user)
            signed_in = visit.user
        if visit.upload:
            _verify_a_file(page)
        else:
            answer = page.goto(visit.path)
            assert answer.status == visit.status, f"{visit.path} as {visit.user}: {answer.status}"
        check_accessibility(page)


def _verify_a_file(page) -> None:
    """The verification form's answer: a file that is no sealed PDF, so the result says why."""
    page.goto("/verify/")
    page.get_by_label("PDFファイル").set_input_files(
        {"name": "memo.pdf", "mimeType": "application/pdf", "buffer": b"%PDF-1.7\nnot really a document\n"})
    page.get_by_role("main").get_by_role("button", name="検証する").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("検証結果")
