"""Persistence: SQLAlchemy models, database set-up and Alembic migrations."""

from engine.store.database import Database, upgrade_database
from engine.store.models import (
    Application,
    AuditEvent,
    AuditHead,
    Base,
    Definition,
    DefinitionFile,
    Group,
    HumanTask,
    Membership,
    TaskCandidate,
    User,
)

__all__ = [
    "Application",
    "AuditEvent",
    "AuditHead",
    "Base",
    "Database",
    "Definition",
    "DefinitionFile",
    "Group",
    "HumanTask",
    "Membership",
    "TaskCandidate",
    "User",
    "upgrade_database",
]
