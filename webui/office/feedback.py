"""Engine refusals as messages staff can act on: what happened, what to do, and the engine's detail."""

from __future__ import annotations

from flask import request
from flask_babel import gettext as _

from engine.errors import Conflict, MadoguchiError, PermissionRefused
from webui.errors import status_of


def refusal_lead(kind: str) -> str:
    """The translated lead sentence of a kind of refusal (the exception's class name)."""
    if kind == "Conflict":
        return _("Someone changed this case meanwhile. Reload the page and try again.")
    if kind == "PermissionRefused":
        return _("You may not do this.")
    if kind == "NotFound":
        return _("There is no such task.")
    return _("This cannot be done as sent.")


def explain(error: MadoguchiError) -> str:
    """A translated lead sentence for the kind of refusal, then the engine's own words."""
    if isinstance(error, Conflict):
        lead = refusal_lead("Conflict")
    elif isinstance(error, PermissionRefused):
        lead = refusal_lead("PermissionRefused")
    else:
        lead = _("This cannot be done as sent.")
    return f"{lead} ({error})"


def refusal(error: MadoguchiError) -> tuple[str, int]:
    """(message, HTTP status) of an engine refusal."""
    return explain(error), status_of(error)


def back_to(default: str) -> str:
    """The page the form came from, when it is a page of this site."""
    target = request.form.get("next") or ""
    if target.startswith("/") and not target.startswith("//"):
        return target
    return default
