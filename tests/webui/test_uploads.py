"""Portal uploads: tus at /uploads/ for a signed-in applicant (CSRF header required), resuming
after a broken PATCH, termination, other applicants' uploads answering 404, refusals with
clear messages and nothing kept; and the plain form upload used without JavaScript."""

from __future__ import annotations

import hashlib
import io

import pytest

from tests.engine.attachments.conftest import KEY, LIMIT, staged, stored
from tests.engine.attachments.conftest import procedure as procedure  # noqa: F401  (fixture)
from tests.engine.attachments.samples import EXECUTABLE, sample
from tests.webui.uploads_support import CSRF, create, patch, signed_in_applicant, tus_headers
from webui.portal.uploads import attachment_from_form


@pytest.fixture
def hanako(engine, db, client, procedure):  # noqa: F811
    return signed_in_applicant(engine, db, client)


def test_options_tell_the_protocol(client):
    answer = client.options("/uploads/")
    assert answer.status_code == 204
    assert answer.headers["Tus-Version"] == "1.0.0" and answer.headers["Tus-Extension"] == "creation,termination"
    assert int(answer.headers["Tus-Max-Size"]) == 100 * 1024 * 1024


def test_a_file_uploaded_in_pieces_resumes_after_a_broken_patch(engine, db, client, hanako):
    content = sample("pdf") + b"\n%" + b"x" * 20000  # a PDF with trailing bytes: large enough for three pieces
    created = create(client, "/uploads/", "住民票.pdf", len(content), KEY)
    assert created.status_code == 201 and created.headers["Tus-Resumable"] == "1.0.0"
    url = created.headers["Location"]
    assert patch(client, url, 0, content[:5000]).headers["Upload-Offset"] == "5000"
    # The connection breaks: the client announced 10000 bytes but only 3000 arrive.
    broken = patch(client, url, 5000, io.BytesIO(content[5000:8000]), headers={**tus_headers(), "Content-Length": "10000"})
    assert broken.status_code == 204
    head = client.head(url, headers=tus_headers())
    assert head.status_code == 200 and head.headers["Upload-Offset"] == "8000"
    assert head.headers["Upload-Length"] == str(len(content)) and head.headers["Cache-Control"] == "no-store"
    stale = patch(client, url, 5000, content[5000:])
    assert stale.status_code == 409 and stale.headers["Upload-Offset"] == "8000"
    done = patch(client, url, 8000, content[8000:])
    assert done.status_code == 204 and done.headers["Upload-Offset"] == str(len(content))
    upload_id = url.rsplit("/", 1)[1]
    with db.transaction() as session:
        reference = engine.take_attachment(session, upload_id, f"applicant:{hanako}")
    assert reference["sha256"] == hashlib.sha256(content).hexdigest() and reference["name"] == "住民票.pdf"


def test_refusals_name_the_file_and_keep_nothing(engine, db, client, hanako):
    wrong_type = create(client, "/uploads/", "setup.exe", 100, KEY)
    assert wrong_type.status_code == 415
    assert wrong_type.json["error"] == "setup.exe: この種類のファイルは受け付けていません。受け付ける種類：pdf, png, docx。"
    too_large = create(client, "/uploads/", "図面.pdf", LIMIT + 1, KEY)
    assert too_large.status_code == 413 and "図面.pdf" in too_large.json["error"] and "64 KB" in too_large.json["error"]
    url = create(client, "/uploads/", "申請書.pdf", len(EXECUTABLE), KEY).headers["Location"]
    impostor = patch(client, url, 0, EXECUTABLE)
    assert impostor.status_code == 415 and "申請書.pdf" in impostor.json["error"]
    assert client.head(url, headers=tus_headers()).status_code == 404
    assert staged(engine) == [] and stored(engine) == []


def test_termination_removes_the_upload(engine, client, hanako):
    url = create(client, "/uploads/", "a.pdf", 1000, KEY).headers["Location"]
    patch(client, url, 0, b"%PDF-1.7 ")
    assert client.delete(url, headers=tus_headers()).status_code == 204
    assert client.head(url, headers=tus_headers()).status_code == 404
    assert staged(engine) == []


def test_another_applicants_upload_answers_404(engine, db, app, client, hanako):
    url = create(client, "/uploads/", "a.pdf", 1000, KEY).headers["Location"]
    other = app.test_client()
    signed_in_applicant(engine, db, other, "jiro@example.jp")
    assert other.head(url, headers=tus_headers()).status_code == 404
    assert patch(other, url, 0, b"%PDF-").status_code == 404
    assert other.delete(url, headers=tus_headers()).status_code == 404
    assert client.head(url, headers=tus_headers()).headers["Upload-Offset"] == "0"


def test_signed_out_and_csrf_less_requests_are_refused(engine, db, app, client, hanako):
    url = create(client, "/uploads/", "a.pdf", 1000, KEY).headers["Location"]
    without_token = {"Tus-Resumable": "1.0.0"}
    assert create(client, "/uploads/", "b.pdf", 1000, KEY, headers=without_token).status_code == 400
    assert patch(client, url, 0, b"%PDF-", headers=without_token).status_code == 400
    assert patch(client, url, 0, b"%PDF-", headers={**without_token, "X-CSRF-Token": "guessed"}).status_code == 400
    assert client.delete(url, headers=without_token).status_code == 400
    assert client.head(url, headers=tus_headers()).headers["Upload-Offset"] == "0"
    stranger = app.test_client()
    with stranger.session_transaction() as session:
        session["csrf_token"] = CSRF
    assert create(stranger, "/uploads/", "b.pdf", 1000, KEY).status_code == 401


def test_the_protocol_version_and_piece_type_are_required(client, hanako):
    assert client.post("/uploads/", headers={"X-CSRF-Token": CSRF, "Upload-Length": "10"}).status_code == 412
    url = create(client, "/uploads/", "a.pdf", 1000, KEY).headers["Location"]
    assert client.patch(url, data=b"%PDF-", headers={**tus_headers(), "Upload-Offset": "0",
                                                     "Content-Type": "text/plain"}).status_code == 415
    assert client.post("/uploads/", headers={**tus_headers(), "Upload-Metadata": "filename !!"}).status_code == 400


def form_request(app, client, fields: dict, files: dict):
    """A form post as the browser sends it (multipart), parsed by werkzeug as the app would."""
    from flask.testing import EnvironBuilder

    data = {**fields, **{name: (io.BytesIO(content), filename) for name, (content, filename) in files.items()}}
    with client.session_transaction() as session:
        cookie_session = dict(session)
    builder = EnvironBuilder(app, path="/uploads/", method="POST", data=data)
    return builder, cookie_session


def test_without_javascript_the_file_comes_with_the_form(engine, db, app, client, hanako):
    from flask import session

    content = sample("png")
    builder, values = form_request(app, client, {"scan": ""}, {"scan.file": (content, "写真.png")})
    with app.request_context(builder.get_environ()):
        session.update(values)
        found = attachment_from_form("scan", KEY)
    assert found.error is None and found.reference["sha256"] == hashlib.sha256(content).hexdigest()
    # Shown again (another field had an error): the hidden field now names the finished upload.
    builder, values = form_request(app, client, {"scan": found.upload_id}, {})
    with app.request_context(builder.get_environ()):
        session.update(values)
        assert attachment_from_form("scan", KEY).reference == found.reference


def test_without_javascript_a_wrong_file_gets_a_message_and_is_not_kept(engine, db, app, client, hanako):
    from flask import session

    builder, values = form_request(app, client, {}, {"scan.file": (b"%PDF-" + b"x" * (LIMIT + 10), "大きい.pdf")})
    with app.request_context(builder.get_environ()):
        session.update(values)
        found = attachment_from_form("scan", KEY)
    assert found.reference is None and found.error == "大きい.pdf は、この手続の上限 64 KB を超えています。"
    assert staged(engine) == [] and stored(engine) == []
    builder, values = form_request(app, client, {"scan": "0" * 32}, {})
    with app.request_context(builder.get_environ()):
        session.update(values)
        assert attachment_from_form("scan", KEY).error


def test_the_widget_renders_the_rules_of_the_procedure(app, client, hanako):
    from flask import render_template

    with app.test_request_context("/"):
        html = render_template("portal/_upload_field.html", procedure_key=KEY,
                               upload_field={"name": "scan", "label": "写真", "required": True})
    assert 'name="scan.file"' in html and 'name="scan"' in html and 'data-max-bytes="65536"' in html
    assert 'accept=".pdf,.png,.docx,' in html and "pdf, png, docx" in html and "64 KB" in html


def test_a_form_with_attachments_may_be_as_large_as_the_procedures_limit(app, hanako):
    from flask import request

    from webui.portal import uploads

    uploads.accept_attachments("portal.test_form", lambda _session, values: values["key"])
    try:
        with app.test_request_context("/", method="POST"):
            uploads._body_limits("portal.test_form", {"key": KEY})
            assert request.max_content_length == LIMIT + 1024 * 1024
        with app.test_request_context("/", method="POST"):
            uploads._body_limits("portal.test_form", {"key": "no-such-procedure"})
            assert request.max_content_length == app.config["MAX_CONTENT_LENGTH"]
        with app.test_request_context("/uploads/x", method="PATCH"):
            uploads._body_limits("portal.upload", {"upload_id": "x"})
            assert request.max_content_length == 256 * 1024 * 1024
    finally:
        del uploads.ATTACHMENT_FORMS["portal.test_form"]


def test_a_piece_may_be_larger_than_the_forms_limit(engine, client, hanako):
    content = ("申請内容の一覧\n" * 300_000).encode()  # about 6.3 MB of text: over the 5 MB form limit
    assert len(content) > client.application.config["MAX_CONTENT_LENGTH"]
    url = create(client, "/uploads/", "一覧.txt", len(content)).headers["Location"]
    done = patch(client, url, 0, content)
    assert done.status_code == 204 and done.headers["Upload-Offset"] == str(len(content))
