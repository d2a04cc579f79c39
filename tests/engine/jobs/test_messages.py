"""Messages between applications and from outside: correlation by name and key, message
start events, buffering of early messages (or refusal), exactly-once delivery, and messages
thrown by one application reaching another through a message job."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from engine.errors import BadInput
from engine.messages import MessageRefused
from engine.store.models import Application, Message, MessageSubscription, utcnow
from tests.diagrams import chain, process, user_task
from tests.engine.helpers import complete, deploy_text, open_tasks, show, start
from tests.engine.jobs.support import drain, job_rows


def message_definition(message_ref: str, *, variable: str | None = None, payload: str | None = None) -> str:
    """``variable``: where a catching event puts the message data; ``payload``: the expression a
    throwing event sends (``spiffworkflow:messageVariable`` / ``messagePayload``)."""
    extensions = ""
    if payload:
        extensions += f"<spiffworkflow:messagePayload>{payload}</spiffworkflow:messagePayload>"
    if variable:
        extensions += f"<spiffworkflow:messageVariable>{variable}</spiffworkflow:messageVariable>"
    if extensions:
        extensions = f"<bpmn:extensionElements>{extensions}</bpmn:extensionElements>"
    return f'<bpmn:messageEventDefinition messageRef="{message_ref}">{extensions}</bpmn:messageEventDefinition>'


def catch(eid: str, message_ref: str, variable: str | None = None) -> str:
    return (f'<bpmn:intermediateCatchEvent id="{eid}">{message_definition(message_ref, variable=variable)}'
            '</bpmn:intermediateCatchEvent>')


def throw(eid: str, message_ref: str, payload: str | None = None) -> str:
    return (f'<bpmn:intermediateThrowEvent id="{eid}">{message_definition(message_ref, payload=payload)}'
            '</bpmn:intermediateThrowEvent>')


def message(message_id: str) -> str:
    return f'<bpmn:message id="{message_id}" name="{message_id}"/>'


def correlated(message_id: str, prop: str, expression: str) -> str:
    """A message whose correlation property ``prop`` is read with ``expression`` (a collaboration
    with a correlation key, as modelers write it)."""
    return (message(message_id) +
            f'<bpmn:correlationProperty id="{prop}" name="{prop}">'
            f'<bpmn:correlationPropertyRetrievalExpression messageRef="{message_id}">'
            f'<bpmn:formalExpression>{expression}</bpmn:formalExpression>'
            '</bpmn:correlationPropertyRetrievalExpression></bpmn:correlationProperty>')


def with_collaboration(pid: str, body: str, messages: str, key_name: str = "payment_key",
                       props: tuple[str, ...] = ("payment_ref",)) -> str:
    refs = "".join(f"<bpmn:correlationPropertyRef>{p}</bpmn:correlationPropertyRef>" for p in props)
    collaboration = (f'<bpmn:collaboration id="collab_{pid}"><bpmn:participant id="part_{pid}" processRef="{pid}"/>'
                     f'<bpmn:correlationKey name="{key_name}">{refs}</bpmn:correlationKey></bpmn:collaboration>')
    return process(pid, body, extra=messages).replace(f'<bpmn:process id="{pid}"', collaboration +
                                                       f'<bpmn:process id="{pid}"', 1)


WAITS_BY_REFERENCE = process("waits_by_reference", "\n".join([
    '<bpmn:startEvent id="s"/>', catch("resubmitted", "documents", "documents"), user_task("recheck"), '<bpmn:endEvent id="e"/>',
    chain("s", "resubmitted", "recheck", "e")]), extra=message("documents"))

WAITS_FOR_PAYMENT = with_collaboration("waits_for_payment", "\n".join([
    '<bpmn:startEvent id="s"/>', catch("paid", "payment", "payment"), user_task("deliver"), '<bpmn:endEvent id="e"/>',
    chain("s", "paid", "deliver", "e")]), correlated("payment", "payment_ref", "payment_ref"))


def send(engine, db, name: str, key: str | None, data: dict | None = None, sender: str | None = "bank"):
    with db.transaction() as session:
        return engine.send_message(session, name, key=key, data=data, sender=sender)


def messages(db) -> list[Message]:
    with db.transaction() as session:
        rows = list(session.scalars(select(Message).order_by(Message.id)))
        session.expunge_all()
    return rows


def received(engine, db, application_id: int) -> int:
    return [e["action"] for e in show(engine, db, application_id)["history"]].count("message_received")


# -- correlation -------------------------------------------------------------------------------------

def test_message_without_correlation_property_is_keyed_by_the_reference(engine, db, tmp_path):
    deploy_text(engine, db, tmp_path, WAITS_BY_REFERENCE)
    app = start(engine, db, "waits_by_reference").application
    other = start(engine, db, "waits_by_reference").application
    with db.transaction() as session:
        keys = {s.application_id: s.correlation_key for s in session.scalars(select(MessageSubscription))}
    assert keys == {app.id: app.reference, other.id: other.reference}

    result = send(engine, db, "documents", app.reference, {"pages": 3})
    assert (result.status, result.application_id) == ("delivered", app.id)
    assert [t.element_id for t in open_tasks(engine, db, app.id)] == ["recheck"]
    assert show(engine, db, app.id)["data"]["documents"] == {"pages": 3}
    assert open_tasks(engine, db, other.id) == []  # the other application still waits
    history = show(engine, db, app.id)["history"]
    [event] = [e for e in history if e["action"] == "message_received"]
    assert (event["actor"], event["details"]["message"]) == ("bank", "documents")


def test_correlation_property_value_is_the_key(engine, db, tmp_path):
    deploy_text(engine, db, tmp_path, WAITS_FOR_PAYMENT)
    first = start(engine, db, "waits_for_payment", {"payment_ref": "PAY-0001"}).application
    second = start(engine, db, "waits_for_payment", {"payment_ref": "PAY-0002"}).application
    with db.transaction() as session:
        keys = {s.application_id: s.correlation_key for s in session.scalars(select(MessageSubscription))}
    assert keys == {first.id: "PAY-0001", second.id: "PAY-0002"}

    result = send(engine, db, "payment", "PAY-0002", {"payment_ref": "PAY-0002", "amount": 1200})
    assert (result.status, result.application_id) == ("delivered", second.id)
    assert [t.element_id for t in open_tasks(engine, db, second.id)] == ["deliver"]
    assert show(engine, db, second.id)["data"]["payment"] == {"payment_ref": "PAY-0002", "amount": 1200}
    assert open_tasks(engine, db, first.id) == []
    # the reference is not the key of a correlated message
    assert send(engine, db, "payment", first.reference, {"amount": 1}).status == "buffered"
    assert open_tasks(engine, db, first.id) == []


def test_correlated_message_whose_data_lacks_the_property_is_still_delivered(engine, db, tmp_path):
    """`madoguchi message send payment --key PAY-1 --data '{"amount": 5}'`: the key says who."""
    deploy_text(engine, db, tmp_path, WAITS_FOR_PAYMENT)
    app = start(engine, db, "waits_for_payment", {"payment_ref": "PAY-1"}).application
    result = send(engine, db, "payment", "PAY-1", {"amount": 5})
    assert (result.status, result.application_id) == ("delivered", app.id)
    assert [t.element_id for t in open_tasks(engine, db, app.id)] == ["deliver"]


def test_second_correlated_message_to_the_same_application_is_caught(engine, db, tmp_path, clerk):
    deploy_text(engine, db, tmp_path, with_collaboration("two_payments", "\n".join([
        '<bpmn:startEvent id="s"/>', catch("deposit", "payment", "payment"), user_task("check"), catch("balance", "payment", "payment"),
        user_task("deliver"), '<bpmn:endEvent id="e"/>', chain("s", "deposit", "check", "balance", "deliver", "e")]),
        correlated("payment", "payment_ref", "payment_ref")))
    app = start(engine, db, "two_payments", {"payment_ref": "PAY-7"}).application
    assert send(engine, db, "payment", "PAY-7", {"payment_ref": "PAY-7", "part": 1}).status == "delivered"
    [check] = open_tasks(engine, db, app.id)
    complete(engine, db, check.id, clerk)
    result = send(engine, db, "payment", "PAY-7", {"payment_ref": "PAY-7", "part": 2})
    assert (result.status, result.application_id) == ("delivered", app.id)
    assert [t.element_id for t in open_tasks(engine, db, app.id)] == ["deliver"]
    assert show(engine, db, app.id)["data"]["payment"]["part"] == 2
    assert received(engine, db, app.id) == 2


def test_unknown_message_name_is_refused_or_buffered_not_misdelivered(engine, db, tmp_path):
    deploy_text(engine, db, tmp_path, WAITS_BY_REFERENCE)
    app = start(engine, db, "waits_by_reference").application
    assert send(engine, db, "payment", app.reference).status == "buffered"  # right key, wrong name
    assert open_tasks(engine, db, app.id) == []


def test_message_data_must_be_an_object(engine, db):
    with db.transaction() as session, pytest.raises(BadInput, match="JSON object"):
        engine.send_message(session, "documents", key="x", data=["not", "an", "object"])


# -- message start events ----------------------------------------------------------------------------

MESSAGE_START = process("opened_by_message", "\n".join([
    f'<bpmn:startEvent id="received">{message_definition("application_filed", variable="filing")}</bpmn:startEvent>',
    user_task("intake"), '<bpmn:endEvent id="e"/>', chain("received", "intake", "e")]),
    extra=message("application_filed"))


def test_message_start_event_creates_an_application(engine, db, tmp_path):
    deploy_text(engine, db, tmp_path, MESSAGE_START)
    result = send(engine, db, "application_filed", None, {"applicant": "Sato", "dog": "Pochi"}, sender="portal")
    assert result.status == "started"
    view = show(engine, db, result.application_id)
    assert view["procedure"] == "opened_by_message"
    assert view["data"]["filing"] == {"applicant": "Sato", "dog": "Pochi"}
    assert [t["element_id"] for t in view["open_tasks"]] == ["intake"]
    assert view["history"][0]["details"]["message"] == "application_filed"
    assert view["history"][0]["actor"] == "portal"
    # each message starts its own application
    again = send(engine, db, "application_filed", None, {"applicant": "Suzuki"})
    assert again.application_id != result.application_id


def test_message_start_uses_the_newest_version(engine, db, tmp_path):
    deploy_text(engine, db, tmp_path, MESSAGE_START)
    newer = deploy_text(engine, db, tmp_path, MESSAGE_START.replace('name="intake"', 'name="Intake v2"'), "v2.bpmn")
    result = send(engine, db, "application_filed", None, {})
    with db.transaction() as session:
        assert session.get(Application, result.application_id).definition_id == newer.id


# -- early messages: buffering and refusal ------------------------------------------------------------

def test_early_message_is_buffered_and_delivered_when_the_receiver_arrives(engine, db, tmp_path):
    deploy_text(engine, db, tmp_path, WAITS_FOR_PAYMENT)
    early = send(engine, db, "payment", "PAY-42", {"payment_ref": "PAY-42", "amount": 900})
    assert early.status == "buffered"
    assert early.application_id is None
    assert utcnow() + timedelta(hours=23) < early.expires_at <= utcnow() + timedelta(days=1)

    app = start(engine, db, "waits_for_payment", {"payment_ref": "PAY-42"}).application
    # delivered in the very step that made the application wait for it
    assert [t.element_id for t in open_tasks(engine, db, app.id)] == ["deliver"]
    assert show(engine, db, app.id)["data"]["payment"]["amount"] == 900
    [message] = messages(db)
    assert (message.status, message.application_id) == ("delivered", app.id)
    # a second receiver with the same key finds nothing left: delivered once
    late = start(engine, db, "waits_for_payment", {"payment_ref": "PAY-42"}).application
    assert open_tasks(engine, db, late.id) == []


def test_expired_buffered_message_is_not_delivered(engine, db, tmp_path):
    deploy_text(engine, db, tmp_path, WAITS_FOR_PAYMENT)
    send(engine, db, "payment", "PAY-43", {"payment_ref": "PAY-43"})
    with db.transaction() as session:  # the buffer time has passed
        session.execute(update(Message).values(expires_at=utcnow() - timedelta(seconds=1)))
    app = start(engine, db, "waits_for_payment", {"payment_ref": "PAY-43"}).application
    assert open_tasks(engine, db, app.id) == []
    assert messages(db)[0].status == "buffered"


def test_buffered_messages_are_delivered_in_order(engine, db, tmp_path, clerk):
    deploy_text(engine, db, tmp_path, with_collaboration("instalments", "\n".join([
        '<bpmn:startEvent id="s"/>', catch("one", "payment", "payment"), catch("two", "payment", "payment"), user_task("deliver"),
        '<bpmn:endEvent id="e"/>', chain("s", "one", "two", "deliver", "e")]),
        correlated("payment", "payment_ref", "payment_ref")), "instalments.bpmn")
    send(engine, db, "payment", "PAY-5", {"payment_ref": "PAY-5", "instalment": 1})
    send(engine, db, "payment", "PAY-5", {"payment_ref": "PAY-5", "instalment": 2})
    app = start(engine, db, "instalments", {"payment_ref": "PAY-5"}).application
    assert [t.element_id for t in open_tasks(engine, db, app.id)] == ["deliver"]
    assert show(engine, db, app.id)["data"]["payment"]["instalment"] == 2
    assert [m.status for m in messages(db)] == ["delivered", "delivered"]


def test_message_is_refused_when_buffering_is_off(engine, db, tmp_path):
    engine.messages.buffer_seconds = 0  # as MADOGUCHI_MESSAGE_BUFFER_SECONDS=0 sets it
    deploy_text(engine, db, tmp_path, WAITS_FOR_PAYMENT)
    with db.transaction() as session, pytest.raises(MessageRefused) as refused:
        engine.send_message(session, "payment", key="PAY-404", data={})
    assert str(refused.value) == ("no application waits for message 'payment' with key 'PAY-404', and no "
                                  "procedure starts with it; check the name and key")
    assert refused.value.exit_code == 2


# -- exactly once ----------------------------------------------------------------------------------

def test_two_sends_for_one_waiting_receiver_deliver_once(engine, db, tmp_path):
    deploy_text(engine, db, tmp_path, WAITS_BY_REFERENCE)
    app = start(engine, db, "waits_by_reference").application
    first = send(engine, db, "documents", app.reference, {"copy": 1})
    second = send(engine, db, "documents", app.reference, {"copy": 2})
    assert (first.status, second.status) == ("delivered", "buffered")
    assert received(engine, db, app.id) == 1
    assert show(engine, db, app.id)["data"]["documents"] == {"copy": 1}


def test_concurrent_sends_for_one_waiting_receiver_deliver_once(engine, db, tmp_path):
    deploy_text(engine, db, tmp_path, WAITS_BY_REFERENCE)
    app = start(engine, db, "waits_by_reference").application
    barrier, results, errors = threading.Barrier(4), [], []

    def sender(copy: int) -> None:
        try:
            barrier.wait(timeout=10)
            results.append(send(engine, db, "documents", app.reference, {"copy": copy}).status)
        except Exception as exc:  # noqa: BLE001 — reported below
            errors.append(exc)

    threads = [threading.Thread(target=sender, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert sorted(results) == ["buffered", "buffered", "buffered", "delivered"]
    assert received(engine, db, app.id) == 1
    assert [t.element_id for t in open_tasks(engine, db, app.id)] == ["recheck"]


# -- thrown messages --------------------------------------------------------------------------------

SENDS_PAYMENT = with_collaboration("pays", "\n".join([
    '<bpmn:startEvent id="s"/>', throw("notify_payment", "payment", '{"payment_ref": payment_ref, "amount": amount}'), '<bpmn:endEvent id="e"/>',
    chain("s", "notify_payment", "e")]),
    correlated("payment", "payment_ref", "payment_ref"))


def test_message_thrown_by_one_application_reaches_another_through_a_job(engine, db, tmp_path):
    deploy_text(engine, db, tmp_path, WAITS_FOR_PAYMENT)
    deploy_text(engine, db, tmp_path, SENDS_PAYMENT, "pays.bpmn")
    receiver = start(engine, db, "waits_for_payment", {"payment_ref": "PAY-77"}).application
    sender = start(engine, db, "pays", {"payment_ref": "PAY-77", "amount": 3100}).application
    assert sender.status == "completed"
    # not delivered inside the sender's step: a message job carries it
    assert open_tasks(engine, db, receiver.id) == []
    [job] = job_rows(db)
    assert job.kind == "message"
    assert job.payload | {"name": "payment", "key": "PAY-77", "sender": sender.reference} == job.payload
    assert "message_sent" in [e["action"] for e in show(engine, db, sender.id)["history"]]

    assert drain(engine, db) == 1
    assert [t.element_id for t in open_tasks(engine, db, receiver.id)] == ["deliver"]
    assert show(engine, db, receiver.id)["data"]["payment"] == {"payment_ref": "PAY-77", "amount": 3100}
    [message] = messages(db)
    assert (message.status, message.sender, message.application_id) == ("delivered", sender.reference, receiver.id)


def test_thrown_message_starts_an_application(engine, db, tmp_path):
    deploy_text(engine, db, tmp_path, MESSAGE_START)
    deploy_text(engine, db, tmp_path, process("portal", "\n".join([
        '<bpmn:startEvent id="s"/>', '<bpmn:endEvent id="filed">'
        + message_definition("application_filed", payload='{"applicant": applicant}') + '</bpmn:endEvent>',
        chain("s", "filed")]), extra=message("application_filed")), "portal.bpmn")
    sender = start(engine, db, "portal", {"applicant": "Tanaka"}).application
    drain(engine, db)
    with db.transaction() as session:
        started = session.scalars(select(Application).where(Application.id != sender.id)).one()
    view = show(engine, db, started.id)
    assert view["procedure"] == "opened_by_message"
    assert view["data"]["filing"] == {"applicant": "Tanaka"}


def test_thrown_message_nobody_takes_is_recorded_as_refused(engine, db, tmp_path):
    engine.messages.buffer_seconds = 0
    deploy_text(engine, db, tmp_path, SENDS_PAYMENT)
    start(engine, db, "pays", {"payment_ref": "PAY-0", "amount": 1})
    assert drain(engine, db) == 1  # the job is done: nobody waits, and nothing to retry
    [message] = messages(db)
    assert (message.status, message.correlation_key) == ("refused", "PAY-0")
    with db.transaction() as session:
        assert engine.incidents(session) == []
        assert session.scalar(select(func.count()).select_from(Application)) == 1


def test_buffered_message_whose_data_lacks_the_property_does_not_block_the_receiver(engine, db, tmp_path):
    deploy_text(engine, db, tmp_path, WAITS_FOR_PAYMENT)
    assert send(engine, db, "payment", "PAY-2", {"amount": 5}).status == "buffered"
    app = start(engine, db, "waits_for_payment", {"payment_ref": "PAY-2"}).application
    assert [t.element_id for t in open_tasks(engine, db, app.id)] == ["deliver"]
    assert show(engine, db, app.id)["data"]["payment"] == {"amount": 5}
