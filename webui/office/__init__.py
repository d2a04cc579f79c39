"""The office: approvers' task lists (``task_list``) and task pages (``task_page``)."""

from __future__ import annotations

from flask import Blueprint

blueprint = Blueprint("office", __name__, url_prefix="/office")

# The view modules register their routes on the blueprint when imported.
from webui.office import attachments, task_list, task_page, team  # noqa: E402,F401

__all__ = ["blueprint"]
