"""The admin area's procedures: who may enter, uploading and deploying (refused with problems,
deployed, deployed again), versions with their files, diffs, CSRF, upload limit, languages."""

from __future__ import annotations

import io
import re
import zipfile
from html import unescape
from pathlib import Path

import pytest

from tests.diagrams import chain, flow, process, user_task
from tests.webui.conftest import csrf_of

APPROVAL = Path(__file__).parents[1] / "workflows" / "approval"

BROKEN = process("broken", "\n".join([
    '<bpmn:startEvent id="s"/>',
    '<bpmn:scriptTask id="js" scriptFormat="javascript"><bpmn:script>var x = 1;</bpmn:script></bpmn:scriptTask>',
    '<bpmn:exclusiveGateway id="g"/>', '<bpmn:endEvent id="e1"/>', '<bpmn:endEvent id="e2"/>',
    chain("s", "js", "g"), flow("no_condition_a", "g", "e1"), flow("no_condition_b", "g", "e2"),
]))


def simple(task_name: str) -> str:
    return process("simple", "\n".join(['<bpmn:startEvent id="s"/>', user_task("t", task_name),
                                        '<bpmn:endEvent id="e"/>', chain("s", "t", "e")]))


def approval_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for item in sorted(APPROVAL.iterdir()):
            archive.write(item, item.name)
    return buffer.getvalue()


@pytest.fixture
def admin(staff):
    return staff("root", "admin")


def upload(client, content: bytes | str, name: str, *, token: str | None = None):
    data = content.encode() if isinstance(content, str) else content
    return client.post("/admin/deploy", content_type="multipart/form-data", data={
        "csrf_token": token if token is not None else csrf_of(client, "/admin/"),
        "bundle": (io.BytesIO(data), name)})


def text(answer) -> str:
    return unescape(answer.get_data(as_text=True))


def definitions(engine, db) -> list[tuple[str, int]]:
    with db.transaction() as session:
        return [(d.key, d.version) for d in engine.definitions(session)]


def test_the_admin_pages_are_for_admins_only(engine, db, staff):
    client = staff("tanaka", "tanto")
    for path in ("/admin/", "/admin/applications", "/admin/incidents", "/admin/users", "/admin/absences",
                 "/admin/plugins", "/admin/definitions/x", "/admin/definitions/x/1",
                 "/admin/definitions/x/diff?from=1&to=2", "/admin/applications/1"):
        assert client.get(path).status_code == 403, path
    token = csrf_of(client, "/office/")
    assert upload(client, simple("審査"), "simple.bpmn", token=token).status_code == 403
    for path in ("/admin/users", "/admin/absences", "/admin/absences/1/remove", "/admin/incidents/1/retry"):
        assert client.post(path, data={"csrf_token": token}).status_code == 403, path
    assert definitions(engine, db) == []


def test_signed_out_visitors_are_sent_to_sign_in(client):
    answer = client.get("/admin/applications")
    assert answer.status_code == 302 and "/sign-in?next=/admin/applications" in answer.headers["Location"]


def test_a_broken_diagram_shows_every_problem_with_its_line_and_deploys_nothing(engine, db, admin):
    answer = upload(admin, BROKEN, "broken.bpmn")
    assert answer.status_code == 422
    page = text(answer)
    assert "broken.bpmn は登録されませんでした：問題 3 件" in page
    rows = re.findall(r"<tr><td>(.*?)</td><td class=\"number\">(\d+)</td><td><code>(.*?)</code></td>", page)
    assert rows == [("broken.bpmn", "9", "js"), ("broken.bpmn", "15", "no_condition_a"),
                    ("broken.bpmn", "16", "no_condition_b")]
    assert "only Python runs here" in page and 'set scriptFormat="python"' in page
    assert "give the flow a condition, or make it the gateway's default flow" in page
    assert definitions(engine, db) == []


def test_a_bundle_is_deployed_listed_and_not_deployed_twice(engine, db, admin):
    answer = upload(admin, approval_zip(), "approval.zip")
    assert answer.status_code == 302 and answer.headers["Location"] == "/admin/definitions/approval-test/1"
    page = text(admin.get(answer.headers["Location"]))
    assert "approval-test 第1版を登録しました。" in page
    for name in ("approval.bpmn", "approval-route.dmn", "procedure.toml"):
        size = (APPROVAL / name).stat().st_size
        assert f"<code>{name}</code></th>" in page and f">{size:,}</td>" in page
    assert definitions(engine, db) == [("approval-test", 1)]
    listing = text(admin.get("/admin/"))
    assert "approval-test" in listing and "補助金交付申請（決裁テスト）" in listing and ">v1</a>" in listing

    again = upload(admin, approval_zip(), "approval.zip")
    assert again.status_code == 302 and again.headers["Location"] == "/admin/definitions/approval-test/1"
    assert "変更はありません：この内容は approval-test 第1版として登録済みです。" in text(admin.get(again.headers["Location"]))
    assert definitions(engine, db) == [("approval-test", 1)]
    with db.transaction() as session:
        [deployed] = engine.definitions(session)
        assert deployed.deployed_by == "root"


def test_the_diff_between_two_versions_shows_the_changed_line_escaped(engine, db, admin):
    assert upload(admin, simple("受付審査"), "simple.bpmn").status_code == 302
    assert upload(admin, simple("受付審査（再）"), "simple.bpmn").status_code == 302
    assert definitions(engine, db) == [("simple", 1), ("simple", 2)]

    versions = text(admin.get("/admin/definitions/simple"))
    assert "v2" in versions and 'name="from"' in versions and 'name="to"' in versions

    answer = admin.get("/admin/definitions/simple/diff?from=1&to=2")
    assert answer.status_code == 200
    raw = answer.get_data(as_text=True)
    assert '<span class="diff-del">-&lt;bpmn:userTask id=&#34;t&#34; name=&#34;受付審査&#34;' in raw
    assert '<span class="diff-add">+&lt;bpmn:userTask id=&#34;t&#34; name=&#34;受付審査（再）&#34;' in raw
    assert "<bpmn:userTask" not in raw  # the diagram's markup is shown, never interpreted
    assert "simple：第1版と第2版の比較" in text(answer)
    same = admin.get("/admin/definitions/simple/diff?from=2&to=2")
    assert same.status_code == 400 and "choose two different versions to compare" in text(same)
    assert admin.get("/admin/definitions/simple/diff?from=1").status_code == 400
    assert admin.get("/admin/definitions/simple/diff?from=1&to=9").status_code == 404
    assert admin.get("/admin/definitions/nothing").status_code == 404
    assert admin.get("/admin/definitions/simple/7").status_code == 404


def test_a_deploy_without_the_csrf_token_is_refused(engine, db, admin):
    csrf_of(admin, "/admin/")
    answer = upload(admin, simple("審査"), "simple.bpmn", token="forged")
    assert answer.status_code == 400
    no_token = admin.post("/admin/deploy", content_type="multipart/form-data",
                          data={"bundle": (io.BytesIO(simple("審査").encode()), "simple.bpmn")})
    assert no_token.status_code == 400
    assert definitions(engine, db) == []


def test_an_upload_over_the_limit_gets_a_clear_message(engine, db, app, admin):
    app.config["MAX_CONTENT_LENGTH"] = 2_000
    answer = upload(admin, simple("審査" * 2_000), "big.bpmn")
    assert answer.status_code == 413
    assert "ファイルがアップロードの上限 2,000 バイトを超えています。" in text(answer)
    assert definitions(engine, db) == []


def test_no_file_and_unknown_kinds_are_explained(engine, db, admin):
    empty = admin.post("/admin/deploy", content_type="multipart/form-data",
                       data={"csrf_token": csrf_of(admin, "/admin/")})
    assert empty.status_code == 400 and "登録する .bpmn ファイルまたは .zip バンドルを選んでください。" in text(empty)
    other = upload(admin, "hello", "notes.txt")
    assert other.status_code == 422 and "this kind of file cannot be deployed" in text(other)
    assert definitions(engine, db) == []


def test_the_upload_keeps_only_the_file_name(engine, db, admin):
    assert upload(admin, simple("審査"), "kikaku/2026/simple.bpmn").status_code == 302
    page = text(admin.get("/admin/definitions/simple/1"))
    assert "<code>simple.bpmn</code>" in page and "kikaku" not in page


def test_the_procedures_page_in_english(admin):
    admin.post("/language", data={"lang": "en", "next": "/admin/", "csrf_token": csrf_of(admin, "/admin/")})
    page = text(admin.get("/admin/"))
    assert "<h1>Procedures</h1>" in page and "Deploy a procedure" in page and "Check and deploy" in page
    assert 'lang="en"' in page
    broken = text(upload(admin, BROKEN, "broken.bpmn"))
    assert "broken.bpmn was not deployed: 3 problems" in broken and "How to fix it" in broken


def test_the_procedures_page_in_japanese_loads_only_static_scripts(admin):
    answer = admin.get("/admin/")
    page = answer.get_data(as_text=True)
    assert "<h1>手続</h1>" in page and "検査して登録する" in page and '<label for="bundle">' in page
    assert '<script src="/static/admin.js" defer></script>' in page and "<script>" not in page
    assert "style=" not in page
    assert admin.get("/static/admin.js").status_code == 200 and admin.get("/static/admin.css").status_code == 200


def bundle_zip(files: dict[str, bytes | str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, content in files.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def test_the_diff_names_added_removed_and_unchanged_files(engine, db, admin):
    manifest = 'key = "forms-demo"\nprocess = "simple"\n'
    first = bundle_zip({"procedure.toml": manifest, "simple.bpmn": simple("審査"),
                        "old-form.json": '{"type": "object"}', "seal.bin": b"\x89PNG\x00\xff"})
    second = bundle_zip({"procedure.toml": manifest, "simple.bpmn": simple("審査"),
                         "new-form.json": '{"type": "object", "required": ["name"]}', "seal.bin": b"\x89PNG\x01\xff"})
    assert upload(admin, first, "forms.zip").status_code == 302
    assert upload(admin, second, "forms.zip").status_code == 302
    page = text(admin.get("/admin/definitions/forms-demo/diff?from=1&to=2"))
    rows = dict(re.findall(r'<th scope="row">(?:<a href="#file-\d+">)?<code>([^<]+)</code>(?:</a>)?</th>\s*<td>([^<]+)</td>',
                           page))
    assert rows == {"new-form.json": "追加", "old-form.json": "削除", "procedure.toml": "変更なし",
                    "seal.bin": "変更 (テキストではないため行単位の差分はありません)", "simple.bpmn": "変更なし"}
    assert '+{"type": "object", "required": ["name"]}' in page and '-{"type": "object"}' in page
