"""Staff pages (office, administration, form builder, reports, diagrams) reached with an
applicant's session: an applicant's sign-in is no staff sign-in, so every one of them — each
route of those blueprints, from the url_map — sends the browser to the staff sign-in page and
changes nothing, even with the applicant's valid CSRF token."""

from __future__ import annotations

from tests.security.conftest import changed_tables, snapshot, token_of
from tests.security.requests import FORM, concrete
from tests.security.routes import STAFF_BLUEPRINTS


def staff_route(rule) -> bool:
    return rule.endpoint.split(".", 1)[0] in STAFF_BLUEPRINTS


def test_an_applicant_session_opens_no_staff_page_and_changes_nothing(app, db, residents, world):
    hanako, _jiro = residents
    requests = concrete(app, world, where=staff_route)
    assert {endpoint.split(".", 1)[0] for endpoint, _m, _p in requests} == set(STAFF_BLUEPRINTS)
    token = token_of(hanako.client)
    before = snapshot(db)
    answers = {}
    for endpoint, method, path in requests:
        response = hanako.client.open(path, method=method, data=FORM if method != "GET" else None,
                                      headers={"X-CSRF-Token": token})
        answers[(endpoint, method)] = (response.status_code, response.headers.get("Location", ""))
    refused = {key: answer for key, answer in answers.items()
               if answer[0] != 302 or not answer[1].startswith("/sign-in")}
    assert refused == {}, "staff routes that did not send an applicant to the staff sign-in"
    assert changed_tables(before, snapshot(db)) == []
    # Still the applicant's session afterwards: nothing above signed them out or in.
    assert hanako.client.get("/mypage").status_code == 200
