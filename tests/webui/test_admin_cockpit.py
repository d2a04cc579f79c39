"""The applications cockpit: searching, paging, an application's page (data, tasks, jobs,
history, incidents), retrying an incident from the page; and the plugins page."""

from __future__ import annotations

import re
from html import unescape

import pytest

from engine.facade import Engine
from engine.hookspecs import hookimpl
from engine.plugins import Setting
from tests.diagrams import chain, process, user_task
from tests.engine.helpers import deploy_text, start
from tests.engine.jobs.support import job_rows, service_task
from tests.webui.conftest import csrf_of


class JuminLink:
    """A stand-in integration whose remote system is down, with a secret setting."""

    __name__ = "jumin_link"

    @hookimpl
    def madoguchi_operations(self):
        return {"jumin.lookup": self.lookup}

    @hookimpl
    def madoguchi_plugin_settings(self):
        return {"endpoint": Setting(default="https://jumin.example.lg.jp", description="where the registry is"),
                "api_token": Setting(secret=True, description="the registry's access token")}

    @staticmethod
    def lookup(params: dict, context) -> dict:
        raise ConnectionError("住民記録システムに接続できません")


@pytest.fixture
def engine(settings, monkeypatch):
    monkeypatch.setenv("MADOGUCHI_JUMIN_LINK_API_TOKEN", "s3cret-token-value")
    return Engine(settings, plugins=(JuminLink(),))


@pytest.fixture
def admin(staff):
    return staff("root", "admin")


def text(answer) -> str:
    return unescape(answer.get_data(as_text=True))


def references(page: str) -> list[str]:
    return re.findall(r'<th scope="row"><a href="/admin/applications/\d+">([^<]+)</a></th>', page)


@pytest.fixture
def applications(engine, db, tmp_path):
    """Three applications of two procedures: (id, reference) by a name that says what they are."""
    deploy_text(engine, db, tmp_path, process("permit", "\n".join([
        '<bpmn:startEvent id="s"/>', user_task("review", "受付審査"), '<bpmn:endEvent id="e"/>',
        chain("s", "review", "e")])), "permit.bpmn")
    deploy_text(engine, db, tmp_path, process("subsidy", "\n".join([
        '<bpmn:startEvent id="s"/>', service_task("lookup", "jumin.lookup", retry=(0, 0)),
        user_task("after", "確認"), '<bpmn:endEvent id="e"/>', chain("s", "lookup", "after", "e")])),
        "subsidy.bpmn")
    made = {}
    for name, key, actor, data in (("permit_by_sato", "permit", "sato", {"氏名": "佐藤 花子", "金額": 1200}),
                                   ("permit_by_suzuki", "permit", "suzuki", {"氏名": "鈴木 一郎"}),
                                   ("subsidy_by_sato", "subsidy", "sato", {"世帯": 3})):
        application = start(engine, db, key, data, actor=actor).application
        made[name] = (application.id, application.reference)
    return made


def test_search_by_reference_procedure_status_and_applicant(admin, applications):
    everything = text(admin.get("/admin/applications"))
    assert "3 件の申請が見つかりました。" in everything
    assert sorted(references(everything)) == sorted(ref for _id, ref in applications.values())

    _id, reference = applications["permit_by_suzuki"]
    by_reference = text(admin.get(f"/admin/applications?reference={reference[-6:]}"))
    assert references(by_reference) == [reference]
    assert references(text(admin.get("/admin/applications?reference=%25"))) == []  # wildcards are literal

    by_procedure = text(admin.get("/admin/applications?procedure=permit"))
    assert sorted(references(by_procedure)) == sorted([applications["permit_by_sato"][1], reference])
    by_applicant = text(admin.get("/admin/applications?started_by=sato"))
    assert sorted(references(by_applicant)) == sorted([applications["permit_by_sato"][1],
                                                       applications["subsidy_by_sato"][1]])
    both = text(admin.get("/admin/applications?procedure=subsidy&started_by=sato&status=received"))
    assert references(both) == [applications["subsidy_by_sato"][1]]
    assert references(text(admin.get("/admin/applications?status=approved"))) == []
    assert '<option value="permit" selected>' in by_procedure  # the form keeps what was searched


def test_the_list_is_paged_and_pages_keep_the_search(admin, applications, monkeypatch):
    from webui.admin import applications as cockpit

    monkeypatch.setattr(cockpit, "PER_PAGE", 1)
    first = admin.get("/admin/applications?started_by=sato").get_data(as_text=True)
    assert "2 ページ中 1 ページ目" in first
    assert 'href="/admin/applications?page=2&amp;started_by=sato" rel="next"' in first
    second = admin.get("/admin/applications?started_by=sato&page=2").get_data(as_text=True)
    assert 'rel="prev"' in second and 'rel="next"' not in second
    seen = references(unescape(first)) + references(unescape(second))
    assert sorted(seen) == sorted([applications["permit_by_sato"][1], applications["subsidy_by_sato"][1]])
    assert references(text(admin.get("/admin/applications?page=abc&started_by=sato"))) == references(unescape(first))


def test_the_application_page_shows_status_data_tasks_and_history(admin, applications):
    application_id, reference = applications["permit_by_sato"]
    answer = admin.get(f"/admin/applications/{application_id}")
    assert answer.status_code == 200
    page = text(answer)
    assert f"申請 {reference}" in page and "<dd>in_review</dd>" in page and "<dd>sato</dd>" in page
    assert '"氏名": "佐藤 花子"' in page and '"金額": 1200' in page  # Japanese as written, not \u escapes
    assert "受付審査 <code>review</code>" in page and "clerks" in page
    assert "<code>application_started</code>" in page and "<code>task_created</code>" in page
    assert admin.get("/admin/applications/999999").status_code == 404


def test_an_incident_is_shown_and_retried_from_the_application_page(engine, db, admin, applications):
    application_id, reference = applications["subsidy_by_sato"]
    engine.worker(db).run_once()
    [job] = job_rows(db, application_id=application_id)
    assert job.status == "failed"
    with db.transaction() as session:
        [incident] = engine.incidents(session)

    listing = text(admin.get("/admin/applications?procedure=subsidy"))
    assert '<strong class="bad">1</strong>' in listing
    page = text(admin.get(f"/admin/applications/{application_id}"))
    assert "ConnectionError: 住民記録システムに接続できません" in page
    assert f"インシデント {incident.id} を再試行" in page and f"#{job.id}" in page and "failed" in page
    assert f"申請 {application_id}" in text(admin.get("/admin/incidents"))

    token = csrf_of(admin, f"/admin/applications/{application_id}")
    assert admin.post(f"/admin/incidents/{incident.id}/retry").status_code == 400  # no CSRF token
    answer = admin.post(f"/admin/incidents/{incident.id}/retry", data={"csrf_token": token})
    assert answer.status_code == 302 and answer.headers["Location"] == f"/admin/applications/{application_id}"
    [job] = job_rows(db, application_id=application_id)
    assert (job.status, job.attempts) == ("pending", 0)
    with db.transaction() as session:
        assert engine.incidents(session) == []
        [closed] = engine.incidents(session, status=None)
        assert (closed.resolution, closed.resolved_by) == ("retried", "root")
    after = text(admin.get(answer.headers["Location"]))
    assert f"インシデント {incident.id}：ジョブをもう一度実行します。" in after and "再試行済み — root" in after
    assert "未解決のインシデントはありません。" in text(admin.get("/admin/incidents"))

    again = admin.post(f"/admin/incidents/{incident.id}/retry",
                       data={"csrf_token": token, "next": f"/admin/applications/{application_id}"})
    assert again.status_code == 302  # already retried: said on the page, nothing changes
    assert "was already retried by root" in text(admin.get(again.headers["Location"]))
    assert len(job_rows(db, application_id=application_id)) == 1


def test_the_plugins_page_lists_hooks_and_masks_secrets(admin):
    page = text(admin.get("/admin/plugins"))
    assert "<code>plugins.diagnostics</code>" in page and "<code>madoguchi_operations</code>" in page
    assert "<code>jumin_link</code>" in page and "MADOGUCHI_JUMIN_LINK_API_TOKEN" in page
    assert "<code>***</code>" in page and "s3cret-token-value" not in page
    assert "https://jumin.example.lg.jp" in page


def test_the_cockpit_in_english(admin, applications):
    admin.post("/language", data={"lang": "en", "next": "/admin/applications",
                                  "csrf_token": csrf_of(admin, "/admin/applications")})
    page = text(admin.get("/admin/applications"))
    assert "<h1>Applications</h1>" in page and "3 applications found." in page and "Applicant" in page
    application_id, reference = applications["permit_by_sato"]
    detail = text(admin.get(f"/admin/applications/{application_id}"))
    assert f"Application {reference}" in detail and "Open tasks" in detail and "History" in detail


def _permit_v2(engine, db, tmp_path, body_ids=("review", "受付審査（新）")):
    element, name = body_ids
    deploy_text(engine, db, tmp_path, process("permit", "\n".join([
        '<bpmn:startEvent id="s"/>', user_task(element, name), '<bpmn:endEvent id="e"/>',
        chain("s", element, "e")])), "permit.bpmn")


def test_the_application_page_shows_the_diagram_panel(admin, applications):
    application_id, _reference = applications["permit_by_sato"]
    page = text(admin.get(f"/admin/applications/{application_id}"))
    assert f'data-diagram-url="/diagram/applications/{application_id}.json"' in page
    assert "<strong>現在の段階：</strong> <span class=\"bpmn-diagram-names\">受付審査</span>" in page
    assert "/static/vendor/bpmn-js/bpmn-viewer.production.min.js" in page and "/static/diagram.js" in page


def test_an_admin_cancels_an_application_with_a_reason(engine, db, admin, applications):
    application_id, reference = applications["permit_by_sato"]
    token = csrf_of(admin, f"/admin/applications/{application_id}")
    refused = admin.post(f"/admin/applications/{application_id}/cancel", data={"csrf_token": token, "reason": " "})
    assert refused.status_code == 400 and "中止する理由を入力してください。" in text(refused)
    answer = admin.post(f"/admin/applications/{application_id}/cancel",
                        data={"csrf_token": token, "reason": "申請者の依頼により中止"})
    assert answer.status_code == 302
    page = text(admin.get(answer.headers["Location"]))
    assert f"申請 {reference} を中止しました。" in page and "<dd>cancelled</dd>" in page
    assert "<code>application_cancelled</code>" in page and "申請者の依頼により中止" in page
    assert "申請を中止する</button>" not in page  # an ended application offers no more changes
    assert references(text(admin.get("/admin/applications?status=cancelled"))) == [reference]
    again = admin.post(f"/admin/applications/{application_id}/cancel", data={"csrf_token": token, "reason": "x"})
    assert again.status_code == 409 and "has already ended" in text(again)


def test_an_admin_previews_and_migrates_to_a_newer_version(engine, db, admin, applications, tmp_path):
    application_id, reference = applications["permit_by_suzuki"]
    assert "この手続にはこれより新しい版がありません。" in text(admin.get(f"/admin/applications/{application_id}"))
    _permit_v2(engine, db, tmp_path)
    preview = text(admin.get(f"/admin/applications/{application_id}?migrate_to=2"))
    assert "確認：第1版から第2版へ" in preview
    assert "受付審査 <code>review</code></th>" in preview and "受付審査（新） <code>review</code> — 定義に変更あり" in preview
    assert "<code>氏名</code>" in preview and "第2版へ移行する</button>" in preview
    token = csrf_of(admin, f"/admin/applications/{application_id}")
    answer = admin.post(f"/admin/applications/{application_id}/migrate", data={"csrf_token": token, "to_version": "2"})
    assert answer.status_code == 302
    page = text(admin.get(answer.headers["Location"]))
    assert f"申請 {reference} は第2版に移行しました。" in page and "v2</a>" in page
    assert "<code>application_migrated</code>" in page and '"from_version": 1' in page and '"to_version": 2' in page


def test_a_migration_is_refused_when_a_position_is_missing(engine, db, admin, applications, tmp_path):
    application_id, _reference = applications["permit_by_sato"]
    _permit_v2(engine, db, tmp_path, ("check", "確認"))
    preview = text(admin.get(f"/admin/applications/{application_id}?migrate_to=2"))
    assert "この申請は移行できません：第2版に要素 review がありません。" in preview
    assert "第2版へ移行する</button>" not in preview
    token = csrf_of(admin, f"/admin/applications/{application_id}")
    answer = admin.post(f"/admin/applications/{application_id}/migrate", data={"csrf_token": token, "to_version": "2"})
    assert answer.status_code == 409 and "at review, which version 2 does not have" in text(answer)
    assert "application_migrated" not in text(admin.get(f"/admin/applications/{application_id}"))
    assert "版の番号を選んでください。" in text(admin.get(f"/admin/applications/{application_id}?migrate_to=x"))
