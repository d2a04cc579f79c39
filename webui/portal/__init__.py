"""The applicant portal: the procedure catalogue (``catalogue``) and applicant accounts
(``accounts``). Public pages live at the site root; staff pages stay under /office and /admin."""

from __future__ import annotations

from flask import Blueprint

from webui.ids import MAX_ID

blueprint = Blueprint("portal", __name__)

# The view modules register their routes on the blueprint when imported.
from webui.portal import accounts, apply, catalogue, identity, payments, uploads  # noqa: E402,F401

__all__ = ["MAX_ID", "blueprint"]
