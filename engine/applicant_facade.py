"""Applicant accounts: registration, verification, password reset, profile, My Page.

Mixed into :class:`engine.facade.Engine`; methods follow the façade's rules (the caller's
session and transaction, nothing committed here).
"""

from __future__ import annotations


class ApplicantFacade:
    """Applicant accounts: registration, verification, password reset, profile, My Page."""
