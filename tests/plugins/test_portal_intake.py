"""National portal intake against the stand-in portal, a real HTTP server on 127.0.0.1.

Every test runs a real worker pass (``engine.worker(db).run_once()``), on SQLite and, when
configured, PostgreSQL; faults are injected into the stand-in, never into our code.
"""

from __future__ import annotations

import copy
import json
import tracemalloc
from datetime import timedelta

import pytest
from sqlalchemy import update

from engine.config import Settings
from engine.facade import Engine
from engine.plugins import PluginError
from engine.storage import engine_storage
from engine.store.models import Job, utcnow
from plugins import filesystem_storage, portal_intake
from plugins.portal_intake.client import forget_tokens
from plugins.portal_intake.mapping import FormError, MappingError, parse_mapping
from plugins.portal_intake.standin import StandinPortal, StandinServer, load_samples
from tests.engine.helpers import add_user, complete, open_tasks
from tests.plugins.portal_support import (
    ALL_SAMPLES,
    JIDOU_TEATE,
    application_count,
    applications_by_receipt,
    configure,
    deploy_procedures,
    imports,
    intake_job,
    poll,
    procedure_of,
    sha256_of,
    stored_keys,
    write_mapping,
)

FIRST = JIDOU_TEATE[0]


@pytest.fixture
def settings(database_url, tmp_path) -> Settings:
    # Three attempts; a retry is never due by itself within a test (a long backoff): the test
    # decides when the next attempt runs (poll() makes it due), so counts are exact under load.
    return Settings(home=tmp_path, database_url=database_url, job_max_attempts=3, job_backoff_seconds=600)


@pytest.fixture
def portal() -> StandinPortal:
    return StandinPortal()


@pytest.fixture
def standin(portal):
    forget_tokens()  # tokens are cached per process; every test logs in afresh
    with StandinServer(portal) as server:
        yield server
    forget_tokens()


@pytest.fixture
def configured(monkeypatch, standin):
    configure(monkeypatch, standin.url)


@pytest.fixture
def engine(settings, configured) -> Engine:
    return Engine(settings, plugins=(portal_intake, filesystem_storage))


@pytest.fixture
def storage(engine):
    return engine_storage(engine)


@pytest.fixture
def files_root(settings):
    return settings.home / "files"


@pytest.fixture
def deployed(engine, db, tmp_path):
    deploy_procedures(engine, db, tmp_path)


def new_application(number: str, **changes) -> dict:
    application = copy.deepcopy(load_samples()[0])
    application.update(receipt_number=number, arrived_at="2025-04-02T08:00:00+09:00", **changes)
    return application


# -- the happy path --------------------------------------------------------------------------------

def test_a_poll_imports_maps_stores_and_reports(engine, db, deployed, portal, storage):
    poll(engine, db)

    apps = applications_by_receipt(engine, db)
    assert sorted(apps) == ALL_SAMPLES
    first = apps[FIRST]
    assert first["procedure"] == "jidou-teate" and first["started_by"] == "intake:portal_intake"
    data = first["data"]
    assert data["applicant"] == {"name": "山田 太郎", "name_kana": "ヤマダ タロウ", "birth_date": "1987-06-14",
                                 "postal_code": "210-0001", "address": "神奈川県川崎市川崎区本町一丁目1番1号",
                                 "phone": "044-000-0101", "pension": "厚生年金"}
    assert data["children"] == [
        {"name": "山田 一郎", "birth_date": "2016-04-21", "relationship": "子", "living": "同居"},
        {"name": "山田 二葉", "birth_date": "2021-11-30", "relationship": "子", "living": "同居"}]
    assert data["bank_account"]["number"] == "1234567"
    assert "会社員" not in json.dumps(data, ensure_ascii=False)  # unmapped items stay out of the data
    assert [t["element_id"] for t in first["open_tasks"]] == ["review"]

    # Attachments: streamed into storage, hashes recorded, equal to what the portal announced.
    announced = {a["file_name"]: a for a in portal.records[FIRST].application["attachments"]}
    attachments = data["portal"]["attachments"]
    assert [a["name"] for a in attachments] == ["健康保険証の写し.pdf", "口座確認書類.jpg"]
    for attachment in attachments:
        assert attachment["key"] == f"intake/{FIRST}/{attachment['name']}"
        assert attachment["sha256"] == announced[attachment["name"]]["sha256"] == sha256_of(storage, attachment["key"])
        assert attachment["size"] == announced[attachment["name"]]["size"]
    original = data["portal"]["original"]
    with storage.open(original["key"]) as stream:
        assert json.loads(stream.read())["form"]["申請者"]["職業"] == "会社員"  # the whole original is kept
    assert data["portal"]["receipt_number"] == FIRST and data["portal"]["procedure_code"] == "jidouteate-nintei"

    tennyu = apps["2025040100000103"]
    assert tennyu["procedure"] == "tennyu-yoyaku"
    assert tennyu["data"]["movers"][1] == {"name": "鈴木 陽子", "birth_date": "1982-05-25", "relationship": "妻"}
    assert tennyu["data"]["portal"]["attachments"] == []

    # 受付 reported once each, and remembered.
    for number in ALL_SAMPLES:
        assert portal.history_of(number) == ["受付"]
        assert imports(db)[number].status_reported == "受付"
    # The poll rescheduled itself interval_seconds (3600) later.
    job = intake_job(db)
    assert job.status == "pending" and job.due_at > utcnow() + timedelta(seconds=3500)


def test_a_second_poll_imports_nothing_and_a_new_application_is_picked_up(engine, db, deployed, portal):
    poll(engine, db)
    poll(engine, db)
    assert application_count(db) == 3 and portal.calls("detail") == 3

    portal.add(new_application("2025040200000201"))
    poll(engine, db)
    assert application_count(db) == 4 and portal.calls("detail") == 4
    assert portal.history_of("2025040200000201") == ["受付"]


def test_duplicate_list_entries_make_one_application(engine, db, deployed, portal):
    portal.duplicate_list = True
    poll(engine, db)
    assert application_count(db) == 3
    assert [r.receipt_number for r in portal.reports].count(FIRST) == 1


def test_a_large_attachment_is_streamed_not_held(engine, db, deployed, portal, storage):
    poll(engine, db)  # warm up (workflow parsing, connections) outside the measurement
    size = 64 * 1024 * 1024
    application = new_application("2025040200000701")
    application["attachments"] = [{"file_name": "住民票の写し.tiff", "content_type": "image/tiff", "size": size}]
    announced = portal.add(application)["attachments"][0]["sha256"]
    tracemalloc.start()
    try:
        poll(engine, db)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    (stored,) = applications_by_receipt(engine, db)["2025040200000701"]["data"]["portal"]["attachments"]
    assert stored["size"] == size and stored["sha256"] == announced == sha256_of(storage, stored["key"])
    assert peak < 8 * 1024 * 1024, f"the poll held {peak / 1024 / 1024:.1f} MB at its peak"


# -- crashes and faults --------------------------------------------------------------------------

def test_a_failed_status_report_is_retried_without_a_second_application(engine, db, deployed, portal):
    portal.fail_next(1, call="status", status=503)
    poll(engine, db)

    # The first application was created, its 受付 report failed; the others went through.
    assert application_count(db) == 3
    assert imports(db)[FIRST].status_reported is None and portal.status_of(FIRST) == "到達"
    job = intake_job(db)
    assert job.status == "pending" and job.attempts == 1
    assert f"受付番号 {FIRST}" in job.last_error and "HTTP 503" in job.last_error

    poll(engine, db)
    assert application_count(db) == 3 and portal.calls("detail") == 3  # only reported, not fetched again
    assert portal.history_of(FIRST) == ["受付"] and imports(db)[FIRST].status_reported == "受付"
    assert intake_job(db).attempts == 0  # a successful poll starts afresh


def test_a_status_applied_whose_answer_was_lost_is_not_applied_twice(engine, db, deployed, portal):
    portal.lose_answer_next(1, call="status")
    poll(engine, db)
    # The portal stopped answering mid-poll: the poll stopped there and will be retried.
    assert application_count(db) == 1
    assert "2 more not tried" in intake_job(db).last_error

    poll(engine, db)
    assert application_count(db) == 3
    assert all(portal.history_of(number) == ["受付"] for number in ALL_SAMPLES)


FAULTS = {
    "timeout": lambda portal: portal.delay_next(3, seconds=1.5, call="list"),
    "5xx": lambda portal: portal.fail_next(3, call="list", status=502),
    "malformed": lambda portal: portal.malform_next(3, call="list"),
    "login 5xx": lambda portal: portal.fail_next(3, call="login", status=500),
}
MESSAGES = {"timeout": "no answer within 0.5s", "5xx": "HTTP 502", "malformed": "not JSON", "login 5xx": "HTTP 500"}


@pytest.mark.parametrize("fault", sorted(FAULTS))
def test_portal_faults_are_retried_then_become_an_incident(engine, db, deployed, portal, monkeypatch, fault,
                                                           files_root):
    monkeypatch.setenv("MADOGUCHI_PORTAL_INTAKE_TIMEOUT_SECONDS", "0.5")
    FAULTS[fault](portal)
    for attempt in (1, 2, 3):
        poll(engine, db)
        assert intake_job(db).attempts == attempt
    job = intake_job(db)
    assert job.status == "failed" and MESSAGES[fault] in job.last_error
    with db.transaction() as session:
        (incident,) = engine.incidents(session)
        assert incident.kind == "intake" and MESSAGES[fault] in incident.message
    assert application_count(db) == 0 and stored_keys(files_root) == []

    # An administrator retries once the portal is back: everything comes in.
    with db.transaction() as session:
        engine.retry_incident(session, incident.id, actor="admin")
    poll(engine, db)
    assert application_count(db) == 3 and intake_job(db).status == "pending"


@pytest.mark.parametrize("fault, message", [
    (lambda portal: portal.malform_next(1, call="detail"), "not JSON"),
    (lambda portal: portal.fail_next(1, call="detail", status=500), "HTTP 500"),
    (lambda portal: portal.fail_next(1, call="attachment", status=503), "HTTP 503"),
    (lambda portal: portal.corrupt_next(1), "SHA-256"),
], ids=["malformed detail", "detail 5xx", "attachment 5xx", "corrupt attachment"])
def test_one_broken_application_does_not_keep_the_others_out(engine, db, deployed, portal, files_root, fault,
                                                             message):
    fault(portal)
    poll(engine, db)

    assert sorted(imports(db)) == ALL_SAMPLES[1:]
    assert not any(key.startswith(f"intake/{FIRST}/") for key in stored_keys(files_root))  # nothing half-imported
    assert portal.status_of(FIRST) == "到達"
    assert f"受付番号 {FIRST}" in intake_job(db).last_error and message in intake_job(db).last_error

    poll(engine, db)
    assert sorted(imports(db)) == ALL_SAMPLES


def test_an_attachment_cut_off_mid_download_leaves_no_file(engine, db, deployed, portal, files_root):
    portal.truncate_next(1)
    poll(engine, db)
    assert application_count(db) == 0 and stored_keys(files_root) == []
    assert "broke off" in intake_job(db).last_error

    poll(engine, db)
    assert application_count(db) == 3


def test_an_attachment_over_the_limit_is_refused(engine, db, deployed, monkeypatch, files_root):
    monkeypatch.setenv("MADOGUCHI_PORTAL_INTAKE_MAX_ATTACHMENT_BYTES", "50000")
    poll(engine, db)
    # 101 has a 121877-byte attachment, 102 one of 65012: both refused; 103 has none.
    assert sorted(imports(db)) == ["2025040100000103"]
    assert "MADOGUCHI_PORTAL_INTAKE_MAX_ATTACHMENT_BYTES=50000" in intake_job(db).last_error
    assert [key for key in stored_keys(files_root) if key.startswith("intake/2025040100000101")] == []


def test_an_unknown_procedure_code_is_a_clear_error_until_it_is_mapped(engine, db, deployed, portal, monkeypatch,
                                                                       tmp_path):
    portal.add(new_application("2025040200000301", procedure_code="risai-shoumei", procedure_name="罹災証明書の交付申請"))
    poll(engine, db)

    assert sorted(imports(db)) == ALL_SAMPLES  # the others came in
    assert portal.calls("attachment") == 4  # nothing of the unmapped application was downloaded
    # A retry cannot help: an incident at once, for a person to extend the mapping.
    assert intake_job(db).status == "failed"
    with db.transaction() as session:
        (incident,) = engine.incidents(session)
    for text in ("'risai-shoumei'", "罹災証明書の交付申請", "2025040200000301", "MADOGUCHI_PORTAL_INTAKE_MAPPING_FILE"):
        assert text in incident.message

    def add_code(document):
        document["procedures"]["risai-shoumei"] = {**document["procedures"]["jidouteate-nintei"]}

    monkeypatch.setenv("MADOGUCHI_PORTAL_INTAKE_MAPPING_FILE", str(write_mapping(tmp_path, add_code)))
    with db.transaction() as session:
        engine.retry_incident(session, incident.id, actor="admin")
    poll(engine, db)
    assert procedure_of(db, imports(db)["2025040200000301"].application_id) == "jidou-teate"
    assert intake_job(db).status == "pending" and portal.status_of("2025040200000301") == "受付"


def test_an_application_handled_by_hand_can_be_skipped(engine, db, deployed, portal, monkeypatch):
    portal.add(new_application("2025040200000302", procedure_code="risai-shoumei"))
    poll(engine, db)
    with db.transaction() as session:
        (incident,) = engine.incidents(session)
    monkeypatch.setenv("MADOGUCHI_PORTAL_INTAKE_SKIP", "2025040200000302")
    with db.transaction() as session:
        engine.retry_incident(session, incident.id, actor="admin")
    poll(engine, db)
    assert intake_job(db).status == "pending" and intake_job(db).last_error is None
    assert sorted(imports(db)) == ALL_SAMPLES and portal.status_of("2025040200000302") == "到達"


def test_a_form_missing_a_required_item_is_named(engine, db, deployed, portal):
    application = new_application("2025040200000401")
    application["form"]["児童"] = []
    portal.add(application)
    poll(engine, db)
    assert "2025040200000401" not in imports(db)
    assert "required form item '児童[]'" in intake_job(db).last_error


def test_an_undeployed_procedure_leaves_no_files_behind(engine, db, deployed, portal, files_root, tmp_path,
                                                        monkeypatch):
    portal.add(new_application("2025040200000501", procedure_code="other"))

    def map_to_missing(document):
        document["procedures"]["other"] = {"procedure": "not-deployed", "fields": {}}

    monkeypatch.setenv("MADOGUCHI_PORTAL_INTAKE_MAPPING_FILE", str(write_mapping(tmp_path, map_to_missing)))
    poll(engine, db)
    assert "2025040200000501" not in imports(db) and "not-deployed" in intake_job(db).last_error
    assert not any(key.startswith("intake/2025040200000501/") for key in stored_keys(files_root))


# -- tokens ------------------------------------------------------------------------------------------

def test_an_expired_token_is_renewed(engine, db, deployed, portal):
    poll(engine, db)
    assert portal.logins == 1
    portal.expire_tokens()  # the portal forgot our token before we thought it would expire
    portal.add(new_application("2025040200000601"))
    poll(engine, db)
    assert portal.logins == 2 and application_count(db) == 4


def test_wrong_credentials_name_the_settings(engine, db, deployed, monkeypatch):
    monkeypatch.setenv("MADOGUCHI_PORTAL_INTAKE_PASSWORD", "wrong")
    poll(engine, db)
    job = intake_job(db)  # a refused login is refused again: an incident at once
    assert job.status == "failed" and job.attempts == 1
    assert "login refused" in job.last_error and "MADOGUCHI_PORTAL_INTAKE_PASSWORD" in job.last_error
    assert "wrong" not in job.last_error


def test_a_refused_request_is_not_retried(engine, db, deployed, portal):
    portal.fail_next(1, call="list", status=400)
    poll(engine, db)
    job = intake_job(db)
    assert job.status == "failed" and job.attempts == 1 and "HTTP 400" in job.last_error


# -- reporting later statuses from a procedure ----------------------------------------------------

def test_a_service_task_reports_a_later_status_once(engine, db, portal, tmp_path):
    deploy_procedures(engine, db, tmp_path, reporting=True)
    add_user(engine, db, "clerk", "clerks")
    poll(engine, db)
    application_id = imports(db)[FIRST].application_id
    (task,) = open_tasks(engine, db, application_id)
    complete(engine, db, task.id, "clerk", {"decision": "approve"})

    portal.lose_answer_next(1, call="status")  # the first report is applied, its answer lost
    engine.worker(db).run_once()
    assert portal.history_of(FIRST) == ["受付", "完了"]
    assert applications_by_receipt(engine, db)[FIRST]["completed_at"] is None  # the service task failed
    _make_service_due(db)
    engine.worker(db).run_once()

    assert portal.history_of(FIRST) == ["受付", "完了"]  # the retry was recognised by its request id
    requests = [r for r in portal.reports if r.receipt_number == FIRST and r.status == "完了"]
    assert [r.applied for r in requests] == [True, False] and requests[0].request_id == requests[1].request_id
    view = applications_by_receipt(engine, db)[FIRST]
    assert view["completed_at"] is not None and view["data"]["portal_status"] == "完了"
    assert imports(db)[FIRST].status_reported == "完了"


def _make_service_due(db) -> None:
    with db.transaction() as session:
        session.execute(update(Job).where(Job.kind == "service", Job.status == "pending")
                        .values(due_at=utcnow() - timedelta(milliseconds=1)))


def test_report_status_refuses_an_unknown_status(engine):
    operation = engine.operations["portal_intake.report_status"]
    with pytest.raises(portal_intake.ReportRefused, match="'done' is not one of 受付, 処理中"):
        operation({"status": "done"}, None)


# -- configuration ----------------------------------------------------------------------------------

def test_without_a_base_url_there_is_no_polling(settings, monkeypatch):
    monkeypatch.delenv("MADOGUCHI_PORTAL_INTAKE_BASE_URL", raising=False)
    engine = Engine(settings, plugins=(portal_intake, filesystem_storage))
    assert engine.intake.sources() == {}


def test_a_broken_configuration_refuses_to_start(settings, monkeypatch, tmp_path):
    monkeypatch.setenv("MADOGUCHI_PORTAL_INTAKE_BASE_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("MADOGUCHI_PORTAL_INTAKE_LOGIN_ID", "madoguchi")
    monkeypatch.setenv("MADOGUCHI_PORTAL_INTAKE_PASSWORD", "x")
    monkeypatch.delenv("MADOGUCHI_PORTAL_INTAKE_MAPPING_FILE", raising=False)
    with pytest.raises(PluginError, match="plugins.portal_intake.*MADOGUCHI_PORTAL_INTAKE_MAPPING_FILE is not set"):
        Engine(settings, plugins=(portal_intake, filesystem_storage))
    (tmp_path / "bad.json").write_text('{"procedures": {"x": {"procedure": "p", "fields": {"a": "portal.x"}}}}')
    monkeypatch.setenv("MADOGUCHI_PORTAL_INTAKE_MAPPING_FILE", "bad.json")  # relative to MADOGUCHI_HOME
    with pytest.raises(PluginError, match="'portal' is filled by the plugin itself"):
        Engine(settings, plugins=(portal_intake, filesystem_storage))


# -- the mapping and file names, without a server -------------------------------------------------

def test_repeated_groups_map_element_by_element():
    mapping = parse_mapping({"procedures": {"c": {"procedure": "p", "fields": {
        "児童[].氏名": "children[].name", "児童[].生年月日": "children[].born", "申請者.氏名": "name"}}}}, "test")
    rule = mapping.rule_for("c", "1")
    data = rule.apply({"申請者": {"氏名": "A"}, "児童": [{"氏名": "B"}, {"生年月日": "2020-01-01"}]}, "1")
    assert data == {"name": "A", "children": [{"name": "B"}, {"born": "2020-01-01"}]}
    with pytest.raises(FormError, match="should be a repeated group"):
        rule.apply({"児童": {"氏名": "B"}}, "1")


@pytest.mark.parametrize("fields, message", [
    ({"児童[].氏名": "name"}, "must map onto a list field"),
    ({"a": "x", "b": "x"}, "both map to 'x'"),
    ({"a": "x", "b": "x.y"}, "lies inside field 'x'"),
    ({"a[].b[].c": "x[].y"}, "more than one"),
    ({"a[].b": "x[].y", "c": "x.z"}, "clashes with the list field"),
])
def test_mapping_mistakes_are_named(fields, message):
    with pytest.raises(MappingError, match=message):
        parse_mapping({"procedures": {"c": {"procedure": "p", "fields": fields}}}, "test")


def test_applicants_file_names_become_safe_unique_keys():
    taken = {"portal-application.json"}
    names = [portal_intake.safe_file_name(name, taken) for name in
             ["../../etc/passwd", "C:\\Users\\me\\写真.jpg", "写真.jpg", ".bashrc", "", "a\x00b.pdf",
              "portal-application.json"]]
    assert names == ["passwd", "写真.jpg", "写真-2.jpg", "bashrc", "attachment", "ab.pdf", "portal-application-2.json"]
