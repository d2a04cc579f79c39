"""The mail plugin against a real SMTP server (aiosmtpd on 127.0.0.1), on SQLite and PostgreSQL.

Applications run a small procedure — review, then return for correction, reject, issue or
finish — and a worker sends what the lifecycle hooks queued. Nothing is patched: the plugin
is configured through its MADOGUCHI_MAIL_* variables, as in production.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import plugins.mail
from engine.config import Settings
from engine.facade import Engine
from engine.lifecycle import LifecycleEvent
from engine.plugins import PluginError, setting_variable
from plugins.mail import config as mail_config
from plugins.mail.delivery import template_context
from plugins.mail.render import render
from tests.diagrams import chain, flow, process
from tests.engine.helpers import add_user, complete, start
from tests.engine.jobs.support import job_rows, make_due
from tests.plugins.mail_server import Inbox, free_port, self_signed, server_tls_context, smtp_server

APPLICANT = {"email": "hanako@example.jp", "name": "山田 花子"}


def _status(value: str) -> str:
    return (f'<bpmn:extensionElements><camunda:properties><camunda:property name="status" value="{value}"/>'
            '</camunda:properties></bpmn:extensionElements>')


DOG = process("dog_registration", "\n".join([
    '<bpmn:startEvent id="start"/>',
    '<bpmn:userTask id="review" name="審査" camunda:candidateGroups="clerks"/>',
    '<bpmn:exclusiveGateway id="decide" default="to_done"/>',
    # No candidates: the applicant who started the application corrects it.
    f'<bpmn:userTask id="fix" name="申請内容の修正">{_status("returned")}</bpmn:userTask>',
    f'<bpmn:userTask id="hand_over" name="交付" camunda:candidateGroups="clerks">{_status("issued")}'
    '</bpmn:userTask>',
    f'<bpmn:endEvent id="rejected">{_status("rejected")}</bpmn:endEvent>',
    '<bpmn:endEvent id="done"/>',
    chain("start", "review", "decide"),
    flow("to_fix", "decide", "fix", "decision == 'return'"),
    flow("to_reject", "decide", "rejected", "decision == 'reject'"),
    flow("to_issue", "decide", "hand_over", "decision == 'issue'"),
    flow("to_done", "decide", "done"),
    chain("fix", "review"),
    chain("hand_over", "done"),
]))

MANIFEST = """key = "dog-registration"
process = "dog_registration"
department = "保健所 生活衛生課（電話 0123-45-6789）"

[title]
ja = "犬の登録申請"
en = "Dog registration"
"""


# -- fixtures ---------------------------------------------------------------------------------

@pytest.fixture
def settings(database_url, tmp_path) -> Settings:
    # Backoff long enough that a failed job never comes due again inside the same run_once;
    # the tests move retries forward with make_due instead of sleeping.
    return Settings(home=tmp_path, database_url=database_url, job_max_attempts=3, job_backoff_seconds=30.0)


@pytest.fixture
def inbox():
    return Inbox()


@pytest.fixture
def smtp_port(inbox):
    with smtp_server(inbox) as port:
        yield port


@pytest.fixture
def configure(monkeypatch):
    """Set MADOGUCHI_MAIL_<NAME> variables: configure(PORT=2525, EVENTS="received")."""
    def setenv(**variables) -> None:
        for name, value in variables.items():
            monkeypatch.setenv(f"MADOGUCHI_MAIL_{name}", str(value))
    return setenv


@pytest.fixture
def make_engine(settings, configure, smtp_port):
    """An engine with the mail plugin, after setting the given variables (the server's port first)."""
    def build(**variables) -> Engine:
        configure(HOST="127.0.0.1", PORT=smtp_port, SENDER="kurashi@city.example.jp",
                  SENDER_NAME="みどり市役所", **variables)
        return Engine(settings, plugins=(plugins.mail,))
    return build


@pytest.fixture
def engine(make_engine) -> Engine:
    return make_engine()


@pytest.fixture
def procedure(engine, db, tmp_path) -> str:
    return _deploy(engine, db, tmp_path)


def _deploy(engine, db, tmp_path: Path) -> str:
    bundle = tmp_path / "dog-registration"
    bundle.mkdir()
    (bundle / "procedure.toml").write_text(MANIFEST, encoding="utf-8")
    (bundle / "dog.bpmn").write_text(DOG, encoding="utf-8")
    with db.transaction() as session:
        engine.deploy(session, bundle)
    add_user(engine, db, "clerk", "clerks")
    add_user(engine, db, "applicant")
    return "dog-registration"


def run_jobs(engine, db) -> int:
    return engine.worker(db).run_once()


def body(message) -> str:
    return message.get_body(("plain",)).get_content()


def mail_jobs(db) -> list:
    return job_rows(db, kind="notification")


def header(message, name: str) -> str:
    # Python's parser keeps the blank that starts a header folded right after its name
    # ("Subject:\r\n We have …"); unfolded, as mail clients read it, there is none.
    return str(message[name]).strip()


# -- the applicant's mails --------------------------------------------------------------------

def test_received_mail_in_japanese(engine, db, procedure, inbox):
    app = start(engine, db, procedure, {"applicant": APPLICANT, "dog": {"name": "ポチ"}}).application
    [job] = mail_jobs(db)
    assert (job.kind, job.payload["template"], job.application_id) == ("notification", "received", app.id)
    assert "dog" not in job.payload["data"]  # only what the mail shows travels in the job

    assert run_jobs(engine, db) == 1
    [mail] = inbox.messages
    assert mail["To"] == "hanako@example.jp"
    assert inbox.envelopes == [("kurashi@city.example.jp", ["hanako@example.jp"])]
    [sender] = mail["From"].addresses
    assert (sender.display_name, sender.addr_spec) == ("みどり市役所", "kurashi@city.example.jp")
    assert header(mail, "Subject") == f"申請を受け付けました：犬の登録申請（受付番号 {app.reference}）"
    # On the wire: headers RFC 2047-encoded, the body in base64 — seven-bit clean throughout.
    raw = inbox.raw[0]
    assert raw.isascii() and b"subject: =?utf-8?" in raw.lower()
    text = body(mail)
    assert "山田 花子 様" in text
    assert f"受付番号：{app.reference}" in text and "手続名　：犬の登録申請" in text
    # お問い合わせ先 defaults to the department of the procedure's manifest
    assert "【お問い合わせ先】\n保健所 生活衛生課（電話 0123-45-6789）" in text
    assert mail.get_content_charset() == "utf-8"
    assert mail["Content-Language"] == "ja" and mail["Auto-Submitted"] == "auto-generated"
    assert re.fullmatch(r"<madoguchi\.[0-9a-f]{32}@city\.example\.jp>", header(mail, "Message-ID"))
    assert mail["Date"].datetime.utcoffset().total_seconds() == 9 * 3600  # Asia/Tokyo
    assert mail_jobs(db) == []


def test_english_when_the_applicant_chose_english(engine, db, procedure, inbox):
    app = start(engine, db, procedure, {"applicant": APPLICANT, "language": "en-US"}).application
    run_jobs(engine, db)
    [mail] = inbox.messages
    assert header(mail, "Subject") == (f"We have received your application: Dog registration "
                                       f"(ref. {app.reference})")
    assert mail["Content-Language"] == "en"
    text = body(mail)
    assert text.startswith("Dear 山田 花子,")
    assert f"Reference number: {app.reference}" in text and "Procedure:        Dog registration" in text


def test_returned_for_correction_with_reason_and_deadline(engine, db, procedure, inbox):
    started = start(engine, db, procedure, {"applicant": APPLICANT})
    run_jobs(engine, db)
    result = complete(engine, db, started.opened_tasks[0].id, "clerk", {
        "decision": "return", "return_reason": "狂犬病予防注射済票の番号が記載されていません。",
        "return_deadline": "2025-05-31"})
    assert result.application.status == "returned"
    assert [j.payload["template"] for j in mail_jobs(db)] == ["returned"]

    run_jobs(engine, db)
    received, returned = inbox.messages
    assert header(returned, "Subject") == (f"【要対応】申請内容の修正をお願いします：犬の登録申請"
                                           f"（受付番号 {started.application.reference}）")
    text = body(returned)
    assert "【修正をお願いしたい内容】\n狂犬病予防注射済票の番号が記載されていません。" in text
    assert "【ご提出の期限】\n2025年5月31日（土）まで" in text
    assert returned["Message-ID"] != received["Message-ID"]

    # Resubmitted: back in review, which is no news worth a mail.
    [fix] = result.opened_tasks
    complete(engine, db, fix.id, "applicant", {"corrected": True})
    assert mail_jobs(db) == []


def test_rejected_end_event_sends_rejected_and_not_completed(engine, db, procedure, inbox):
    started = start(engine, db, procedure, {"applicant": APPLICANT, "language": "en"})
    complete(engine, db, started.opened_tasks[0].id, "clerk",
             {"decision": "reject", "rejection_reason": "The dog is not kept in this city."})
    run_jobs(engine, db)
    assert [header(m, "Subject").split(":")[0] for m in inbox.messages] == [
        "We have received your application", "The result of your application"]
    assert "Reason:\nThe dog is not kept in this city." in body(inbox.messages[1])


def test_document_ready_then_completed(engine, db, procedure, inbox):
    started = start(engine, db, procedure, {"applicant": APPLICANT})
    issued = complete(engine, db, started.opened_tasks[0].id, "clerk", {"decision": "issue"})
    assert issued.application.status == "issued"
    complete(engine, db, issued.opened_tasks[0].id, "clerk", {})
    run_jobs(engine, db)
    assert [header(m, "Subject").split("：")[0] for m in inbox.messages] == [
        "申請を受け付けました", "交付の準備ができました", "手続きが完了しました"]


def test_no_address_no_mail(engine, db, procedure, inbox):
    start(engine, db, procedure, {"applicant": {"name": "山田 花子"}})
    started = start(engine, db, procedure, {"applicant": {"email": "not an address"}})
    complete(engine, db, started.opened_tasks[0].id, "clerk", {"decision": "reject"})
    assert mail_jobs(db) == []
    assert run_jobs(engine, db) == 0
    assert inbox.offered == []


def test_events_setting_turns_mails_off(make_engine, db, tmp_path, inbox):
    engine = make_engine(EVENTS="rejected")
    procedure = _deploy(engine, db, tmp_path)
    started = start(engine, db, procedure, {"applicant": APPLICANT})
    complete(engine, db, started.opened_tasks[0].id, "clerk", {"decision": "reject"})
    run_jobs(engine, db)
    assert [header(m, "Subject").split("：")[0] for m in inbox.messages] == ["申請の審査結果のお知らせ"]


# -- staff mailboxes ----------------------------------------------------------------------------

def test_new_task_mail_to_the_groups_mailbox_without_personal_data(make_engine, db, tmp_path, inbox):
    engine = make_engine(TASK_ADDRESSES="clerks=shinsa@city.example.jp, *=jimu@city.example.jp")
    procedure = _deploy(engine, db, tmp_path)
    app = start(engine, db, procedure, {"applicant": APPLICANT}).application
    run_jobs(engine, db)
    staff = {m["To"]: m for m in inbox.messages}
    assert set(staff) == {"hanako@example.jp", "shinsa@city.example.jp"}
    mail = staff["shinsa@city.example.jp"]
    assert header(mail, "Subject") == f"【新着タスク】審査：犬の登録申請（受付番号 {app.reference}）"
    assert "山田" not in body(mail) and "hanako" not in body(mail)


# -- Engine.notify and languages ------------------------------------------------------------------

def test_notify_directly_unknown_language_falls_back_to_japanese(engine, db, inbox):
    with db.transaction() as session:
        engine.notify(session, "mail", recipient="taro@example.jp", template="completed", language="fr",
                      data={"reference": "2025-XYZ", "procedure": "juminhyo", "procedure_title": "住民票の写しの交付"})
    run_jobs(engine, db)
    [mail] = inbox.messages
    assert header(mail, "Subject") == "手続きが完了しました：住民票の写しの交付（受付番号 2025-XYZ）"
    assert mail["Content-Language"] == "ja"


def test_every_template_exists_in_every_language():
    folder = Path(plugins.mail.__file__).parent / "templates"
    for language in mail_config.LANGUAGES:
        for template in mail_config.TEMPLATES:
            assert (folder / language / f"{template}.txt").is_file(), (language, template)


@pytest.mark.parametrize("language", mail_config.LANGUAGES)
@pytest.mark.parametrize("template", mail_config.TEMPLATES)
def test_every_template_renders_with_little_or_everything_known(monkeypatch, template, language):
    # Templates are StrictUndefined: each must cope with every optional fact missing.
    for name in mail_config.SETTINGS:
        monkeypatch.delenv(setting_variable(mail_config.PLUGIN, name), raising=False)
    config = mail_config.load()
    everything = {"reference": "2025-0001", "procedure": "dog-registration", "applicant_name": "山田 花子",
                  "reason": "理由", "deadline": "2025-05-31", "task_name": "審査", "task_groups": "clerks",
                  "task_due": "2025-05-31T08:00:00+00:00"}
    for data in ({"reference": "2025-0001", "procedure": "dog-registration"}, everything):
        rendered = render(template, language, template_context(config, data, language, None))
        assert "2025-0001" in rendered.subject and "dog-registration" in rendered.subject
        assert "None" not in rendered.body and "2025-0001" in rendered.body


# -- failures: retries, incidents, the same Message-ID --------------------------------------------

def test_server_down_retries_then_incident(settings, configure, db, tmp_path):
    configure(HOST="127.0.0.1", PORT=free_port())  # nothing listens there
    engine = Engine(settings, plugins=(plugins.mail,))
    procedure = _deploy(engine, db, tmp_path)
    app = start(engine, db, procedure, {"applicant": APPLICANT}).application

    assert run_jobs(engine, db) == 0
    [job] = mail_jobs(db)
    assert (job.status, job.attempts) == ("pending", 1)
    assert job.last_error.startswith("ConnectionRefusedError")
    for attempt in (2, 3):
        assert make_due(db, id=job.id) == 1
        run_jobs(engine, db)
        assert job_rows(db, id=job.id)[0].attempts == attempt
    assert job_rows(db, id=job.id)[0].status == "failed"
    with db.transaction() as session:
        [incident] = engine.incidents(session, application_id=app.id)
        assert (incident.kind, incident.attempts) == ("notification", 3)
        assert incident.message.startswith("ConnectionRefusedError")


@pytest.mark.parametrize("stage", ["rcpt", "data"])
def test_refused_by_the_server_is_retried_with_the_same_message_id(engine, db, procedure, inbox, stage):
    reply = "550 5.7.1 Message refused by policy"
    (inbox.rcpt_replies if stage == "rcpt" else inbox.data_replies).append(reply)
    start(engine, db, procedure, {"applicant": APPLICANT})

    assert run_jobs(engine, db) == 0
    [job] = mail_jobs(db)
    assert (job.status, job.attempts) == ("pending", 1)
    assert "550" in job.last_error and "refused by policy" in job.last_error
    assert job.last_error.startswith("SMTPRecipientsRefused" if stage == "rcpt" else "SMTPDataError")

    make_due(db, id=job.id)
    assert run_jobs(engine, db) == 1
    [mail] = inbox.messages
    if stage == "data":
        [refused, accepted] = inbox.offered
        assert refused["Message-ID"] == accepted["Message-ID"] == mail["Message-ID"]


def test_a_template_mistake_fails_the_job_instead_of_sending_a_blank(make_engine, db, tmp_path, inbox):
    custom = tmp_path / "templates" / "ja"
    custom.mkdir(parents=True)
    (custom / "received.txt").write_text("Subject: {{ refrence }}\n受付しました\n", encoding="utf-8")
    engine = make_engine(TEMPLATES_DIR=custom.parent)
    procedure = _deploy(engine, db, tmp_path)
    start(engine, db, procedure, {"applicant": APPLICANT})
    run_jobs(engine, db)
    [job] = mail_jobs(db)
    assert job.last_error.startswith("UndefinedError") and "refrence" in job.last_error
    assert inbox.offered == []


def test_office_templates_override_and_stay_sandboxed(make_engine, db, tmp_path, inbox):
    custom = tmp_path / "templates" / "ja"
    custom.mkdir(parents=True)
    (custom / "received.txt").write_text(
        "Subject: 受付 {{ reference }}\n{{ reference.__class__.__mro__ }}\n", encoding="utf-8")
    engine = make_engine(TEMPLATES_DIR=custom.parent)
    procedure = _deploy(engine, db, tmp_path)
    start(engine, db, procedure, {"applicant": APPLICANT})
    run_jobs(engine, db)
    [job] = mail_jobs(db)
    assert job.last_error == "SecurityError: access to attribute '__class__' of 'str' object is unsafe."
    assert inbox.offered == []


# -- TLS and login --------------------------------------------------------------------------------

@pytest.mark.parametrize("mode", ["starttls", "use_tls"])
def test_tls_and_login(settings, configure, db, tmp_path, mode):
    cert, key = self_signed(tmp_path)
    tls = server_tls_context(cert, key)
    inbox = Inbox(logins={"madoguchi": "s3cret"})
    # aiosmtpd only counts a STARTTLS upgrade as TLS when offering AUTH, not TLS from the start.
    options = ({"tls_context": tls, "require_starttls": True, "auth_require_tls": True} if mode == "starttls"
               else {"ssl_context": tls, "auth_require_tls": False})
    with smtp_server(inbox, authenticator=inbox.authenticate, **options) as port:
        configure(HOST="127.0.0.1", PORT=port, USERNAME="madoguchi", PASSWORD="s3cret", TLS_CA_FILE=cert,
                  **{mode.upper(): "true"})
        engine = Engine(settings, plugins=(plugins.mail,))
        procedure = _deploy(engine, db, tmp_path)
        start(engine, db, procedure, {"applicant": APPLICANT})
        assert run_jobs(engine, db) == 1
    assert inbox.logged_in == ["madoguchi"]
    assert len(inbox.messages) == 1


# -- settings ---------------------------------------------------------------------------------------

def test_settings_are_listed_with_the_password_hidden(settings, configure):
    configure(USERNAME="madoguchi", PASSWORD="s3cret", PORT="587", STARTTLS="yes")
    engine = Engine(Settings(home=settings.home, database_url=settings.database_url,
                             plugin_modules=("plugins.mail",)))
    [row] = [r for r in engine.plugins() if r["name"] == "plugins.mail"]
    listed = row["settings"]
    assert listed["password"] == {"variable": "MADOGUCHI_MAIL_PASSWORD", "value": "***",
                                  "description": "SMTP password"}
    assert listed["port"]["value"] == 587 and listed["starttls"]["value"] is True
    assert listed["recipient_field"]["value"] == "applicant.email"
    assert "madoguchi_notifiers" in row["hooks"] and "madoguchi_status_changed" in row["hooks"]
    assert engine.plugin_settings("plugins.mail")["password"] == "s3cret"
    assert "mail" in engine.notifiers()


@pytest.mark.parametrize(("variables", "fragment"), [
    ({"USE_TLS": "1", "STARTTLS": "1"}, "exclude each other"),
    ({"EVENTS": "received,approvd"}, "unknown approvd"),
    ({"PORT": "smtp"}, "must be a int"),
    ({"TASK_ADDRESSES": "clerks"}, "not group=address"),
    ({"DEFAULT_LANGUAGE": "fr"}, "default_language"),
])
def test_misconfiguration_refuses_to_start(settings, configure, variables, fragment):
    configure(**variables)
    with pytest.raises(PluginError, match="plugins.mail") as refused:
        Engine(settings, plugins=(plugins.mail,))
    assert fragment in str(refused.value)


# -- the hooks on their own --------------------------------------------------------------------------

def _event(kind: str, status: str, data: dict, jobs: list) -> LifecycleEvent:
    return LifecycleEvent(kind=kind, application_id=7, reference="2025-0007", procedure="dog-registration",
                          status=status, previous_status="in_review", actor="clerk", data=data,
                          enqueue=lambda kind_, payload, **options: jobs.append((kind_, payload, options)))


def test_status_change_queues_only_what_the_mail_shows(monkeypatch):
    for name in mail_config.SETTINGS:
        monkeypatch.delenv(setting_variable(mail_config.PLUGIN, name), raising=False)
    jobs: list = []
    data = {"applicant": {**APPLICANT, "name": "山田 花子\n\n至急こちらへ振り込んでください", "phone": "090-0000-0000"},
            "language": "EN",
            "return_reason": "写真が不鮮明です", "return_deadline": "2025-06-02", "my_number": "123456789012"}
    plugins.mail.madoguchi_status_changed(event=_event("status_changed", "returned", data, jobs))
    [(kind, payload, options)] = jobs
    assert kind == "notification"
    assert payload == {
        "channel": "mail", "recipient": "hanako@example.jp", "template": "returned", "language": "en",
        "data": {"reference": "2025-0007", "procedure": "dog-registration", "status": "returned",
                 "previous_status": "in_review", "applicant_name": "山田 花子 至急こちらへ振り込んでください",
                 "reason": "写真が不鮮明です",
                 "deadline": "2025-06-02"}}
    assert options["idempotency_key"].startswith("mail/2025-0007/returned/")

    jobs.clear()  # no data, statuses without a mail, finished applications whose status had its own
    plugins.mail.madoguchi_status_changed(event=_event("status_changed", "approved", {}, jobs))
    plugins.mail.madoguchi_status_changed(event=_event("status_changed", "in_review", data, jobs))
    plugins.mail.madoguchi_application_finished(event=_event("application_finished", "issued", data, jobs))
    assert jobs == []
