"""One ``test_hook_<name>`` per hook in engine/hookspecs.py: each proves that Madoguchi calls
the hook with the arguments docs/plugins/hooks.md promises and uses what it returns.

The plugins are small modules made in each test (``plugin(name, *hooks)``), registered with
``Engine(settings, plugins=(...))`` exactly like installed ones. Nothing is patched: jobs run
in a real worker pass, against the test database (SQLite, and PostgreSQL when configured).
tests/plugins/test_docs_meta.py fails when a hook lacks its test here.
"""

from __future__ import annotations

import hashlib
import hmac
import io
import json
import os
import subprocess
import sys
import textwrap
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import ModuleType, SimpleNamespace

import pytest
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.x509.oid import NameOID
from sqlalchemy import select

from engine import Engine, hookimpl
from engine.config import Settings
from engine.identity_checks import IdentityResult, VerificationContext
from engine.jobs import JobContext
from engine.payments import CallbackRefused, PaymentEvent, PaymentRequest, PaymentSession
from engine.plugins import PluginError, Setting
from engine.storage import StoredFile
from engine.store.models import Application
from tests.diagrams import chain, process, user_task
from tests.engine.helpers import add_user, complete, deploy_text, open_tasks, show, start
from tests.engine.jobs.support import drain, job_rows, make_due, service_task


def plugin(name: str, *hooks) -> ModuleType:
    """A plugin module called ``name`` holding the given ``@hookimpl`` functions."""
    module = ModuleType(name)
    for hook in hooks:
        setattr(module, hook.__name__, hook)
    return module


@pytest.fixture
def make_engine(settings):
    """``make_engine(*plugins)``: an engine on the test database with these plugins too."""
    return lambda *plugins: Engine(settings, plugins=plugins)


@pytest.fixture
def offline_engine(tmp_path):
    """``offline_engine(*plugins)``: an engine for hooks that never touch the database."""
    settings = Settings(home=tmp_path, database_url=f"sqlite:///{tmp_path / 'unused.db'}")
    return lambda *plugins: Engine(settings, plugins=plugins)


def _status(value: str) -> str:
    return (f'<bpmn:extensionElements><camunda:properties><camunda:property name="status" value="{value}"/>'
            '</camunda:properties></bpmn:extensionElements>')


#: Start → review by a clerk → end with the public status "approved".
REVIEW = process("kit_review", "\n".join([
    '<bpmn:startEvent id="s"/>', user_task("review", "審査", groups="clerks"),
    f'<bpmn:endEvent id="e">{_status("approved")}</bpmn:endEvent>', chain("s", "review", "e")]))


# -- start-up and settings -------------------------------------------------------------------

def test_hook_madoguchi_plugin_settings(offline_engine, monkeypatch):
    @hookimpl
    def madoguchi_plugin_settings():
        return {"url": Setting(default="https://koseki.city.example/api", description="core system"),
                "timeout": Setting(default=5.0), "retries": Setting(default=3), "verify_tls": Setting(default=True),
                "token": Setting(default="", secret=True, description="API token")}

    monkeypatch.setenv("MADOGUCHI_KIT_KOSEKI_TIMEOUT", "2.5")
    monkeypatch.setenv("MADOGUCHI_KIT_KOSEKI_RETRIES", "7")
    monkeypatch.setenv("MADOGUCHI_KIT_KOSEKI_VERIFY_TLS", "no")
    monkeypatch.setenv("MADOGUCHI_KIT_KOSEKI_TOKEN", "s3cret")
    engine = offline_engine(plugin("kit_koseki", madoguchi_plugin_settings))

    assert engine.plugin_settings("kit_koseki") == {"url": "https://koseki.city.example/api", "timeout": 2.5,
                                                    "retries": 7, "verify_tls": False, "token": "s3cret"}
    [row] = [row for row in engine.plugins() if row["name"] == "kit_koseki"]
    assert row["settings"]["token"] == {"variable": "MADOGUCHI_KIT_KOSEKI_TOKEN", "value": "***",
                                        "description": "API token"}
    assert row["settings"]["retries"]["value"] == 7


def test_hook_madoguchi_startup(offline_engine, monkeypatch):
    seen = []

    @hookimpl
    def madoguchi_startup(engine):
        seen.append(engine)
        if not engine.plugin_settings("kit_strict")["url"]:
            raise RuntimeError("MADOGUCHI_KIT_STRICT_URL is not set")

    @hookimpl
    def madoguchi_plugin_settings():
        return {"url": Setting(default="")}

    strict = plugin("kit_strict", madoguchi_startup, madoguchi_plugin_settings)
    with pytest.raises((RuntimeError, PluginError), match="MADOGUCHI_KIT_STRICT_URL is not set"):
        offline_engine(strict)

    monkeypatch.setenv("MADOGUCHI_KIT_STRICT_URL", "https://koseki.city.example")
    engine = offline_engine(strict)
    assert seen[-1] is engine  # called once the engine is built, with that engine


# -- intake ----------------------------------------------------------------------------------

class Outbox:
    """A portal's outbox: applications waiting to be fetched, each with its 受付番号."""

    interval_seconds = 600.0

    def __init__(self, waiting: list[dict]):
        self.waiting = waiting
        self.polls: list = []

    def poll(self, context) -> None:
        self.polls.append(context)
        for item in self.waiting:
            context.start("kit_review", item["data"], external_id=item["id"])


def test_hook_madoguchi_intake_sources(make_engine, db, tmp_path):
    outbox = Outbox([{"id": "P-2026-0001", "data": {"name": "山田 花子"}}])

    @hookimpl
    def madoguchi_intake_sources(engine):
        return {"kit_portal_box": outbox}

    @hookimpl
    def madoguchi_plugin_settings():
        return {"url": Setting(default="https://portal.example/outbox")}

    engine = make_engine(plugin("kit_portal", madoguchi_intake_sources, madoguchi_plugin_settings))
    deploy_text(engine, db, tmp_path, REVIEW)
    assert engine.intake.sources() == {"kit_portal_box": outbox}

    engine.worker(db).run_once()  # a starting worker gives each source its polling job

    [context] = outbox.polls
    assert context.settings == {"url": "https://portal.example/outbox"}  # the providing plugin's
    with db.transaction() as session:
        [application] = session.scalars(select(Application)).all()
        assert application.started_by == "intake:kit_portal_box"
    assert show(engine, db, application.id)["data"]["name"] == "山田 花子"
    [job] = [job for job in job_rows(db, kind="intake") if job.payload == {"source": "kit_portal_box"}]
    assert job.due_at - datetime.now(UTC) > timedelta(seconds=500)

    make_due(db, kind="intake")
    engine.worker(db).run_once()  # polled again: the same 受付番号 is not imported twice
    assert len(outbox.polls) == 2
    with db.transaction() as session:
        assert len(session.scalars(select(Application)).all()) == 1


# -- identity -------------------------------------------------------------------------------

def test_hook_madoguchi_identity_verifiers(offline_engine):
    key = Ed25519PrivateKey.generate()

    @hookimpl
    def madoguchi_identity_verifiers(engine):
        def verify(data: bytes, signature: bytes, context) -> IdentityResult:
            try:
                key.public_key().verify(signature, data)
            except InvalidSignature:
                return IdentityResult(valid=False, reason="the signature does not match the document")
            return IdentityResult(valid=True, reason="signed with the registered key", subject="CN=山田 花子")

        return {"kit.ed25519": verify}

    engine = offline_engine(plugin("kit_signing", madoguchi_identity_verifiers))
    verify = engine.plugin_objects("madoguchi_identity_verifiers", check=callable, what="a callable")["kit.ed25519"]

    form = "転入届 山田 花子".encode()
    good = verify(form, key.sign(form), VerificationContext.now())
    bad = verify(form + b" (altered)", key.sign(form), VerificationContext.now())
    assert (good.valid, good.subject) == (True, "CN=山田 花子")
    assert (bad.valid, bad.reason) == (False, "the signature does not match the document")


def _certificate(subject: str, issuer_name: str, issuer_key, serial: int, key=None) -> x509.Certificate:
    key = key or ec.generate_private_key(ec.SECP256R1())
    now = datetime.now(UTC)
    return (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
            .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer_name)]))
            .public_key(key.public_key()).serial_number(serial)
            .not_valid_before(now - timedelta(days=1)).not_valid_after(now + timedelta(days=30))
            .sign(issuer_key, hashes.SHA256()))


def test_hook_madoguchi_revocation_status(offline_engine):
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = _certificate("Kit CA", "Kit CA", ca_key, 1, key=ca_key)
    revoked, valid = (_certificate("山田 花子", "Kit CA", ca_key, serial) for serial in (1001, 1002))
    now = datetime.now(UTC)
    crl = (x509.CertificateRevocationListBuilder().issuer_name(ca.subject)
           .last_update(now).next_update(now + timedelta(days=1))
           .add_revoked_certificate(x509.RevokedCertificateBuilder().serial_number(1001)
                                    .revocation_date(now).build())
           .sign(ca_key, hashes.SHA256()))

    @hookimpl
    def madoguchi_revocation_status(certificate, issuer):
        if issuer.subject != crl.issuer:
            return None  # not our CA: let another plugin answer
        return "revoked" if crl.get_revoked_certificate_by_serial_number(certificate.serial_number) else "good"

    asked = []

    def madoguchi_revocation_status_of_unreachable_ocsp(certificate, issuer, engine):
        asked.append(certificate.serial_number)
        return None  # the responder did not answer

    engine = offline_engine(plugin("kit_crl", madoguchi_revocation_status),
                            plugin("kit_ocsp", hookimpl(specname="madoguchi_revocation_status")(
                                madoguchi_revocation_status_of_unreachable_ocsp)))
    hook = engine.plugin_manager.hook.madoguchi_revocation_status

    assert hook(certificate=revoked, issuer=ca, engine=engine) == "revoked"
    assert hook(certificate=valid, issuer=ca, engine=engine) == "good"
    other_key = ec.generate_private_key(ec.SECP256R1())
    stranger = _certificate("佐藤 一郎", "Other CA", other_key, 7)
    assert hook(certificate=stranger, issuer=_certificate("Other CA", "Other CA", other_key, 2, other_key),
                engine=engine) is None  # nobody knows: no answer
    assert asked == [1001, 1002, 7]  # the plugin registered last was asked first each time


# -- task execution -------------------------------------------------------------------------

def test_hook_madoguchi_operations(make_engine, db, tmp_path):
    calls = []

    @hookimpl
    def madoguchi_operations(engine):
        def postcode(params: dict, context) -> dict:
            calls.append((params, context))
            digits = params["postcode"].translate(str.maketrans("０１２３４５６７８９", "0123456789"))
            digits = "".join(ch for ch in digits if ch.isdigit())
            return {"postcode": f"{digits[:3]}-{digits[3:]}"}

        return {"kit.postcode": postcode}

    engine = make_engine(plugin("kit_address", madoguchi_operations))
    assert "kit.postcode" in engine.operations
    deploy_text(engine, db, tmp_path, process("kit_moving_in", "\n".join([
        '<bpmn:startEvent id="s"/>', service_task("normalise", "kit.postcode", {"postcode": "form['postcode']"}),
        user_task("review"), '<bpmn:endEvent id="e"/>', chain("s", "normalise", "review", "e")])))
    app = start(engine, db, "kit_moving_in", {"form": {"postcode": "〒１００－０００１"}}).application

    assert calls == []  # never inside the step: a worker calls it
    drain(engine, db)

    [(params, context)] = calls
    assert params == {"postcode": "〒１００－０００１"}
    assert (context.application_id, context.reference, context.element_id, context.attempt) == (
        app.id, app.reference, "normalise", 1)
    assert context.idempotency_key == f"{app.reference}/{context.task_id}"
    assert show(engine, db, app.id)["data"]["postcode"] == "100-0001"


def test_hook_madoguchi_job_handlers(make_engine, db):
    handled = []

    @hookimpl
    def madoguchi_job_handlers(engine):
        return {"kit.archive": lambda payload, context: handled.append((payload, context))}

    engine = make_engine(plugin("kit_archive", madoguchi_job_handlers))
    with db.transaction() as session:
        job = engine.enqueue_job(session, "kit.archive", {"reference": "2026-GX7Y-CLJA"})
        job_id = job.id

    drain(engine, db)

    [(payload, context)] = handled
    assert payload == {"reference": "2026-GX7Y-CLJA"}
    assert isinstance(context, JobContext)
    assert (context.job_id, context.idempotency_key, context.attempt) == (job_id, f"job-{job_id}", 1)
    assert job_rows(db) == []


# -- payment --------------------------------------------------------------------------------

class Furikomi:
    """A payment service whose callbacks are signed with HMAC-SHA256 over the body."""

    def __init__(self, secret: bytes):
        self.secret = secret

    def create_payment(self, request: PaymentRequest, context) -> PaymentSession:
        reference = "PAY-" + hashlib.sha256(context.idempotency_key.encode()).hexdigest()[:12].upper()
        return PaymentSession(reference=reference, redirect_url=f"https://pay.example/checkout/{reference}")

    def parse_callback(self, body: bytes, headers: dict[str, str]) -> PaymentEvent:
        expected = hmac.new(self.secret, body, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, headers.get("x-signature", "")):
            raise CallbackRefused("the callback's signature does not match")
        event = json.loads(body)
        return PaymentEvent(reference=event["reference"], status=event["status"], amount=event["amount"],
                            paid_at=None, raw=event)

    def refund(self, reference: str, amount: int, context) -> dict:
        return {"reference": reference, "refunded": amount}


def test_hook_madoguchi_payment_providers(offline_engine):
    furikomi = Furikomi(b"shared-secret")

    @hookimpl
    def madoguchi_payment_providers(engine):
        return {"kit_furikomi": furikomi}

    engine = offline_engine(plugin("kit_payments", madoguchi_payment_providers))
    providers = engine.plugin_objects("madoguchi_payment_providers",
                                      check=lambda p: callable(getattr(p, "create_payment", None)),
                                      what="a payment provider")
    provider = providers["kit_furikomi"]
    assert provider is furikomi

    context = JobContext(job_id=1, idempotency_key="2026-GX7Y-CLJA/task-1", attempt=1, application_id=1)
    request = PaymentRequest(amount=300, currency="JPY", description="住民票の写し 1通",
                             application_reference="2026-GX7Y-CLJA")
    session = provider.create_payment(request, context)
    assert session == provider.create_payment(request, context)  # a retried call opens no second payment
    body = json.dumps({"reference": session.reference, "status": "paid", "amount": 300}).encode()
    signature = hmac.new(b"shared-secret", body, hashlib.sha256).hexdigest()
    event = provider.parse_callback(body, {"x-signature": signature})
    assert (event.reference, event.status, event.amount) == (session.reference, "paid", 300)
    with pytest.raises(CallbackRefused):
        provider.parse_callback(body, {"x-signature": "0" * 64})


# -- notification ---------------------------------------------------------------------------

def test_hook_madoguchi_notifiers(make_engine, db):
    sent = []

    @hookimpl
    def madoguchi_notifiers(engine):
        return {"kit_sms": lambda notification, context: sent.append((notification, context))}

    engine = make_engine(plugin("kit_sms", madoguchi_notifiers))
    assert "kit_sms" in engine.notifiers()
    with db.transaction() as session:
        job = engine.notify(session, "kit_sms", recipient="090-1234-5678", template="application_received",
                            data={"reference": "2026-GX7Y-CLJA"})
        job_id = job.id

    drain(engine, db)

    [(notification, context)] = sent
    assert notification == {"channel": "kit_sms", "recipient": "090-1234-5678", "template": "application_received",
                            "language": "ja", "data": {"reference": "2026-GX7Y-CLJA"}}
    assert context.idempotency_key == f"job-{job_id}"


# -- documents ------------------------------------------------------------------------------

class MemoryStorage:
    """Files kept in a dict: what an object-store plugin does, without the network."""

    def __init__(self):
        self.files: dict[str, bytes] = {}

    def put(self, key: str, stream, content_type: str | None = None) -> StoredFile:
        data = b"".join(iter(lambda: stream.read(65536), b""))
        self.files[key] = data
        return StoredFile(key=key, size=len(data), sha256=hashlib.sha256(data).hexdigest(),
                          content_type=content_type)

    def open(self, key: str):
        if key not in self.files:
            raise FileNotFoundError(key)
        return io.BytesIO(self.files[key])

    def exists(self, key: str) -> bool:
        return key in self.files

    def delete(self, key: str) -> bool:
        return self.files.pop(key, None) is not None


def test_hook_madoguchi_document_storage(offline_engine, monkeypatch):
    from plugins.filesystem_storage import FilesystemStorage

    memory = MemoryStorage()

    def object_store(engine):
        return memory if engine.plugin_settings("kit_object_store")["bucket"] else None

    @hookimpl
    def madoguchi_plugin_settings():
        return {"bucket": Setting(default="")}

    engine = offline_engine(plugin("kit_object_store", madoguchi_plugin_settings,
                                   hookimpl(specname="madoguchi_document_storage")(object_store)))
    storage = engine.plugin_manager.hook.madoguchi_document_storage
    # The object store is not configured: it says None, and the built-in file storage
    # (trylast) answers instead.
    assert isinstance(storage(engine=engine), FilesystemStorage)

    monkeypatch.setenv("MADOGUCHI_KIT_OBJECT_STORE_BUCKET", "city-documents")
    assert storage(engine=engine) is memory
    document = b"%PDF-1.7 ..."
    stored = storage(engine=engine).put("intake/P-0001/本人確認書類.pdf", io.BytesIO(document))
    assert (stored.size, stored.sha256) == (len(document), hashlib.sha256(document).hexdigest())
    assert memory.open("intake/P-0001/本人確認書類.pdf").read() == document


# -- lifecycle events -----------------------------------------------------------------------

def test_hook_madoguchi_application_started(make_engine, db, tmp_path):
    events, welcomed = [], []

    @hookimpl
    def madoguchi_application_started(event):
        events.append(event)
        event.enqueue("kit.welcome", {"reference": event.reference})

    @hookimpl
    def madoguchi_job_handlers():
        return {"kit.welcome": lambda payload, context: welcomed.append(payload)}

    engine = make_engine(plugin("kit_welcome", madoguchi_application_started, madoguchi_job_handlers))
    deploy_text(engine, db, tmp_path, REVIEW)
    app = start(engine, db, "kit_review", {"name": "山田 花子"}, actor="yamada").application

    [event] = events
    assert (event.kind, event.application_id, event.reference, event.procedure, event.status, event.actor,
            event.data) == ("application_started", app.id, app.reference, "kit_review", "in_review", "yamada",
                            {"name": "山田 花子"})
    [job] = job_rows(db, kind="kit.welcome")  # committed with the step
    assert job.application_id == app.id
    drain(engine, db)
    assert welcomed == [{"reference": app.reference}]


def test_a_lifecycle_hook_that_raises_rolls_the_step_back(make_engine, db, tmp_path):
    @hookimpl
    def madoguchi_application_started(event):
        event.enqueue("kit.welcome", {})
        raise RuntimeError("the plugin is broken")

    engine = make_engine(plugin("kit_broken", madoguchi_application_started))
    deploy_text(engine, db, tmp_path, REVIEW)
    with pytest.raises(RuntimeError, match="the plugin is broken"):
        start(engine, db, "kit_review")
    with db.transaction() as session:
        assert session.scalars(select(Application)).all() == []
    assert job_rows(db) == []


def test_hook_madoguchi_task_created(make_engine, db, tmp_path):
    events = []

    @hookimpl
    def madoguchi_task_created(event):
        events.append(event)
        event.enqueue("kit.remind", {"task": event.task.id}, due_at=datetime.now(UTC) + timedelta(days=3))

    engine = make_engine(plugin("kit_reminders", madoguchi_task_created))
    deploy_text(engine, db, tmp_path, REVIEW)
    app = start(engine, db, "kit_review").application

    [task] = open_tasks(engine, db, app.id)
    [event] = events
    assert (event.kind, event.application_id, event.task.id, event.task.element_id, event.task.name,
            event.task.candidate_groups) == ("task_created", app.id, task.id, "review", "審査", ["clerks"])
    [job] = job_rows(db, kind="kit.remind")
    assert job.payload == {"task": task.id}
    assert job.due_at - datetime.now(UTC) > timedelta(days=2)


def test_hook_madoguchi_task_completed(make_engine, db, tmp_path):
    events = []

    @hookimpl
    def madoguchi_task_completed(event):
        events.append(event)

    engine = make_engine(plugin("kit_watch", madoguchi_task_completed))
    add_user(engine, db, "tanaka", "clerks")
    deploy_text(engine, db, tmp_path, REVIEW)
    app = start(engine, db, "kit_review").application
    [task] = open_tasks(engine, db, app.id)
    assert events == []

    complete(engine, db, task.id, "tanaka", {"approved": True})

    [event] = events
    assert (event.kind, event.task.id, event.task.element_id, event.actor, event.data) == (
        "task_completed", task.id, "review", "tanaka", {"approved": True})


def test_hook_madoguchi_application_finished(make_engine, db, tmp_path):
    events = []

    @hookimpl
    def madoguchi_application_finished(event):
        events.append(event)

    engine = make_engine(plugin("kit_archive_on_finish", madoguchi_application_finished))
    add_user(engine, db, "tanaka", "clerks")
    deploy_text(engine, db, tmp_path, REVIEW)
    app = start(engine, db, "kit_review", {"name": "山田 花子"}).application
    [task] = open_tasks(engine, db, app.id)
    assert events == []

    complete(engine, db, task.id, "tanaka", {"approved": True})

    [event] = events
    assert (event.kind, event.application_id, event.status) == ("application_finished", app.id, "approved")
    assert event.data == {"name": "山田 花子", "approved": True}


def test_hook_madoguchi_status_changed(make_engine, db, tmp_path):
    changes = []

    @hookimpl
    def madoguchi_status_changed(event):
        changes.append((event.reference, event.previous_status, event.status))

    engine = make_engine(plugin("kit_status", madoguchi_status_changed))
    add_user(engine, db, "tanaka", "clerks")
    deploy_text(engine, db, tmp_path, REVIEW)
    app = start(engine, db, "kit_review").application
    [task] = open_tasks(engine, db, app.id)
    complete(engine, db, task.id, "tanaka")

    assert changes == [(app.reference, "received", "in_review"), (app.reference, "in_review", "approved")]


def test_hook_madoguchi_incident_raised(make_engine, db, tmp_path):
    events, paged = [], []

    @hookimpl
    def madoguchi_operations():
        def register(params, context):
            raise ConnectionError("core system unreachable")

        return {"kit.register": register}

    @hookimpl
    def madoguchi_incident_raised(event):
        events.append(event)
        event.enqueue("kit.page_admin", {"incident": event.incident.id})

    @hookimpl
    def madoguchi_job_handlers():
        return {"kit.page_admin": lambda payload, context: paged.append(payload)}

    engine = make_engine(plugin("kit_oncall", madoguchi_operations, madoguchi_incident_raised,
                                madoguchi_job_handlers))
    deploy_text(engine, db, tmp_path, process("kit_register", "\n".join([
        '<bpmn:startEvent id="s"/>', service_task("register", "kit.register", retry=(0, 1)),
        '<bpmn:endEvent id="e"/>', chain("s", "register", "e")])))
    app = start(engine, db, "kit_register").application

    drain(engine, db)

    with db.transaction() as session:
        [incident] = engine.incidents(session)
        incident_id = incident.id
    [event] = events
    assert (event.kind, event.application_id, event.reference) == ("incident_raised", app.id, app.reference)
    assert (event.incident.id, event.incident.kind, event.incident.element_id, event.incident.attempts) == (
        incident_id, "service", "register", 1)
    assert event.incident.message == "ConnectionError: core system unreachable"
    assert paged == [{"incident": incident_id}]


# -- web UI ---------------------------------------------------------------------------------

def test_hook_madoguchi_blueprints(offline_engine):
    # A stand-in with a Flask blueprint's name and prefix: the hook only hands it over.
    blueprint = SimpleNamespace(name="kit_dashboard", url_prefix="/kit")
    asked = []

    @hookimpl
    def madoguchi_blueprints(engine):
        asked.append(engine)
        return [blueprint]

    engine = offline_engine(plugin("kit_dashboard", madoguchi_blueprints))

    lists = engine.plugin_manager.hook.madoguchi_blueprints(engine=engine)
    assert [b for blueprints in lists for b in blueprints] == [blueprint]
    assert asked == [engine]


def test_hook_madoguchi_menu_links(offline_engine):
    @hookimpl
    def madoguchi_menu_links(actor, area):
        if area != "office":
            return None
        return [{"href": "/kit/stats", "label": {"ja": "統計", "en": "Statistics"}}]

    @hookimpl
    def madoguchi_menu_links_for_everyone(area):
        return [{"href": f"/kit/help?area={area}", "label": "ヘルプ"}]

    engine = offline_engine(plugin("kit_stats", madoguchi_menu_links),
                            plugin("kit_help", hookimpl(specname="madoguchi_menu_links")(madoguchi_menu_links_for_everyone)))
    hook = engine.plugin_manager.hook.madoguchi_menu_links

    office = [link for links in hook(actor="tanaka", area="office") for link in links]
    portal = [link for links in hook(actor=None, area="portal") for link in links]
    assert office == [{"href": "/kit/help?area=office", "label": "ヘルプ"},
                      {"href": "/kit/stats", "label": {"ja": "統計", "en": "Statistics"}}]
    assert portal == [{"href": "/kit/help?area=portal", "label": "ヘルプ"}]


# -- command line ---------------------------------------------------------------------------

def test_hook_madoguchi_register_commands(tmp_path):
    (tmp_path / "kit_greeting.py").write_text(textwrap.dedent('''
        import click

        from engine import hookimpl


        @hookimpl
        def madoguchi_register_commands(cli):
            @cli.command("kit-greet")
            @click.argument("name")
            def greet(name):
                """Greet NAME at the counter."""
                click.echo(f"いらっしゃいませ、{name}さん")
    '''), encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(tmp_path), "MADOGUCHI_PLUGINS": "kit_greeting",
           "MADOGUCHI_HOME": str(tmp_path)}
    madoguchi = Path(sys.executable).with_name("madoguchi")

    greeted = subprocess.run([madoguchi, "kit-greet", "山田"], env=env, capture_output=True, text=True,
                             timeout=60)
    listed = subprocess.run([madoguchi, "--help"], env=env, capture_output=True, text=True, timeout=60)

    assert (greeted.returncode, greeted.stdout, greeted.stderr) == (0, "いらっしゃいませ、山田さん\n", "")
    assert "kit-greet" in listed.stdout and "Greet NAME at the counter." in listed.stdout
