"""The API: a token reaches only what its staff user and its scopes allow, guessed ids answer
404 (never 500), cookies never authenticate, and a refused request changes nothing."""

from __future__ import annotations

import uuid

import pytest

from tests.security.conftest import changed_tables, snapshot, token_of
from tests.security.requests import FORM, concrete
from tests.security.routes import API_BLUEPRINT_PREFIX, API_CASES

ALL_SCOPES = ("applications:read", "applications:write", "tasks:read", "tasks:write", "messages:write",
              "documents:read", "documents:verify", "incidents:read", "incidents:write")
GUESSED_INTEGERS = ("0", str(2**31 - 1), str(2**31), str(2**63), "9" * 30, "-1", "abc", "1.5", "²")
GUESSED_STRINGS = (str(uuid.uuid4()), "0", "x" * 37, "x" * 300, "%E9%AB%99")
#: Per scope, a request it guards that would act or read if allowed.
SCOPED = {"applications:read": ("GET", "/api/v1/applications/{application_id}"),
          "applications:write": ("POST", "/api/v1/applications/{application_id}/withdraw"),
          "tasks:write": ("POST", "/api/v1/tasks/{task_id}/claim"),
          "documents:read": ("GET", "/api/v1/documents/{public_id}"),
          "incidents:write": ("POST", "/api/v1/incidents/1/retry")}


@pytest.fixture
def tokens(engine, db, residents):
    """Secrets and ids of tokens for tanaka (tanto: the application's review task is theirs) and for
    outsider (kokuho: none of it is), both with every scope; and one per missing scope for tanaka."""
    with db.transaction() as session:
        engine.add_user(session, "outsider", groups=["kokuho"])
        made = {}
        for name, user, scopes in [("tanaka-all", "tanaka", ALL_SCOPES), ("outsider-all", "outsider", ALL_SCOPES),
                                   *[(f"tanaka-no-{s.replace(':', '-')}", "tanaka", [x for x in ALL_SCOPES if x != s])
                                     for s in SCOPED]]:
            row, secret = engine.create_api_token(session, name=name, user=user, scopes=list(scopes), actor="root")
            made[name] = (row.id, secret)
    return made


def bearer(secret: str) -> dict:
    return {"Authorization": f"Bearer {secret}"}


#: What a tus client sends (the uploads answer 412 without the protocol's version).
TUS = {"Tus-Resumable": "1.0.0", "Upload-Offset": "0"}


def send(client, secret: str, method: str, path: str):
    """The request as a well-behaved integrator would send it, so that only the id can be wrong."""
    headers = {**bearer(secret), **TUS}
    if method == "PATCH":
        return client.patch(path, data=b"%PDF-1.7", headers={**headers,
                                                             "Content-Type": "application/offset+octet-stream"})
    body = {"reason": "x"} if path.endswith("/withdraw") else {"data": {}} if path.endswith("/complete") else None
    return client.open(path, method=method, headers=headers, json=body)


def test_every_api_route_with_an_id_has_a_case(app):
    routes = {rule.endpoint for rule in app.url_map.iter_rules()
              if rule.endpoint.startswith(API_BLUEPRINT_PREFIX) and rule.arguments}
    assert routes == set(API_CASES)


def test_a_token_cannot_reach_tasks_its_user_may_not_see(client, db, world, tokens):
    _id, outsider = tokens["outsider-all"]
    listed = client.get("/api/v1/tasks", headers=bearer(outsider))
    assert listed.status_code == 200 and world["task_id"] not in [t["id"] for t in listed.json["items"]]
    before = snapshot(db)
    for method, path, body in [("POST", f"/api/v1/tasks/{world['task_id']}/claim", None),
                               ("POST", f"/api/v1/tasks/{world['task_id']}/complete", {"data": {}})]:
        response = client.open(path, method=method, headers=bearer(outsider), json=body or {})
        assert response.status_code == 404 and response.content_type == "application/problem+json", path
        assert "does not exist" in response.json["detail"]
    assert changed_tables(before, snapshot(db)) == []
    # The same request with the task's own user works: the 404 was about the user, not the id.
    assert client.post(f"/api/v1/tasks/{world['task_id']}/claim",
                       headers=bearer(tokens["tanaka-all"][1])).status_code == 200


def test_a_token_cannot_reach_another_tokens_or_an_applicants_upload(engine, db, client, world, tokens):
    owner_id, _secret = tokens["tanaka-all"]
    with db.transaction() as session:
        theirs = engine.create_upload(session, owner=f"token:{owner_id}", file_name="a.pdf", length=10).id
    _id, outsider = tokens["outsider-all"]
    before = snapshot(db)
    for upload in (theirs, world["upload_id"], *GUESSED_STRINGS):
        for method in ("GET", "HEAD", "PATCH", "DELETE"):
            response = client.open(f"/api/v1/uploads/{upload}", method=method, data=b"%PDF-1.7",
                                   headers={**bearer(outsider), **TUS,
                                            "Content-Type": "application/offset+octet-stream"})
            assert response.status_code == 404, (upload, method, response.status_code, response.data)
    assert changed_tables(before, snapshot(db)) == []


def test_a_token_without_the_scope_is_refused_and_changes_nothing(client, db, world, tokens):
    before = snapshot(db)
    for scope, (method, template) in SCOPED.items():
        _id, secret = tokens[f"tanaka-no-{scope.replace(':', '-')}"]
        response = client.open(template.format(**world), method=method, headers=bearer(secret), json={"reason": "x"})
        assert response.status_code == 403 and response.json["missing_scope"] == scope, (scope, response.json)
    assert changed_tables(before, snapshot(db)) == []


def test_guessed_ids_answer_404_never_500_and_change_nothing(app, client, db, world, tokens):
    _id, secret = tokens["tanaka-all"]
    requests = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint not in API_CASES:
            continue
        [argument] = rule.arguments
        guesses = GUESSED_INTEGERS if "int" in rule.rule else GUESSED_STRINGS
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}) or ["HEAD"]:
            requests += [(method, rule.rule.replace(f"<{_converter(rule, argument)}>", guess)) for guess in guesses]
    before = snapshot(db)
    statuses = {(method, path): send(client, secret, method, path).status_code for method, path in requests}
    assert len(statuses) > 60
    assert {key: status for key, status in statuses.items() if status != 404} == {}
    assert changed_tables(before, snapshot(db)) == []


def _converter(rule, argument: str) -> str:
    text = rule.rule
    start = text.index("<")
    assert text[text.index(">") - len(argument):text.index(">")] == argument
    return text[start + 1:text.index(">")]


def test_cookies_never_authenticate_on_the_api(app, db, residents, world, admin_browser):
    hanako, _jiro = residents
    requests = concrete(app, world, where=lambda rule: rule.rule.startswith("/api/v1/")
                        and rule.endpoint != "api-docs.openapi_json")
    assert len(requests) >= len(API_CASES)
    before = snapshot(db)
    for browser in (admin_browser, hanako.client):
        token = token_of(browser)
        for endpoint, method, path in requests:
            response = browser.open(path, method=method, json=FORM, headers={"X-CSRF-Token": token})
            assert response.status_code == 401, (endpoint, method, response.status_code)
            assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert changed_tables(before, snapshot(db)) == []
    # The document of the API is public: it describes, it does not act.
    assert admin_browser.get("/api/v1/openapi.json").status_code == 200
