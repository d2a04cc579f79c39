"""Integrator access: scoped API tokens.

Mixed into :class:`engine.facade.Engine`; methods follow the façade's rules (the caller's
session and transaction, nothing committed here).
"""

from __future__ import annotations


class ApiFacade:
    """Integrator access: scoped API tokens."""
