"""The applicant portal: the procedure catalogue (``catalogue``) and applicant accounts
(``accounts``). Public pages live at the site root; staff pages stay under /office and /admin."""

from __future__ import annotations

from flask import Blueprint

blueprint = Blueprint("portal", __name__)
#: Ids are 32-bit on PostgreSQL (and bounded on SQLite): routes refuse larger ones with 404
#: (``<int(max=…)>``) rather than let them overflow the database's integer.
MAX_ID = 2**31 - 1

# The view modules register their routes on the blueprint when imported.
from webui.portal import accounts, apply, catalogue, identity, payments, uploads  # noqa: E402,F401

__all__ = ["MAX_ID", "blueprint"]
