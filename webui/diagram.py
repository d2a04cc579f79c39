"""The BPMN diagram of an application with its current position, for staff pages.

Pages include ``diagram_panel(application_id)``; ``static/diagram.js`` draws the diagram with
the vendored bpmn-js viewer from ``/diagram/applications/<id>.json`` and marks the active and
finished elements. Without JavaScript the panel lists the current steps as text.
"""

from __future__ import annotations

from flask import Blueprint, jsonify
from markupsafe import Markup, escape

from webui.auth import login_required
from webui.db import engine, transaction

blueprint = Blueprint("diagram", __name__, url_prefix="/diagram")


@blueprint.get("/applications/<int:application_id>.json")
@login_required
def application_diagram(application_id: int):
    with transaction() as session:
        state = engine().diagram(session, application_id)
    response = jsonify(state.as_dict())
    response.headers["Cache-Control"] = "no-store"
    return response


def diagram_panel(application_id: int, label: str, active_names: list[str] | None = None) -> Markup:
    """The placeholder ``diagram.js`` fills in; ``active_names`` are read out without JavaScript."""
    from flask import url_for

    names = "".join(f"<li>{escape(name)}</li>" for name in active_names or [])
    return Markup(
        f'<figure class="bpmn-diagram-figure"><figcaption>{escape(label)}</figcaption>'
        f'<div class="bpmn-diagram" data-diagram-url="{escape(url_for("diagram.application_diagram", application_id=application_id))}"'
        f' role="img" aria-label="{escape(label)}"></div>'
        f'{"<ul class=bpmn-diagram-text>" + names + "</ul>" if names else ""}</figure>')


@blueprint.app_context_processor
def _panel_in_templates():
    return {"diagram_panel": diagram_panel}
