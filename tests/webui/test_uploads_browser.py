"""The upload field in a browser: uploads.js sends the chosen file with tus in pieces, shows its
progress, and after a failed piece resumes where the server stands; axe finds nothing serious."""

from __future__ import annotations

import threading
from contextlib import contextmanager

import pytest
from flask import render_template_string
from waitress import create_server, wasyncore

from tests.engine.applicants.support import PASSWORD, registered_and_verified
from tests.engine.attachments.conftest import KEY
from tests.engine.attachments.conftest import procedure as procedure  # noqa: F401  (fixture)
from tests.engine.attachments.samples import sample
from tests.webui.browser.conftest import browser as browser  # noqa: F401  (fixture)
from tests.webui.browser.conftest import browser_page, check_accessibility
from webui import create_app

# A page of the app holding one upload field, as a form page includes it.
FORM_PAGE = """{% extends "portal/layout.html" %}
{% block title %}添付{% endblock %}
{% block content %}<h1>添付</h1>
<form method="post" enctype="multipart/form-data">
  {% with upload_field={"name": "scan", "label": "住民票の写し", "required": True}, procedure_key=key %}
    {% include "portal/_upload_field.html" %}
  {% endwith %}
</form>{% endblock %}
{% block scripts %}<script src="{{ url_for('static', filename='uploads.js') }}" defer></script>{% endblock %}"""


@contextmanager
def serving(app):
    connections: dict = {}
    server = create_server(app, map=connections, host="127.0.0.1", port=0, threads=4, ident="madoguchi-test")
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.effective_port}"
    finally:
        server.trigger.pull_trigger(lambda: wasyncore.close_all(connections))
        thread.join(timeout=5)
        server.task_dispatcher.shutdown()


@pytest.fixture
def site(engine, db, procedure):  # noqa: F811
    if not engine.settings.database_url.startswith("sqlite"):
        pytest.skip("the script does not depend on the database")
    registered_and_verified(engine, db)
    app = create_app(engine)
    app.add_url_rule("/attach-test", "attach_test", lambda: render_template_string(FORM_PAGE, key=KEY))
    with serving(app) as url:
        yield url


def test_the_script_uploads_in_pieces_and_resumes_after_a_failure(engine, db, browser, site):  # noqa: F811
    from playwright.sync_api import expect

    with browser_page(browser, site) as page:
        page.goto("/account/sign-in")
        page.locator("#email").fill("hanako@example.jp")
        page.locator("#password").fill(PASSWORD)
        page.get_by_role("main").get_by_role("button", name="ログイン").click()
        page.goto("/attach-test")
        check_accessibility(page)

        failed = []

        def break_the_first_piece(route):
            if route.request.method == "PATCH" and not failed:
                failed.append(route.request.url)
                route.abort("connectionreset")
            else:
                route.continue_()

        page.route("**/uploads/*", break_the_first_piece)
        content = sample("pdf")
        page.get_by_label("住民票の写し").set_input_files(
            files=[{"name": "住民票.pdf", "mimeType": "application/pdf", "buffer": content}])
        status = page.locator("[data-upload-status]")
        expect(status).to_contain_text("添付済み：住民票.pdf")
        assert failed, "the first piece should have been broken off"
        upload_id = page.locator("input[name=scan]").input_value()
        assert len(upload_id) == 32
        check_accessibility(page)

    with db.transaction() as session:
        [applicant] = engine.applicants(session)
        reference = engine.take_attachment(session, upload_id, f"applicant:{applicant.id}")
    assert reference["size"] == len(content)
