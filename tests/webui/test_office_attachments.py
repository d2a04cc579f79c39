"""Attachments on the task page: listed with name, size and type; downloaded as files by those who
may see the task; previewed inline only when a PDF or an image really is one."""

from __future__ import annotations

import io

import pytest

from engine.storage import engine_storage
from tests.webui.test_office_setup import (
    as_user,
    office_fixture,  # noqa: F401 (the fixture "office")
    start,
    text,
)

PDF = b"%PDF-1.4\n1 0 obj\n<<>>\nendobj\ntrailer\n<<>>\n%%EOF\n"
PNG = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
       b"\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82")
SVG = b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>'


def stored(engine, name: str, content: bytes, content_type: str) -> dict:
    kept = engine_storage(engine).put(f"intake/test/{name}", io.BytesIO(content), content_type)
    return {"name": name, "key": kept.key, "size": kept.size, "sha256": kept.sha256, "content_type": content_type}


@pytest.fixture
def files(office, db):
    found = {"pdf": stored(office, "住民票.pdf", PDF, "application/pdf"),
             "png": stored(office, "photo.png", PNG, "image/png"),
             "svg": stored(office, "map.svg", SVG, "image/svg+xml"),
             "html": stored(office, "page.html", b"<script>alert(1)</script>", "text/html"),
             "fake": stored(office, "fake.pdf", b"<html><script>alert(1)</script>", "application/pdf")}
    (task,) = start(office, db, "approval-test", {"amount": 1000, "purpose": "清掃",
                                                  "documents": list(found.values())}).opened_tasks
    return task.id, found


def test_the_page_lists_the_files_with_links_and_previews(office, db, client, files):
    task_id, found = files
    page = text(as_user(client, "tanaka").get(f"/office/tasks/{task_id}"))
    base = f"/office/tasks/{task_id}/attachments"
    assert f'href="{base}/{found["pdf"]["sha256"]}" download>住民票.pdf' in page
    assert "application/pdf" in page and "image/svg+xml" in page and f"{len(PDF)} Bytes" in page
    assert f'<iframe src="{base}/{found["pdf"]["sha256"]}/preview"' in page
    assert f'<img src="{base}/{found["png"]["sha256"]}/preview"' in page
    for kind in ("svg", "html"):  # download only
        assert f'{found[kind]["sha256"]}/preview' not in page


def test_downloads_are_files_of_their_type(client, files):
    task_id, found = files
    as_user(client, "tanaka")
    for kind, content in (("pdf", PDF), ("svg", SVG), ("html", b"<script>alert(1)</script>")):
        answer = client.get(f"/office/tasks/{task_id}/attachments/{found[kind]['sha256']}")
        assert answer.status_code == 200 and answer.data == content
        assert answer.headers["Content-Disposition"].startswith("attachment;")
        assert answer.headers["Content-Type"].startswith(found[kind]["content_type"])
        assert answer.headers["X-Content-Type-Options"] == "nosniff"
    answer = client.get(f"/office/tasks/{task_id}/attachments/{found['pdf']['sha256']}")
    assert "filename*=UTF-8''%E4%BD%8F%E6%B0%91%E7%A5%A8.pdf" in answer.headers["Content-Disposition"]


def test_previews_are_inline_only_for_real_pdfs_and_images(client, files):
    task_id, found = files
    as_user(client, "tanaka")
    for kind in ("pdf", "png"):
        answer = client.get(f"/office/tasks/{task_id}/attachments/{found[kind]['sha256']}/preview")
        assert answer.status_code == 200 and answer.headers["Content-Disposition"].startswith("inline")
        assert answer.headers["X-Content-Type-Options"] == "nosniff"
        assert answer.headers["X-Frame-Options"] == "SAMEORIGIN"
        assert "default-src 'none'" in answer.headers["Content-Security-Policy"]
    assert client.get(f"/office/tasks/{task_id}/attachments/{found['pdf']['sha256']}/preview").data == PDF
    for kind in ("svg", "html", "fake"):
        refused = client.get(f"/office/tasks/{task_id}/attachments/{found[kind]['sha256']}/preview")
        assert refused.status_code == 415 and b"alert" not in refused.data


def test_only_those_who_may_see_the_task_get_its_files(client, files):
    task_id, found = files
    as_user(client, "outsider")
    assert client.get(f"/office/tasks/{task_id}/attachments/{found['pdf']['sha256']}").status_code == 403
    assert client.get(f"/office/tasks/{task_id}/attachments/{found['png']['sha256']}/preview").status_code == 403
    as_user(client, "tanaka")
    assert client.get(f"/office/tasks/{task_id}/attachments/{'0' * 64}").status_code == 404
