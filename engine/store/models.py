"""The tables. SQLAlchemy 2.0 style, with a naming convention so migrations are stable."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator):
    """Timestamps stored as UTC and always returned timezone-aware, on every database."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are ambiguous; pass an aware datetime")
        value = value.astimezone(UTC)
        # SQLite has no time zones: store naive UTC.
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Definition(Base):
    """An immutable, deployed version of a procedure (its BPMN, DMN, forms and manifest)."""

    __tablename__ = "definitions"
    __table_args__ = (
        UniqueConstraint("key", "version"),
        UniqueConstraint("key", "content_hash"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(200), index=True)
    version: Mapped[int] = mapped_column(Integer)
    content_hash: Mapped[str] = mapped_column(String(64))
    process_id: Mapped[str] = mapped_column(String(200))
    title: Mapped[str | None] = mapped_column(String(300))
    manifest: Mapped[dict] = mapped_column(JSON, default=dict)
    deployed_by: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class DefinitionFile(Base):
    """One source file of a definition version, kept verbatim (specs are rebuilt from these)."""

    __tablename__ = "definition_files"
    __table_args__ = (UniqueConstraint("definition_id", "path"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    definition_id: Mapped[int] = mapped_column(ForeignKey("definitions.id", ondelete="CASCADE"), index=True)
    path: Mapped[str] = mapped_column(String(500))
    kind: Mapped[str] = mapped_column(String(20))
    content: Mapped[bytes] = mapped_column(LargeBinary)


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    display_name: Mapped[str | None] = mapped_column(String(200))
    password_hash: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Group(Base):
    __tablename__ = "groups"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    display_name: Mapped[str | None] = mapped_column(String(200))


class Membership(Base):
    __tablename__ = "group_members"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    group_id: Mapped[int] = mapped_column(
        ForeignKey("groups.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class Application(Base):
    """One case: a running (or finished) instance of a definition version."""

    __tablename__ = "applications"

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(40), unique=True)
    definition_id: Mapped[int] = mapped_column(ForeignKey("definitions.id"), index=True)
    status: Mapped[str] = mapped_column(String(20), index=True)
    #: Serialized workflow state (see engine.runtime.state); never the spec.
    state: Mapped[bytes] = mapped_column(LargeBinary)
    state_format: Mapped[int] = mapped_column(Integer)
    #: Bumped on every save; a write that expected another version is a conflict.
    version: Mapped[int] = mapped_column(Integer, default=1)
    started_by: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: Earliest due timer, so a worker finds due applications with one indexed query.
    next_timer_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    #: How many message events the application waits on (its subscriptions).
    message_waits: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    #: The head of the application's audit chain (last seq and hash), updated with each step.
    audit_seq: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    audit_hash: Mapped[str] = mapped_column(String(64), default="0" * 64, server_default="0" * 64)

    __mapper_args__ = {"version_id_col": version}


class HumanTask(Base):
    """Projection of a user/manual task for task lists; written in the same transaction as the state."""

    __tablename__ = "human_tasks"
    __table_args__ = (
        Index("ix_human_tasks_application_status", "application_id", "status"),
        # The "mine" tab: a person's open claimed tasks, oldest first.
        Index("ix_human_tasks_assignee_open", "assignee", "status", "created_at"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id", ondelete="CASCADE"))
    element_id: Mapped[str] = mapped_column(String(200))
    name: Mapped[str] = mapped_column(String(300))
    lane: Mapped[str | None] = mapped_column(String(200))
    form_key: Mapped[str | None] = mapped_column(String(300))
    candidate_groups: Mapped[list] = mapped_column(JSON, default=list)
    candidate_users: Mapped[list] = mapped_column(JSON, default=list)
    assignee: Mapped[str | None] = mapped_column(String(100), index=True)
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    priority: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[str] = mapped_column(String(12), default="open")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    completed_by: Mapped[str | None] = mapped_column(String(100))
    #: "task" for a task of the diagram; an approval route's tasks say what they ask for:
    #: "approve" (回議/決裁), "consult" (合議), "resubmit" (returned to the drafter),
    #: "circulate" (供覧) or "review_after" (後閲).
    kind: Mapped[str] = mapped_column(String(16), default="task", server_default="task")
    route_id: Mapped[int | None] = mapped_column(ForeignKey("approval_routes.id", ondelete="CASCADE"))
    #: The position in the route's plan the task belongs to (None for circulation and 後閲).
    route_step: Mapped[int | None] = mapped_column(Integer)


class TaskCandidate(Base):
    """Who may work on an open task: one row per candidate group or user.

    Rows exist only while the task is open, so "my groups' tasks" is an index range scan
    whatever the size of the history.
    """

    __tablename__ = "task_candidates"
    # task_id last: a tab's page and counts read only this index, in date order.
    __table_args__ = (Index("ix_task_candidates_list", "kind", "name", "created_at", "task_id"),)

    task_id: Mapped[str] = mapped_column(
        ForeignKey("human_tasks.id", ondelete="CASCADE"), primary_key=True
    )
    kind: Mapped[str] = mapped_column(String(5), primary_key=True)
    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Job(Base):
    """Background work: a timer to fire, a service call, a message to deliver, a plugin job.

    A worker claims due jobs with a lease (``lease_owner`` until ``lease_expires_at``) and
    keeps the lease alive with heartbeats; when a worker dies its leases expire and another
    worker takes the jobs over. A job is deleted in the same transaction that applies its
    effect, so an effect is never applied twice.
    """

    __tablename__ = "jobs"
    __table_args__ = (
        Index("ix_jobs_status_due_at", "status", "due_at"),
        Index("ix_jobs_status_lease_expires_at", "status", "lease_expires_at"),
        # Never reuse the id of a deleted job: incidents and logs refer to jobs by id.
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(60))
    application_id: Mapped[int | None] = mapped_column(ForeignKey("applications.id", ondelete="CASCADE"),
                                                       index=True)
    task_id: Mapped[str | None] = mapped_column(String(36))
    payload: Mapped[dict] = mapped_column(JSON, default=dict)
    #: pending → running (leased) → deleted when done; "failed" once retries ran out.
    status: Mapped[str] = mapped_column(String(12), default="pending")
    due_at: Mapped[datetime] = mapped_column(UTCDateTime())
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    max_attempts: Mapped[int] = mapped_column(Integer, default=5)
    backoff_seconds: Mapped[float] = mapped_column(Float, default=10.0)
    idempotency_key: Mapped[str] = mapped_column(String(200))
    #: At most one job per key (e.g. the timer job of an application).
    singleton_key: Mapped[str | None] = mapped_column(String(200), unique=True)
    lease_owner: Mapped[str | None] = mapped_column(String(100))
    lease_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Incident(Base):
    """A job whose retries ran out: what failed, why, and what an admin did about it."""

    __tablename__ = "incidents"
    __table_args__ = (Index("ix_incidents_status_created_at", "status", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int | None] = mapped_column(ForeignKey("applications.id", ondelete="CASCADE"),
                                                       index=True)
    job_id: Mapped[int | None] = mapped_column(BigInteger().with_variant(Integer, "sqlite"))
    kind: Mapped[str] = mapped_column(String(60))
    element_id: Mapped[str | None] = mapped_column(String(200))
    message: Mapped[str] = mapped_column(Text)
    traceback: Mapped[str | None] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(12), default="open")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    resolved_by: Mapped[str | None] = mapped_column(String(100))
    resolution: Mapped[str | None] = mapped_column(String(40))


class MessageSubscription(Base):
    """An application waiting for a message: one row per waiting catch event, kept in step
    with the workflow state, so an incoming message finds its receiver with one lookup."""

    __tablename__ = "message_subscriptions"
    __table_args__ = (Index("ix_message_subscriptions_lookup", "message_name", "correlation_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id", ondelete="CASCADE"), index=True)
    task_id: Mapped[str] = mapped_column(String(36))
    message_name: Mapped[str] = mapped_column(String(200))
    correlation_key: Mapped[str] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Message(Base):
    """A message sent to applications: delivered, buffered until its receiver waits, or expired."""

    __tablename__ = "messages"
    __table_args__ = (Index("ix_messages_lookup", "name", "correlation_key", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    correlation_key: Mapped[str] = mapped_column(String(300))
    payload: Mapped[dict] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(12))
    sender: Mapped[str | None] = mapped_column(String(100))
    application_id: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class DefinitionTrigger(Base):
    """A start event of a definition that something other than a person fires:
    a message start event (``kind="message"``) or a timer start event (``kind="timer"``)."""

    __tablename__ = "definition_triggers"
    __table_args__ = (Index("ix_definition_triggers_kind_name", "kind", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    definition_id: Mapped[int] = mapped_column(ForeignKey("definitions.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(10))
    name: Mapped[str] = mapped_column(String(200))
    element_id: Mapped[str] = mapped_column(String(200))
    expression: Mapped[str | None] = mapped_column(Text)


class IntakeImport(Base):
    """An application imported from an intake source (e.g. the national portal), by its id
    there — so a re-poll or a crash mid-import never imports it twice."""

    __tablename__ = "intake_imports"
    __table_args__ = (UniqueConstraint("source", "external_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    source: Mapped[str] = mapped_column(String(100))
    external_id: Mapped[str] = mapped_column(String(200))
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id", ondelete="CASCADE"), index=True)
    status_reported: Mapped[str | None] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Payment(Base):
    """A fee payment through a payment provider, found again by its reference."""

    __tablename__ = "payments"

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(100), unique=True)
    provider: Mapped[str] = mapped_column(String(100))
    application_id: Mapped[int | None] = mapped_column(ForeignKey("applications.id", ondelete="SET NULL"),
                                                       index=True)
    amount: Mapped[int] = mapped_column(Integer)
    currency: Mapped[str] = mapped_column(String(3), default="JPY")
    #: created → paid | failed | cancelled; refunded (partly or fully) after paid.
    status: Mapped[str] = mapped_column(String(12))
    refunded_amount: Mapped[int] = mapped_column(Integer, default=0)
    details: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class AuditEvent(Base):
    """Append-only, hash-chained record of every state change.

    Each application has its own chain (``application:<id>``); changes that belong to no
    application (deployments, users) go to the ``system`` chain.
    """

    __tablename__ = "audit_events"
    __table_args__ = (UniqueConstraint("chain", "seq"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    chain: Mapped[str] = mapped_column(String(40))
    seq: Mapped[int] = mapped_column(Integer)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    actor: Mapped[str | None] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(40))
    application_id: Mapped[int | None] = mapped_column(Integer, index=True)
    task_id: Mapped[str | None] = mapped_column(String(36))
    details: Mapped[dict] = mapped_column(JSON, default=dict)
    data_hash: Mapped[str | None] = mapped_column(String(64))
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class AuditHead(Base):
    """The last link of each chain; locking it serialises appends and exposes deleted tails."""

    __tablename__ = "audit_heads"

    chain: Mapped[str] = mapped_column(String(40), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer)
    hash: Mapped[str] = mapped_column(String(64))


class SigningKey(Base):
    """A public key of the approval key ring, kept in the database so any node can verify.

    The private keys stay in files under MADOGUCHI_HOME; a retired key still verifies the
    records it signed.
    """

    __tablename__ = "signing_keys"

    key_id: Mapped[str] = mapped_column(String(16), primary_key=True)
    algorithm: Mapped[str] = mapped_column(String(20))
    public_key: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class DecisionRecord(Base):
    """One signed decision (決裁) on an application, chained per application."""

    __tablename__ = "decision_records"
    __table_args__ = (UniqueConstraint("application_id", "seq"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id"))
    seq: Mapped[int] = mapped_column(Integer)
    step: Mapped[str] = mapped_column(String(200))
    actor: Mapped[str] = mapped_column(String(100))
    #: Who the actor decided for (代決), if not for themselves.
    on_behalf_of: Mapped[str | None] = mapped_column(String(100))
    decision: Mapped[str] = mapped_column(String(40))
    comment: Mapped[str | None] = mapped_column(Text)
    #: The day by which whoever gets the case back should answer (a return's 期限), if set.
    deadline: Mapped[date | None] = mapped_column(Date)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    content_hash: Mapped[str] = mapped_column(String(64))
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))
    key_id: Mapped[str] = mapped_column(String(16))
    signature: Mapped[str] = mapped_column(String(100))


class DecisionHead(Base):
    """The last decision record of each application, so a deleted tail is noticed."""

    __tablename__ = "decision_heads"

    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id"), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer)
    hash: Mapped[str] = mapped_column(String(64))


class ApprovalRoute(Base):
    """An approval route (回議・合議・決裁) running for one waiting task of an application.

    The plan (who reviews, consults and decides, in which order) is data computed when the
    route starts; ``position`` is the plan step whose tasks are open. The route's tasks are
    rows of ``human_tasks`` (kind approve / consult / resubmit / circulate / review_after).
    """

    __tablename__ = "approval_routes"

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id", ondelete="CASCADE"), index=True)
    #: The waiting diagram task the route completes when it ends.
    task_id: Mapped[str] = mapped_column(String(36))
    element_id: Mapped[str] = mapped_column(String(200))
    title: Mapped[str] = mapped_column(String(300))
    plan: Mapped[list] = mapped_column(JSON)
    position: Mapped[int] = mapped_column(Integer)
    #: running, approved, rejected, withdrawn, returned_to_applicant, cancelled
    status: Mapped[str] = mapped_column(String(24), default="running")
    drafter: Mapped[str | None] = mapped_column(String(100))
    #: Who moved the route to its current position, from which step: they may recall (引戻し)
    #: until someone at the new position acts.
    last_sender: Mapped[str | None] = mapped_column(String(100))
    last_sender_step: Mapped[int | None] = mapped_column(Integer)
    outcome: Mapped[dict | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class Absence(Base):
    """A period a staff member is away (出張, 休暇), and who decides for them (代決者)."""

    __tablename__ = "absences"
    __table_args__ = (Index("ix_absences_user_period", "user", "starts_at", "ends_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user: Mapped[str] = mapped_column(String(100))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime())
    substitute: Mapped[str | None] = mapped_column(String(100), index=True)
    reason: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class DocumentCounter(Base):
    """The last 文書番号 serial given per procedure and fiscal year (April–March)."""

    __tablename__ = "document_counters"

    procedure: Mapped[str] = mapped_column(String(100), primary_key=True)
    fiscal_year: Mapped[int] = mapped_column(Integer, primary_key=True)
    last_serial: Mapped[int] = mapped_column(Integer, default=0)


class IssuedDocument(Base):
    """A sealed document issued to an applicant: its number, where its bytes are, its state.

    A number is taken (status "reserved") in a short transaction of its own, so issuing
    documents of one procedure in parallel does not wait on the rendering; the row becomes
    "issued" once the sealed file is stored. Every number ever taken has its row: a number
    whose issuance is abandoned stays in the register as "void" (欠番), never silently skipped.
    """

    __tablename__ = "issued_documents"
    __table_args__ = (UniqueConstraint("procedure", "fiscal_year", "serial"),
                      UniqueConstraint("application_id", "task_id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The id printed on the document and in its QR code (not guessable, not sequential).
    public_id: Mapped[str] = mapped_column(String(36), unique=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id"), index=True)
    #: The diagram task that issued it (one document per issuing task).
    task_id: Mapped[str] = mapped_column(String(36))
    procedure: Mapped[str] = mapped_column(String(100))
    fiscal_year: Mapped[int] = mapped_column(Integer)
    serial: Mapped[int] = mapped_column(Integer)
    number: Mapped[str] = mapped_column(String(100))
    template: Mapped[str] = mapped_column(String(300))
    title: Mapped[str] = mapped_column(String(300))
    #: reserved, issued, revoked, void
    status: Mapped[str] = mapped_column(String(12), default="reserved")
    reserved_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    issued_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: SHA-256 of the sealed PDF as issued, and of the statement it carries (in its QR code).
    sha256: Mapped[str | None] = mapped_column(String(64), index=True)
    content_sha256: Mapped[str | None] = mapped_column(String(64))
    size: Mapped[int | None] = mapped_column(Integer)
    storage_key: Mapped[str | None] = mapped_column(String(1024))
    signer: Mapped[str | None] = mapped_column(String(300))
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_by: Mapped[str | None] = mapped_column(String(100))
    revocation_reason: Mapped[str | None] = mapped_column(Text)


class DocumentDownload(Base):
    """Each time an issued document was handed out: when it reached the applicant matters
    (the period for an appeal, 審査請求, runs from the day the decision became known)."""

    __tablename__ = "document_downloads"

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("issued_documents.id"), index=True)
    actor: Mapped[str | None] = mapped_column(String(100))
    channel: Mapped[str] = mapped_column(String(20))
    client: Mapped[str | None] = mapped_column(String(300))
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


# Tables of later areas live in their own modules; importing them here puts them in Base.metadata.
from engine.store import models_api, models_applicants, models_attachments, models_capacity, models_catalogue, models_office, models_portal_forms  # noqa: E402, F401, I001
