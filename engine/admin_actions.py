"""What admins do to running applications: cancel, migrate to a newer version.

Mixed into :class:`engine.facade.Engine`; methods follow the façade's rules (the caller's
session and transaction, nothing committed here).
"""

from __future__ import annotations


class AdminActions:
    """What admins do to running applications: cancel, migrate to a newer version."""
