"""An applicant cannot read or change another applicant's application, draft, document, payment
or upload through the portal — neither with the other's real ids nor with guessed ones. Every
such request answers 404 (never 403, which would confirm the id, nor 500) and changes nothing."""

from __future__ import annotations

import uuid

import pytest

from engine.applicants import filings
from engine.issuance.pki import init_dev_seal
from tests.engine.helpers import add_user
from tests.engine.issuance.test_issuance_flow import BUNDLE as ISSUANCE
from tests.engine.issuance.test_issuance_flow import STAFF, decided_by_substitute, issued_document
from tests.security.conftest import changed_tables, snapshot, token_of
from tests.security.routes import APPLICANT_OWNED
from tests.webui.portal_apply_support import ANSWERS, APPLY, add_applicant, applicant_sign_in

#: Ids no row has, or that are not ids at all: the route must not choke on them.
GUESSED_IDS = ("0", "²", str(2**31 - 1), str(2**31), str(2**63), "9" * 30, "-1", "abc", "1.5", "%20", "1e3")


def integer_guesses(own: int, other: int) -> list[str]:
    """The other applicant's real id, both neighbours of each id, and the usual guesses."""
    near = {str(i) for i in (own - 1, own + 1, other - 1, other + 1) if i != own}
    return [str(other), *sorted(near), *GUESSED_IDS]


def portal_attempts(hanako, jiro) -> dict[str, list[tuple[str, str, dict]]]:
    """Per applicant-owned endpoint: (method, path, form) requests hanako makes at jiro's things."""
    ids = integer_guesses(hanako.application_id, jiro.application_id)
    drafts = integer_guesses(hanako.draft_id, jiro.draft_id)
    withdraw = {"reason": "取り下げます"}
    correct = {**ANSWERS, "action": "submit"}
    references = [jiro.reference, jiro.reference.lower(), hanako.reference + "0", "../" + jiro.reference, "x" * 300]
    return {
        "portal.my_application": [("GET", f"/mypage/applications/{i}", {}) for i in ids],
        "portal.correct_application": [(m, f"/mypage/applications/{i}/correct", correct)
                                       for i in ids for m in ("GET", "POST")],
        "portal.withdraw_application": [(m, f"/mypage/applications/{i}/withdraw", withdraw)
                                        for i in ids for m in ("GET", "POST")],
        "portal.delete_draft": [("POST", f"/mypage/drafts/{i}/delete", {}) for i in drafts],
        "portal.application_payment": [("GET", f"/applications/{r}/payment", {}) for r in references],
        "portal.checkout": [("GET", f"/applications/{r}/payment/P-1/checkout", {}) for r in references],
        "portal.upload": [(m, f"/uploads/{u}", {}) for u in (jiro.upload_id, str(uuid.uuid4()), "1", "..%2f")
                          for m in ("HEAD", "PATCH", "DELETE")],
        # Drafts are also reached from the form: opening, saving over and filing another's draft.
        "portal.apply": [("GET", f"{APPLY}?draft={i}", {}) for i in drafts if i.isdigit()]
                        + [("POST", f"{APPLY}?draft={i}", {**ANSWERS, "action": action})
                           for i in drafts if i.isdigit() for action in ("draft", "submit")],
    }


def send(client, method: str, path: str, form: dict):
    headers = {"X-CSRF-Token": token_of(client), "Tus-Resumable": "1.0.0"}
    if method == "PATCH":
        headers |= {"Upload-Offset": "0", "Content-Type": "application/offset+octet-stream"}
        return client.patch(path, data=b"%PDF-1.7 not yours", headers=headers)
    return client.open(path, method=method, data=form or None, headers=headers)


def test_another_applicants_things_and_guessed_ids_answer_404_and_change_nothing(db, residents):
    hanako, jiro = residents
    attempts = portal_attempts(hanako, jiro)
    assert set(APPLICANT_OWNED) - {"portal.download_document"} <= set(attempts)
    before = snapshot(db)
    answers = {(endpoint, method, path): send(hanako.client, method, path, form).status_code
               for endpoint, cases in attempts.items() for method, path, form in cases}
    assert {key: status for key, status in answers.items() if status != 404} == {}
    assert changed_tables(before, snapshot(db)) == []
    # The same client still reaches its own things: the 404s were about ownership, not a broken session.
    assert hanako.client.get(f"/mypage/applications/{hanako.application_id}").status_code == 200
    assert hanako.client.get(f"{APPLY}?draft={hanako.draft_id}").status_code == 200


def test_signed_out_visitors_reach_no_ones_things(db, residents, app):
    hanako, jiro = residents
    visitor = app.test_client()
    before = snapshot(db)
    for endpoint, cases in portal_attempts(jiro, hanako).items():
        for method, path, form in cases[:3]:
            status = send(visitor, method, path, form).status_code
            # My Page asks a visitor to sign in, an upload says sign-in is needed (whatever the id);
            # everything else is not there for them.
            assert status in (302, 401, 404), (endpoint, method, path, status)
            if status == 302:
                assert send(visitor, method, path, form).headers["Location"].startswith("/account/sign-in")
    assert changed_tables(before, snapshot(db)) == []


@pytest.fixture
def documents(engine, db, settings, app):
    """(hanako's client, jiro's client, a sealed document issued for an application of jiro's)."""
    init_dev_seal(settings.home)
    with db.transaction() as session:
        engine.deploy(session, ISSUANCE)
    for name, group in STAFF.items():
        add_user(engine, db, name, group)
    clients = []
    for email, name in (("hanako@example.jp", "山田 花子"), ("jiro@example.jp", "佐藤 次郎")):
        applicant_id = add_applicant(engine, db, email, name)
        clients.append(app.test_client())
        applicant_sign_in(clients[-1], email)
    application_id = decided_by_substitute(engine, db)
    with db.transaction() as session:
        filings.link(session, application_id, applicant_id)
    return clients[0], clients[1], issued_document(engine, db, application_id)


def test_another_applicants_document_answers_404_and_is_not_recorded_as_downloaded(engine, db, documents):
    hanako, jiro, document = documents
    public_id = document.public_id
    before = snapshot(db)
    for guess in (public_id, public_id.upper(), public_id[:-1], str(uuid.uuid4()), "0", "../" + public_id,
                  "x" * 500):
        assert hanako.get(f"/mypage/documents/{guess}").status_code == 404, guess
    assert changed_tables(before, snapshot(db)) == []
    with db.transaction() as session:
        assert engine.document_downloads(session, public_id) == []
    assert jiro.get(f"/mypage/documents/{public_id}").status_code == 200
