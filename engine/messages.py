"""Messages between applications and from outside (payment confirmed, resubmitted, …).

An application waiting on a message event is *subscribed* under the message name and a
correlation key: the value of the message's correlation property computed from the
application's data, or — when the message defines none — the application's reference
(受付番号). A message sent with that name and key is delivered to that application, in the
same transaction as the step it causes, and recorded, so it is delivered exactly once. A
message nobody waits for starts an application of a procedure with a matching message
start event, or is buffered until a receiver subscribes (for ``buffer_seconds``), or is
refused when buffering is off.
"""

from __future__ import annotations

from contextlib import suppress
from dataclasses import dataclass
from datetime import datetime, timedelta

import orjson
from SpiffWorkflow.bpmn.specs.event_definitions.message import MessageEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.multiple import MultipleEventDefinition
from SpiffWorkflow.bpmn.util.event import BpmnEvent
from sqlalchemy import delete, insert, select, update
from sqlalchemy.orm import Session

from engine.errors import BadInput
from engine.store.models import (
    Application,
    Definition,
    DefinitionTrigger,
    Message,
    MessageSubscription,
    utcnow,
)


class MessageRefused(BadInput):
    """Nobody waits for the message and it may not be buffered."""


@dataclass(frozen=True)
class SendResult:
    status: str  # delivered | started | buffered
    message_id: int
    application_id: int | None = None
    expires_at: datetime | None = None

    def as_dict(self) -> dict:
        return {"status": self.status, "message_id": self.message_id, "application_id": self.application_id,
                "expires_at": self.expires_at.isoformat() if self.expires_at else None}


def flatten_correlations(correlations: dict) -> str | None:
    """One string from SpiffWorkflow's {key: {property: value}} correlations (None if empty)."""
    values = [value for props in correlations.values() for _, value in sorted(props.items())]
    if not values:
        return None
    if len(values) == 1:
        return str(values[0])
    return orjson.dumps(values).decode()


def message_definitions(task) -> list[MessageEventDefinition]:
    definition = getattr(task.task_spec, "event_definition", None)
    parts = definition.event_definitions if isinstance(definition, MultipleEventDefinition) else [definition]
    return [part for part in parts if isinstance(part, MessageEventDefinition)]


def waiting_messages(workflow, reference: str) -> list[tuple[object, MessageEventDefinition, str]]:
    """(task, message definition, correlation key) for every message the workflow waits for."""
    found = []
    for task in workflow.event_manager.tasks.values():
        for definition in message_definitions(task):
            correlations = definition.calculate_correlations(
                workflow.script_engine, definition.correlation_properties, task.data) \
                if definition.correlation_properties else {}
            found.append((task, definition, flatten_correlations(correlations) or reference))
    return found


class MessageRouter:
    def __init__(self, applications, buffer_seconds: float):
        self.applications = applications
        self.buffer_seconds = buffer_seconds

    # -- inside an application's step (the application is locked) ---------------------------

    def deliver_buffered(self, session: Session, application: Application, workflow, step) -> int:
        """Hand buffered messages to the events this workflow now waits for; return how many."""
        delivered = 0
        now = utcnow()
        for task, definition, key in waiting_messages(workflow, application.reference):
            message = session.scalars(
                select(Message).where(Message.name == definition.name, Message.correlation_key == key,
                                      Message.status == "buffered", Message.expires_at > now)
                .order_by(Message.id).limit(1).with_for_update(skip_locked=True)
            ).first()
            if message is None:
                continue
            claimed = session.execute(update(Message).where(Message.id == message.id, Message.status == "buffered")
                                      .values(status="delivered", delivered_at=now, application_id=application.id)
                                      .execution_options(synchronize_session=False))
            if claimed.rowcount != 1:
                continue
            workflow.send_event(BpmnEvent(definition, message.payload, {}))
            step.record("message_received", message.sender, task_id=str(task.id),
                        details={"message": message.name, "message_id": message.id}, data=message.payload)
            delivered += 1
        return delivered

    def sync_subscriptions(self, session: Session, application: Application, workflow, known: int) -> int:
        """Make the subscriptions match what the workflow waits for; return how many there are.

        ``known`` is how many the application had, so applications that wait for no message
        (most of them) cost no statement here.
        """
        waiting = [] if workflow.completed else waiting_messages(workflow, application.reference)
        if not known and not waiting:
            return 0
        connection = session.connection()
        table = MessageSubscription.__table__
        connection.execute(delete(table).where(table.c.application_id == application.id))
        if waiting:
            connection.execute(insert(table), [
                {"application_id": application.id, "task_id": str(task.id), "message_name": definition.name,
                 "correlation_key": key, "created_at": utcnow()} for task, definition, key in waiting])
        return len(waiting)

    # -- from outside ----------------------------------------------------------------------

    def send(self, session: Session, name: str, key: str | None, payload: dict | None = None,
             sender: str | None = None) -> SendResult:
        """Deliver, start, or buffer a message; raise MessageRefused if none applies."""
        payload = payload or {}
        if not isinstance(payload, dict):
            raise BadInput("a message's data must be a JSON object")
        now = utcnow()
        key = key or ""
        message = Message(name=name, correlation_key=key, payload=payload, status="pending", sender=sender,
                          created_at=now)
        session.add(message)
        session.flush()
        subscription = session.scalars(
            select(MessageSubscription).where(MessageSubscription.message_name == name,
                                              MessageSubscription.correlation_key == key)
            .order_by(MessageSubscription.id).limit(1)
        ).first()
        if subscription is not None:
            application = self.applications.receive_message(session, subscription.application_id, name, key,
                                                            payload, sender, message.id)
            if application is not None:
                message.status, message.delivered_at, message.application_id = "delivered", now, application.id
                return SendResult("delivered", message.id, application.id)
        definition = self._starting_definition(session, name)
        if definition is not None:
            result = self.applications.start_by_message(session, definition, name, payload, sender)
            message.status, message.delivered_at = "delivered", now
            message.application_id = result.application.id
            return SendResult("started", message.id, result.application.id)
        if self.buffer_seconds <= 0:
            message.status = "refused"
            session.flush()
            raise MessageRefused(f"no application waits for message {name!r} with key {key!r}, and no procedure "
                                 "starts with it; check the name and key")
        message.status = "buffered"
        message.expires_at = now + timedelta(seconds=self.buffer_seconds)
        return SendResult("buffered", message.id, expires_at=message.expires_at)

    def deliver_thrown(self, session: Session, payload: dict) -> None:
        """A message thrown by one application, delivered by a job (never inside the sender's step)."""
        # A refused message stays recorded as such; the sender's audit trail has the throw.
        with suppress(MessageRefused):
            self.send(session, payload["name"], payload.get("key"), payload.get("data"), payload.get("sender"))

    def _starting_definition(self, session: Session, name: str) -> Definition | None:
        """The newest version of a procedure whose start event catches this message."""
        rows = session.execute(
            select(Definition).join(DefinitionTrigger, DefinitionTrigger.definition_id == Definition.id)
            .where(DefinitionTrigger.kind == "message", DefinitionTrigger.name == name)
            .order_by(Definition.id.desc())
        ).scalars().all()
        for definition in rows:
            latest = self.applications.catalog.latest(session, definition.key)
            if latest.id == definition.id:
                return definition
        return None
