"""CSRF: every state-changing route of the portal and the staff pages (from the url_map, less
the API and the payment callback — see test_route_inventory.py) refuses a request without the
session's token, or with another session's, and changes nothing."""

from __future__ import annotations

import pytest

from tests.security.conftest import changed_tables, snapshot, token_of
from tests.security.requests import FORM, UNSAFE, concrete
from webui import security


def checked(rule) -> bool:
    return bool(rule.methods & set(UNSAFE)) and rule.endpoint not in security.EXEMPT_ENDPOINTS


@pytest.mark.parametrize("who", ["applicant", "admin", "signed_out"])
def test_every_form_refuses_a_missing_or_foreign_token_and_changes_nothing(app, db, residents, world,
                                                                           admin_browser, who):
    hanako, jiro = residents
    browser = {"applicant": hanako.client, "admin": admin_browser, "signed_out": app.test_client()}[who]
    foreign = token_of(jiro.client)  # a valid token, of another session
    requests = concrete(app, world, methods=UNSAFE, where=checked)
    assert len(requests) > 40 and ("portal.withdraw_application", "POST",
                                   f"/mypage/applications/{world['application_id']}/withdraw") in requests
    before = snapshot(db)
    answers = {}
    for endpoint, method, path in requests:
        for sent in ({}, {"csrf_token": foreign}, {"csrf_token": ""}):
            answers[(endpoint, method, tuple(sent.values()))] = browser.open(
                path, method=method, data={**FORM, **sent}).status_code
        answers[(endpoint, method, "header")] = browser.open(path, method=method, data=FORM,
                                                             headers={"X-CSRF-Token": foreign}).status_code
    assert {key: status for key, status in answers.items() if status not in (400, 403)} == {}
    assert changed_tables(before, snapshot(db)) == []


def test_the_same_request_with_the_sessions_token_does_act(db, residents, world):
    """The control: the requests refused above are ones that act when the token is right."""
    hanako, _jiro = residents
    before = snapshot(db)
    response = hanako.client.post(f"/mypage/applications/{world['application_id']}/withdraw",
                                  data={**FORM, "csrf_token": token_of(hanako.client)})
    assert response.status_code == 302
    assert "applications" in changed_tables(before, snapshot(db))
