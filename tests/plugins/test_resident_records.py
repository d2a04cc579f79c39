"""The resident records (住民記録) connector against its stand-in server on 127.0.0.1.

Everything goes over real HTTP to a real server started by the test: lookups and change
notifications through BPMN service tasks (both dialects), what retries and incidents look like
when the core system is slow, down, garbled or refuses us, the idempotency of notifications,
and the field mapping on its own.
"""

from __future__ import annotations

import json

import pytest

from engine.config import Settings
from engine.facade import Engine
from engine.plugins import PluginError
from plugins import resident_records
from plugins.resident_records.client import (
    ConfigurationError,
    CoreSystemRejected,
    CoreSystemUnavailable,
    InvalidParameters,
    ResidentRecordsClient,
    UnexpectedAnswer,
)
from plugins.resident_records.mapping import (
    DEFAULT_MAPPING,
    MappingError,
    from_wareki,
    load_mapping,
    parse_mapping,
    to_wareki,
)
from plugins.resident_records.standin import RECORDS, StandinServer, normalize_address
from tests.engine.helpers import add_user, complete, deploy_text, open_tasks, show, start
from tests.engine.jobs.support import drain, job_rows
from tests.plugins.resident_support import (
    Standin,
    camunda_lookup_then_notify,
    lookup_by_name,
    lookup_by_serial,
    notify_address_change,
)

#: Generous for ordinary calls, so a loaded test machine does not time out where no test wants it.
READ_TIMEOUT = 5.0
#: For the tests about timeouts (their engine: ``impatient``); the stand-in's delays are well above it.
SHORT_READ_TIMEOUT = 0.5
SERIAL_OF_TANAKA = "E5BBC53ECCAEF5F1"
SERIAL_OF_NAKAMURA = "190AF0C6E8DC7856"  # moved out (転出) last year
INOUE = {"name": "井上 大樹", "birth_date": "1985-04-12", "address": "若葉区桜台1-17-2"}
INOUE_RECORD = {"resident_id": "0001000999", "household_id": "0002000295", "name": "井上　大樹",
                "name_kana": "イノウエ　ダイキ", "birth_date": "1985-04-12", "sex": "male",
                "address": "神奈川県みなと市若葉区桜台一丁目17番2号", "address_detail": None, "status": "resident"}


# -- fixtures -----------------------------------------------------------------------------------

@pytest.fixture
def standin():
    with StandinServer() as server:
        yield Standin(server)


@pytest.fixture
def connection(standin, monkeypatch):
    """The plugin's settings, as an operator sets them: environment variables."""
    for name, value in {"BASE_URL": standin.api_url, "TOKEN": standin.token, "CONNECT_TIMEOUT": "2",
                        "READ_TIMEOUT": str(READ_TIMEOUT)}.items():
        monkeypatch.setenv(f"MADOGUCHI_RESIDENT_RECORDS_{name}", value)
    monkeypatch.delenv("MADOGUCHI_RESIDENT_RECORDS_MAPPING", raising=False)


@pytest.fixture
def settings(database_url, tmp_path) -> Settings:
    # Loaded by module name, like an operator's MADOGUCHI_PLUGINS: this keeps working once the
    # plugin is one of the built-ins (registering the module object a second time would not).
    return Settings(home=tmp_path, database_url=database_url, plugin_modules=(resident_records.__name__,),
                    job_max_attempts=3, job_backoff_seconds=0.01)


@pytest.fixture
def engine(settings, connection) -> Engine:
    return Engine(settings)


@pytest.fixture
def impatient(settings, connection, monkeypatch) -> Engine:
    """An engine whose plugin gives up waiting for an answer after SHORT_READ_TIMEOUT."""
    monkeypatch.setenv("MADOGUCHI_RESIDENT_RECORDS_READ_TIMEOUT", str(SHORT_READ_TIMEOUT))
    return Engine(settings)


@pytest.fixture
def clerk(engine, db) -> str:
    add_user(engine, db, "clerk", "clerks")
    return "clerk"


def run(engine, db, tmp_path, diagram: str, data: dict) -> dict:
    """Deploy, start with ``data``, let the worker run every job (retries included), show."""
    definition = deploy_text(engine, db, tmp_path, diagram)
    app = start(engine, db, definition.key, data).application
    drain(engine, db)
    return show(engine, db, app.id)


def incidents(engine, db) -> list[dict]:
    with db.transaction() as session:
        return [{"message": i.message, "attempts": i.attempts, "element_id": i.element_id}
                for i in engine.incidents(session)]


# -- lookups through service tasks ----------------------------------------------------------------

def test_lookup_by_name_birth_date_and_address_puts_the_mapped_resident_into_the_task_data(
        engine, db, tmp_path, standin):
    view = run(engine, db, tmp_path, lookup_by_name(), {"applicant": INOUE})

    assert view["data"]["resident"] == INOUE_RECORD
    assert (view["data"]["match"], view["data"]["candidates"]) == ("found", 1)
    assert [t["element_id"] for t in view["open_tasks"]] == ["check"]
    # The core system's own field names stay out of the application.
    assert "SHIMEI_KANJI" not in json.dumps(view["data"])
    [request] = standin.requests("/residents/search")
    assert request["request_id"].startswith(view["reference"] + "/")  # the job's idempotency key, for its log
    assert incidents(engine, db) == []


def test_lookup_by_jpki_serial_in_a_camunda_external_task_then_notify_the_move(engine, db, tmp_path, standin,
                                                                             clerk):
    new_address = "神奈川県みなと市若葉区汐見台二丁目8番5号"
    definition = deploy_text(engine, db, tmp_path, camunda_lookup_then_notify())
    app = start(engine, db, definition.key, {
        "jpki_serial": SERIAL_OF_TANAKA, "kind": "address_change", "fields": {"address": new_address},
        "effective_date": "2026-04-01"}).application
    drain(engine, db)

    data = show(engine, db, app.id)["data"]
    assert data["resident"]["name"] == "田中　優子"
    assert data["resident"]["address_detail"] == "本町グランドハイツ503"
    assert data["match"] == "found"

    # The notification finds the 宛名番号 in the lookup's result: nothing copied by hand.
    [review] = open_tasks(engine, db, app.id)
    complete(engine, db, review.id, clerk, {"approved": True})
    drain(engine, db)

    view = show(engine, db, app.id)
    assert view["status"] == "completed"
    assert view["data"]["change"]["resident_id"] == "0001000444"
    assert view["data"]["change"]["replayed"] is False
    [change] = standin.changes()
    assert (change["atena_bango"], change["kind"], change["fields"]) == ("0001000444", "TENKYO",
                                                                         {"JUSHO": new_address})
    assert standin.resident("0001000444")["JUSHO"] == new_address


def test_lookup_of_a_resident_who_moved_out_says_so(engine, db, tmp_path):
    view = run(engine, db, tmp_path, lookup_by_serial(), {"certificate_serial": SERIAL_OF_NAKAMURA})
    assert view["data"]["resident"]["name"] == "中村　拓也"
    assert view["data"]["resident"]["status"] == "moved_out"  # the procedure decides what that means


@pytest.mark.parametrize(("diagram", "data"), [
    (lookup_by_name(), {"applicant": dict(INOUE, birth_date="1985-04-13")}),
    (lookup_by_name(), {"applicant": dict(INOUE, address="若葉区桜台1-17-21")}),  # not 1-17-2
    (lookup_by_serial(), {"certificate_serial": "00000000DEADBEEF"}),
], ids=["wrong-birth-date", "other-house-number", "unknown-serial"])
def test_nobody_found_is_an_answer_not_an_error(engine, db, tmp_path, diagram, data):
    view = run(engine, db, tmp_path, diagram, data)
    assert (view["data"]["resident"], view["data"]["match"], view["data"]["candidates"]) == (None, "none", 0)
    assert [t["element_id"] for t in view["open_tasks"]] == ["check"]
    assert incidents(engine, db) == []


def test_two_residents_with_the_same_name_and_birth_date_are_ambiguous_without_their_data(engine, db, tmp_path):
    # Two 鈴木 一郎 born 1972-08-15 live in 桜台二丁目 (5番3号 and 8番1号): the 丁目 is not enough.
    applicant = {"name": "鈴木　一郎", "birth_date": "1972-08-15", "address": "みなと市若葉区桜台二丁目"}
    view = run(engine, db, tmp_path, lookup_by_name(), {"applicant": applicant})
    assert (view["data"]["resident"], view["data"]["match"], view["data"]["candidates"]) == (None, "ambiguous", 2)
    assert "0001000185" not in json.dumps(view["data"])  # neither one's data lands in this application

    exact = run(engine, db, tmp_path, lookup_by_name("lookup_exact"),
                {"applicant": dict(applicant, address="桜台２－８－１")})
    assert exact["data"]["resident"]["resident_id"] == "0001000259"


# -- notifications: exactly once --------------------------------------------------------------------

def test_change_applied_once_when_the_answer_timed_out_and_the_job_retried(impatient, db, tmp_path, standin):
    # The core system applies the change, but its answer comes after our read timeout: the job
    # fails, is retried with the same idempotency key, and the system answers the first result.
    standin.fault(delay=SHORT_READ_TIMEOUT * 4, path_contains="/changes")
    new_address = "神奈川県みなと市若葉区本町二丁目3番4号"
    view = run(impatient, db, tmp_path, notify_address_change(),
               {"resident_id": "0001000037", "new_address": new_address, "moved_on": "2026-04-01"})

    first, retry = standin.requests("/changes")
    assert first["idempotency_key"] == retry["idempotency_key"]
    assert first["idempotency_key"].startswith(view["reference"] + "/")
    [change] = standin.changes()
    assert change["idempotency_key"] == first["idempotency_key"]
    assert standin.resident("0001000037")["JUSHO"] == new_address
    receipt = view["data"]["change"]
    assert (receipt["change_id"], receipt["replayed"]) == (change["change_id"], True)
    assert (receipt["kind"], receipt["effective_date"]) == ("address_change", "2026-04-01")
    assert [t["element_id"] for t in view["open_tasks"]] == ["check"]
    assert incidents(impatient, db) == []


def test_change_for_a_resident_who_moved_out_is_refused_with_the_systems_reason(engine, db, tmp_path, standin):
    run(engine, db, tmp_path, notify_address_change(),
        {"resident_id": "0001000592", "new_address": "神奈川県みなと市若葉区本町一丁目1番1号", "moved_on": "2026-04-01"})
    [incident] = incidents(engine, db)
    assert incident["message"].startswith("CoreSystemRejected: the resident records system refused "
                                          "POST /residents/<id>/changes with HTTP 409: not_current_resident")
    assert standin.changes() == []


# -- failures: retried by the job runner, then incidents ----------------------------------------------

def test_503_twice_then_success_after_the_job_runner_retried(engine, db, tmp_path, standin):
    standin.fault(status=503, times=2)
    view = run(engine, db, tmp_path, lookup_by_name(), {"applicant": INOUE})

    assert view["data"]["resident"] == INOUE_RECORD
    calls = standin.requests("/residents/search")
    assert [c["status"] for c in calls] == [503, 503, 200]
    assert len({c["request_id"] for c in calls}) == 1  # one piece of work, three attempts
    assert incidents(engine, db) == []


def test_read_timeout_on_every_attempt_ends_in_an_incident_that_says_so(impatient, db, tmp_path, standin):
    standin.fault(delay=SHORT_READ_TIMEOUT * 2, times=3)
    view = run(impatient, db, tmp_path, lookup_by_name(), {"applicant": INOUE})

    [incident] = incidents(impatient, db)
    assert incident["attempts"] == 3 and incident["element_id"] == "call"
    assert incident["message"] == (
        f"CoreSystemTimeout: the resident records system did not answer POST /residents/search within "
        f"{SHORT_READ_TIMEOUT:g} s (read timeout, MADOGUCHI_RESIDENT_RECORDS_READ_TIMEOUT)")
    [job] = job_rows(db)
    assert job.status == "failed"
    assert len(standin.requests("/residents/search")) == 3
    assert "resident" not in view["data"]


@pytest.mark.parametrize(("fault", "expected"), [
    ({"malformed": True}, "UnexpectedAnswer: the core system's answer is not what was expected: "
                          "POST /residents/search: the body is not JSON (application/json"),
    ({"omit_field": "SETAI_BANGO"}, "UnexpectedAnswer: the core system's answer is not what was expected: "
                                    "POST /residents/search, record 1: the record has no SETAI_BANGO "
                                    "(mapped to 'household_id')"),
], ids=["malformed-json", "missing-field"])
def test_an_answer_that_is_not_what_was_expected_is_a_clear_incident(engine, db, tmp_path, standin, fault,
                                                                      expected):
    standin.fault(**fault)
    run(engine, db, tmp_path, lookup_by_name(retry=(0, 0)), {"applicant": INOUE})
    [incident] = incidents(engine, db)
    assert incident["message"].startswith(expected)
    # The garbled body held a resident's data; the incident (read by administrators) does not.
    assert "井上" not in incident["message"] and "1985" not in incident["message"]


def test_wrong_token_is_refused_and_the_incident_names_the_setting(engine, db, tmp_path, standin, settings,
                                                                   monkeypatch):
    monkeypatch.setenv("MADOGUCHI_RESIDENT_RECORDS_TOKEN", "not-the-token")
    wrong = Engine(settings)
    run(wrong, db, tmp_path, lookup_by_name(), {"applicant": INOUE})
    [incident] = incidents(wrong, db)
    assert incident["message"] == (
        "CoreSystemRejected: the resident records system refused POST /residents/search with HTTP 401: "
        "unauthorized — the token is not valid — check the API token (MADOGUCHI_RESIDENT_RECORDS_TOKEN)")


# -- settings -------------------------------------------------------------------------------------------

def test_settings_come_from_the_environment_and_the_token_is_never_shown(engine, standin):
    values = engine.plugin_settings(resident_records.__name__)
    assert values["base_url"] == standin.api_url
    assert (values["connect_timeout"], values["read_timeout"]) == (2.0, READ_TIMEOUT)
    [row] = [p for p in engine.plugins() if p["name"] == resident_records.__name__]
    assert row["settings"]["token"] == {"variable": "MADOGUCHI_RESIDENT_RECORDS_TOKEN", "value": "***",
                                        "description": resident_records.SETTINGS["token"].description}
    assert {"resident_records.lookup", "resident_records.notify_change"} <= set(engine.operations)


def test_a_broken_mapping_stops_the_engine_at_start_up(tmp_path, monkeypatch):
    monkeypatch.setenv("MADOGUCHI_RESIDENT_RECORDS_MAPPING", '{"fields": {"SHIMEI": "name"}}')
    settings = Settings(home=tmp_path, database_url=f"sqlite:///{tmp_path / 'x.db'}",
                        plugin_modules=(resident_records.__name__,))
    with pytest.raises(PluginError) as refused:
        Engine(settings)
    assert str(refused.value).startswith(
        "plugin 'plugins.resident_records': setting mapping (MADOGUCHI_RESIDENT_RECORDS_MAPPING): the JSON text: "
        "'fields' maps no core field to 'resident_id' (needed by notify_change), 'birth_date'")


def test_an_unset_base_url_fails_the_call_and_says_which_variable_to_set():
    connector = resident_records.Connector.from_settings(
        {"base_url": "", "token": "", "connect_timeout": 3.0, "read_timeout": 10.0, "mapping": ""})
    with pytest.raises(ConfigurationError, match="set MADOGUCHI_RESIDENT_RECORDS_BASE_URL"):
        connector.lookup({"jpki_serial": SERIAL_OF_TANAKA}, context=None)


@pytest.mark.parametrize(("params", "message"), [
    ({"name": "井上 大樹", "birth_date": "1985-04-12"}, "missing or empty: address"),
    ({"name": "井上 大樹", "birth_date": "昭和60年4月12日", "address": "桜台"}, "'birth_date' must be a date"),
    ({"jpki_serial": 42}, "'jpki_serial' must be text"),
])
def test_lookup_parameters_are_checked_before_any_call(params, message):
    connector = resident_records.Connector.from_settings(
        {"base_url": "http://127.0.0.1:9", "token": "", "connect_timeout": 3.0, "read_timeout": 10.0,
         "mapping": ""})
    with pytest.raises(InvalidParameters, match=message):
        connector.lookup(params, context=type("Ctx", (), {"idempotency_key": "k"})())


# -- the client and the stand-in, without an engine -----------------------------------------------------

@pytest.fixture
def client(standin) -> ResidentRecordsClient:
    return ResidentRecordsClient(standin.api_url, standin.token, connect_timeout=2, read_timeout=2)


def test_stand_in_matches_names_and_addresses_the_way_people_write_them(client):
    # 髙橋 is found as 高橋, ２１５ as 215, and the kana name in hiragana.
    residents, total = client.search({"SHIMEI_KANJI": "高橋誠", "SEINENGAPPI": "1965-12-01",
                                      "JUSHO": "若葉町２１５"}, request_id="t")
    assert total == 1 and residents[0]["SHIMEI_KANJI"] == "髙橋　誠"
    _, total = client.search({"SHIMEI_KANA": "たかはし　まこと", "SEINENGAPPI": "1965-12-01"}, request_id="t")
    assert total == 1
    assert "JPKI_SERIALS" not in residents[0]  # certificate serials are looked up, never handed out
    assert normalize_address("桜台二丁目5番3号") == normalize_address("桜台2-5-3") == "桜台2-5-3"


def test_stand_in_refuses_a_search_by_one_criterion(client):
    with pytest.raises(CoreSystemRejected, match="HTTP 400: too_broad"):
        client.search({"SHIMEI_KANJI": "鈴木　一郎"}, request_id="t")


def test_stand_in_replays_a_change_by_its_key_and_refuses_the_key_for_another_change(client, standin):
    change = {"kind": "SETAI_HENKO", "effective_date": "2026-05-01", "fields": {"SETAI_BANGO": "0002999999"}}
    first, replayed = client.notify_change("0001000851", change, idempotency_key="app/1")
    again, replayed_again = client.notify_change("0001000851", change, idempotency_key="app/1")
    assert (first, replayed, replayed_again) == (again, False, True)
    assert len(standin.changes()) == 1

    with pytest.raises(CoreSystemRejected, match="HTTP 422: idempotency_key_reused"):
        client.notify_change("0001000851", dict(change, effective_date="2026-05-02"), idempotency_key="app/1")
    with pytest.raises(CoreSystemRejected, match="HTTP 404: resident_not_found"):
        client.notify_change("0009999999", change, idempotency_key="app/2")
    assert len(standin.changes()) == 1


def test_an_unreachable_system_is_retryable_and_a_wrong_base_url_is_named(standin):
    with StandinServer() as gone:
        url = gone.api_url
    with pytest.raises(CoreSystemUnavailable, match="cannot reach the resident records system") as down:
        ResidentRecordsClient(url, "t").search({"SHIMEI_KANJI": "a", "SEINENGAPPI": "2000-01-01"}, request_id="t")
    assert down.value.retryable
    with pytest.raises(CoreSystemRejected, match=r"HTTP 404: .* check the base URL") as wrong:
        ResidentRecordsClient(standin.url + "/api/v9", standin.token).search(
            {"SHIMEI_KANJI": "a", "SEINENGAPPI": "2000-01-01"}, request_id="t")
    assert not wrong.value.retryable


# -- the mapping ----------------------------------------------------------------------------------------

def _record(atena: str) -> dict:
    residents = json.loads(RECORDS.read_text(encoding="utf-8"))["residents"]
    return next(r for r in residents if r["ATENA_BANGO"] == atena)


def test_default_mapping_turns_a_core_record_into_procedure_fields():
    mapping = load_mapping("")
    assert mapping.record(_record("0001000999"), "test") == INOUE_RECORD
    moved = mapping.record(_record("0001000592"), "test")
    assert (moved["status"], moved["address_detail"]) == ("moved_out", "本町レジデンス805")
    assert mapping.to_core({"name": "井上 大樹", "birth_date": "1985-04-12", "sex": "male"}, "test") == {
        "SHIMEI_KANJI": "井上 大樹", "SEINENGAPPI": "1985-04-12", "SEIBETSU": "1"}


def test_mapping_is_configuration_json_text_or_a_file(tmp_path):
    vendor = {"date_format": "wareki", "fields": {
        "KOJIN_NO": "resident_id", "KANJI_SHIMEI": "name", "SEINENGAPPI_WAREKI": {"field": "birth_date", "type": "date"},
        "JUSHO_KANJI": "address", "ZOKUGARA": {"field": "relationship", "required": False}}}
    path = tmp_path / "mapping.json"
    path.write_text(json.dumps(vendor, ensure_ascii=False), encoding="utf-8")
    for setting in (json.dumps(vendor, ensure_ascii=False), str(path)):
        mapping = load_mapping(setting)
        record = {"KOJIN_NO": 4711, "KANJI_SHIMEI": "山本　恵", "SEINENGAPPI_WAREKI": "昭和52年12月19日",
                  "JUSHO_KANJI": "若葉区緑ヶ丘三丁目7番15号", "UNMAPPED": "x"}
        assert mapping.record(record, "test") == {"resident_id": "4711", "name": "山本　恵",
                                                  "birth_date": "1977-12-19", "address": "若葉区緑ヶ丘三丁目7番15号",
                                                  "relationship": None}
        assert mapping.to_core({"birth_date": "1977-12-19"}, "test") == {"SEINENGAPPI_WAREKI": "昭和52年12月19日"}
        assert mapping.change_kinds == DEFAULT_MAPPING["change_kinds"]  # a section left out keeps the default


@pytest.mark.parametrize(("day", "wareki", "code"), [
    ("1985-04-12", "昭和60年4月12日", "3600412"),
    ("1926-12-25", "昭和元年12月25日", "3011225"),
    ("1989-01-07", "昭和64年1月7日", "3640107"),
    ("1989-01-08", "平成元年1月8日", "4010108"),
    ("2019-04-30", "平成31年4月30日", "4310430"),
    ("2019-05-01", "令和元年5月1日", "5010501"),
    ("1912-07-30", "大正元年7月30日", "2010730"),
])
def test_wareki_dates_both_ways(day, wareki, code):
    from datetime import date

    assert to_wareki(date.fromisoformat(day)) == wareki
    assert to_wareki(date.fromisoformat(day), code=True) == code
    assert from_wareki(wareki) == from_wareki(code) == date.fromisoformat(day)
    assert from_wareki(wareki.replace("元年", "1年")) == date.fromisoformat(day)


@pytest.mark.parametrize("text", ["昭和65年1月1日", "平成31年5月1日", "令和0年5月1日", "3640108", "平成元年2月30日",
                                  "1985-04-12", "6010101"])
def test_dates_outside_their_era_are_refused(text):
    with pytest.raises(ValueError):
        from_wareki(text)


def test_values_the_mapping_does_not_know_are_named_not_guessed():
    mapping = load_mapping("")
    record = dict(_record("0001000999"), JUMIN_JOTAI="9")
    with pytest.raises(UnexpectedAnswer, match=r"test: JUMIN_JOTAI has a code the mapping does not know; add it "
                                               r"to the 'values' of JUMIN_JOTAI \(known: 1, 2, 3\)"):
        mapping.record(record, "test")
    with pytest.raises(UnexpectedAnswer, match="SEINENGAPPI is not a date in the configured format 'iso'"):
        mapping.record(dict(record, SEINENGAPPI="昭和60年4月12日"), "test")
    with pytest.raises(InvalidParameters, match="'sex' must be one of female, male"):
        mapping.to_core({"sex": "男"}, "test")
    with pytest.raises(InvalidParameters, match="'shoe_size' is not a field of the mapping"):
        mapping.to_core({"shoe_size": "27"}, "test")
    with pytest.raises(InvalidParameters, match="'kind' must be one of address_change, household_change"):
        mapping.change_kind("marriage")


@pytest.mark.parametrize(("raw", "message"), [
    ([], "must be a JSON object"),
    ({"feilds": {}}, "unknown key(s) feilds"),
    ({"date_format": "japanese"}, "'date_format' must be one of iso, wareki, wareki_code"),
    ({"fields": dict(DEFAULT_MAPPING["fields"], NAME2="name")}, "two core fields are mapped to 'name'"),
    ({"fields": dict(DEFAULT_MAPPING["fields"], X={"field": "x", "type": "number"})}, "fields.X: 'type' must be"),
    ({"fields": dict(DEFAULT_MAPPING["fields"], X={"field": "x", "type": "date", "values": {"1": "a"}})},
     "a date field cannot have 'values'"),
    ({"fields": dict(DEFAULT_MAPPING["fields"], X={"field": "x", "values": {"1": "a", "2": "a"}})},
     "two codes in 'values' have the same procedure value"),
    ({"fields": dict(DEFAULT_MAPPING["fields"], X={"field": "x", "requried": False})}, "unknown key(s) requried"),
    ({"change_kinds": {"move_out": ""}}, "'change_kinds' must be an object"),
])
def test_mistakes_in_a_mapping_are_explained(raw, message):
    with pytest.raises(MappingError) as refused:
        parse_mapping(raw)
    assert message in str(refused.value)


def test_a_mapping_file_that_cannot_be_read_or_parsed_is_named(tmp_path):
    with pytest.raises(MappingError, match="cannot read the file .*missing.json"):
        load_mapping(str(tmp_path / "missing.json"))
    (tmp_path / "bad.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(MappingError, match="bad.json is not JSON"):
        load_mapping(str(tmp_path / "bad.json"))
