"""What admins do to running applications: cancel, migrate to a newer version.

Mixed into :class:`engine.facade.Engine`; methods follow the façade's rules (the caller's
session and transaction, nothing committed here).
"""

from __future__ import annotations


class AdminActions:
    """What admins do to running applications: cancel, migrate to a newer version."""

    def cancel_application(self, session, application_id: int, *, actor: str, reason: str):
        """End a running application (status ``cancelled``); ``reason`` is required and audited."""
        from engine.instance_changes import cancel

        return cancel(self.applications, session, application_id, actor=actor, reason=reason)

    def migration_preview(self, session, application_id: int, to_version: int):
        """What moving the application to ``to_version`` of its procedure would do (engine.instance_changes)."""
        from engine.instance_changes import migration_preview

        return migration_preview(self.applications, session, application_id, to_version)

    def migrate_application(self, session, application_id: int, *, to_version: int, actor: str):
        """Move a running application to a newer version; returns (preview, step result)."""
        from engine.instance_changes import migrate

        return migrate(self.applications, session, application_id, to_version=to_version, actor=actor)

    def newer_versions(self, session, application_id: int) -> list[int]:
        """The versions of the application's procedure newer than the one it runs."""
        from sqlalchemy import select

        from engine.store.models import Definition

        current = session.get(Definition, self.applications.get(session, application_id).definition_id)
        return list(session.scalars(select(Definition.version).where(Definition.key == current.key,
                                                                     Definition.version > current.version)
                                    .order_by(Definition.version)))
