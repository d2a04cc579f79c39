"""API uploads (/api/v1/uploads, tus over bearer tokens): the whole round, resuming, refusals as
problem+json naming the file and the limit, termination, and another token getting 404."""

from __future__ import annotations

import hashlib

import pytest

from tests.engine.attachments.conftest import KEY, LIMIT, staged, stored
from tests.engine.attachments.conftest import procedure as procedure  # noqa: F401  (fixture)
from tests.engine.attachments.samples import HTML, sample
from tests.webui.api.conftest import bearer
from tests.webui.api.conftest import make_token as make_token  # noqa: F401  (fixture)
from tests.webui.uploads_support import create, patch

BASE = "/api/v1/uploads"


@pytest.fixture(autouse=True)
def staff(engine, db):
    with db.transaction() as session:
        for name in ("tanaka", "suzuki"):
            engine.add_user(session, name, groups=["clerks"])


def tus(secret: str) -> dict:
    return {**bearer(secret), "Tus-Resumable": "1.0.0"}


def test_an_integrator_uploads_resumes_and_gets_the_attachment(engine, db, client, procedure, make_token):  # noqa: F811
    headers = tus(make_token("tanaka", "applications:write"))
    content = sample("docx")
    created = create(client, BASE, "計画書.docx", len(content), KEY, headers=headers)
    assert created.status_code == 201
    url = created.headers["Location"]
    assert patch(client, url, 0, content[:100], headers=headers).headers["Upload-Offset"] == "100"
    assert client.head(url, headers=headers).headers["Upload-Offset"] == "100"
    progress = client.get(url, headers=headers).json
    assert progress["offset"] == 100 and progress["complete"] is False and progress["attachment"] is None
    assert patch(client, url, 100, content[100:], headers=headers).status_code == 204
    done = client.get(url, headers=headers).json
    assert done["complete"] is True and done["max_bytes"] == LIMIT
    assert done["attachment"]["sha256"] == hashlib.sha256(content).hexdigest()
    assert done["attachment"]["content_type"].endswith("wordprocessingml.document")


def test_refusals_are_problems_naming_the_file_and_the_rule(engine, client, procedure, make_token):  # noqa: F811
    headers = tus(make_token("tanaka", "applications:write"))
    too_large = create(client, BASE, "図面.pdf", LIMIT + 1, KEY, headers=headers)
    assert too_large.status_code == 413 and too_large.mimetype == "application/problem+json"
    assert too_large.json["file"] == "図面.pdf" and too_large.json["limit_bytes"] == LIMIT
    wrong_type = create(client, BASE, "run.exe", 10, KEY, headers=headers)
    assert wrong_type.status_code == 415 and wrong_type.json["allowed_types"] == ["pdf", "png", "docx"]
    url = create(client, BASE, "申請書.pdf", len(HTML), KEY, headers=headers).headers["Location"]
    impostor = patch(client, url, 0, HTML, headers=headers)
    assert impostor.status_code == 415 and impostor.json["reason"] == "content"
    assert client.get(url, headers=headers).status_code == 404
    assert staged(engine) == [] and stored(engine) == []


def test_termination_and_ownership(engine, client, procedure, make_token):  # noqa: F811
    mine = tus(make_token("tanaka", "applications:write"))
    theirs = tus(make_token("suzuki", "applications:write"))
    url = create(client, BASE, "a.pdf", 1000, KEY, headers=mine).headers["Location"]
    assert client.get(url, headers=theirs).status_code == 404
    assert client.head(url, headers=theirs).status_code == 404
    assert patch(client, url, 0, b"%PDF-", headers=theirs).status_code == 404
    assert client.delete(url, headers=theirs).status_code == 404
    assert client.delete(url, headers=mine).status_code == 204
    assert client.get(url, headers=mine).status_code == 404


def test_tokens_need_the_scope_and_the_protocol_header(client, procedure, make_token):  # noqa: F811
    reader = tus(make_token("tanaka", "applications:read"))
    assert create(client, BASE, "a.pdf", 10, KEY, headers=reader).status_code == 403
    assert client.post(BASE, headers={"Upload-Length": "10"}).status_code == 401
    writer = bearer(make_token("tanaka", "applications:write"))
    assert client.post(BASE, headers={**writer, "Upload-Length": "10"}).status_code == 412
    assert client.options(BASE).headers["Tus-Extension"] == "creation,termination"


def test_an_application_takes_the_upload_and_forged_references_are_refused(engine, db, client, procedure,  # noqa: F811
                                                                           make_token):  # noqa: F811
    mine = tus(make_token("tanaka", "applications:write", "applications:read"))
    theirs = tus(make_token("suzuki", "applications:write"))
    content = sample("pdf")
    url = create(client, BASE, "住民票.pdf", len(content), KEY, headers=mine).headers["Location"]
    patch(client, url, 0, content, headers=mine)
    upload_id = url.rsplit("/", 1)[1]
    # Another token can neither use the id nor copy the reference it does not own.
    refused = client.post("/api/v1/applications", headers=theirs,
                          json={"procedure": KEY, "data": {"scan": {"upload": upload_id}}})
    assert refused.status_code == 404
    reference = client.get(url, headers=mine).json["attachment"]
    forged = client.post("/api/v1/applications", headers=theirs, json={"procedure": KEY, "data": {"scan": reference}})
    assert forged.status_code == 422 and "住民票.pdf" in forged.json["detail"]
    made = client.post("/api/v1/applications", headers=mine, json={"procedure": KEY, "data": {"scan": {"upload": upload_id}}})
    assert made.status_code == 201, made.json
    assert made.json["data"]["scan"] == reference
    with db.transaction() as session:
        [attachment] = engine.attachments(session, made.json["id"])
    assert (attachment.name, attachment.sha256, attachment.key) == ("住民票.pdf", reference["sha256"], reference["key"])
    # Part of an application now: the upload can no longer be deleted.
    assert client.delete(url, headers=mine).status_code == 409
