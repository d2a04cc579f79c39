"""What approvers do beyond completing tasks: assign, bulk approve, comments, attachments.

Mixed into :class:`engine.facade.Engine`; methods follow the façade's rules (the caller's
session and transaction, nothing committed here).
"""

from __future__ import annotations


class OfficeActions:
    """What approvers do beyond completing tasks: assign, bulk approve, comments, attachments."""
