"""Retrying an incident from the browser: a real service call to the resident records stand-in
(a real HTTP server on 127.0.0.1) fails, the job runner gives up and opens an incident, the
administrator retries it from the application's page, and the next call succeeds."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from engine.config import Settings
from plugins.resident_records.standin import StandinServer
from tests.engine.helpers import deploy_text, start
from tests.engine.jobs.support import drain, job_rows
from tests.plugins.resident_support import Standin, lookup_by_name
from tests.webui.browser.conftest import check_accessibility, sign_in_as
from tests.webui.conftest import add_staff

INOUE = {"name": "井上 大樹", "birth_date": "1985-04-12", "address": "若葉区桜台1-17-2"}


@pytest.fixture(scope="module")
def standin():
    with StandinServer() as server:
        yield Standin(server)


@pytest.fixture(scope="module")
def site_settings(site_settings, standin):
    """The plugin pointed at the stand-in as an operator would (environment variables); one
    attempt per job, so the first failure opens an incident at once."""
    with pytest.MonkeyPatch.context() as patch:
        for name, value in {"BASE_URL": standin.api_url, "TOKEN": standin.token, "CONNECT_TIMEOUT": "2",
                            "READ_TIMEOUT": "5"}.items():
            patch.setenv(f"MADOGUCHI_RESIDENT_RECORDS_{name}", value)
        patch.delenv("MADOGUCHI_RESIDENT_RECORDS_MAPPING", raising=False)
        yield Settings(home=site_settings.home, database_url=site_settings.database_url, job_max_attempts=1,
                       job_backoff_seconds=0.01)


def test_an_incident_of_a_failed_call_is_retried_and_the_call_then_succeeds(site_engine, site_db, site_page,
                                                                            standin, tmp_path):
    add_staff(site_engine, site_db, "root", "admin")
    definition = deploy_text(site_engine, site_db, tmp_path, lookup_by_name())
    standin.fault(status=503, times=1)  # the registry is down for one call
    application_id = start(site_engine, site_db, definition.key, {"applicant": INOUE}).application.id
    drain(site_engine, site_db)
    [job] = job_rows(site_db, application_id=application_id)
    assert job.status == "failed"

    page = site_page
    sign_in_as(page, "root")
    page.goto("/admin/incidents")
    incidents = page.get_by_role("main").get_by_role("table")
    expect(incidents).to_contain_text("503")
    check_accessibility(page)
    incidents.get_by_role("link", name=f"申請 {application_id}").click()
    expect(page).to_have_url(f"/admin/applications/{application_id}")
    check_accessibility(page)
    incident_id = _open_incident(site_engine, site_db)
    page.get_by_role("button", name=f"インシデント {incident_id} を再試行").click()
    expect(page.get_by_role("status")).to_contain_text(f"インシデント {incident_id}：ジョブをもう一度実行します。")
    expect(page.get_by_role("region", name="インシデント")).to_contain_text("再試行済み — root")

    drain(site_engine, site_db)  # what the worker process does with the job now due again
    page.reload()
    expect(page.get_by_role("region", name="未完了のタスク")).to_contain_text("check")
    expect(page.get_by_role("region", name="データ")).to_contain_text("0001000999")  # the resident found
    assert [j.status for j in job_rows(site_db, application_id=application_id)] in ([], ["done"])
    with site_db.transaction() as session:
        assert site_engine.show(session, application_id).as_dict()["data"]["resident"]["resident_id"] == "0001000999"
    assert [c["status"] for c in standin.requests("/residents/search")] == [503, 200]
    page.goto("/admin/incidents")
    expect(page.get_by_role("main")).to_contain_text("未解決のインシデントはありません。")


def _open_incident(engine, db) -> int:
    with db.transaction() as session:
        [incident] = engine.incidents(session)
        return incident.id
