"""The BPMN diagram of an application with its current position, for staff pages.

Pages include ``diagram_panel(application_id, label)``; ``static/diagram.js`` draws the diagram
with the vendored bpmn-js viewer from ``/diagram/applications/<id>.json`` (whose XML has a
generated layout when the procedure's file has none, see engine.diagram_layout) and marks the
active elements, the finished ones and the path taken. Colour is never the only cue: markers
carry a text badge and a dashed outline, and the panel says in words which step the
application is at (filled in from the same JSON, or from ``active_names`` without JavaScript).
"""

from __future__ import annotations

from flask import Blueprint, abort, jsonify, url_for
from flask_babel import gettext as _
from markupsafe import Markup, escape

from webui.admin.access import is_admin
from webui.auth import current_user, login_required
from webui.db import engine, transaction
from webui.ids import MAX_ID

blueprint = Blueprint("diagram", __name__, url_prefix="/diagram")

STYLESHEETS = ("vendor/bpmn-js/diagram-js.css", "vendor/bpmn-js/bpmn-js.css", "diagram.css")
SCRIPTS = ("vendor/bpmn-js/bpmn-viewer.production.min.js", "diagram.js")


@blueprint.get(f"/applications/<int(max={MAX_ID}):application_id>.json")
@login_required
def application_diagram(application_id: int):
    """Admins, and staff who may see one of the application's tasks (or manage a group it is
    offered to); everyone else gets the same 404 as for an application that does not exist."""
    user = current_user()
    with transaction() as session:
        if not (is_admin(user) or engine().may_see_application(session, application_id, user.name)):
            abort(404, description=_("There is no such application."))
        state = engine().diagram(session, application_id)
    response = jsonify(state.as_dict())
    response.headers["Cache-Control"] = "no-store"
    return response


def diagram_panel(application_id: int, label: str, active_names: list[str] | None = None) -> Markup:
    """The figure ``diagram.js`` fills in; ``active_names`` are read out without JavaScript."""
    base = f"diagram-{application_id}"
    names = ", ".join(str(escape(name)) for name in active_names or []) or "—"
    links = "".join(f'<link rel="stylesheet" href="{escape(url_for("static", filename=f))}">' for f in STYLESHEETS)
    scripts = "".join(f'<script src="{escape(url_for("static", filename=f))}" defer></script>' for f in SCRIPTS)
    url = url_for("diagram.application_diagram", application_id=application_id)
    # (strings kept out of the f-string below, where the catalogue's extractor would not see them)
    now, done, current = escape(_("Now")), escape(_("Done")), escape(_("Current step:"))
    now_key = escape(_("where the application is now: thick dashed outline"))
    done_key = escape(_("steps already done; the path taken is drawn thicker"))
    return Markup(
        f'<figure class="bpmn-diagram-figure" aria-labelledby="{base}-caption">{links}'
        f'<figcaption id="{base}-caption">{escape(label)}</figcaption>'
        f'<div class="bpmn-diagram" id="{base}" data-diagram-url="{escape(url)}"'
        f' data-label-current="{now}" data-label-done="{done}" aria-describedby="{base}-current"></div>'
        f'<div class="bpmn-diagram-legend">'
        f'<p id="{base}-current" class="bpmn-diagram-current"><strong>{current}</strong> '
        f'<span class="bpmn-diagram-names">{names}</span></p>'
        f'<ul class="bpmn-diagram-key">'
        f'<li><span class="madoguchi-badge">{now}</span> {now_key}</li>'
        f'<li><span class="madoguchi-badge madoguchi-badge-done">{done}</span> {done_key}</li>'
        f'</ul></div>{scripts}</figure>')


@blueprint.app_context_processor
def _panel_in_templates():
    return {"diagram_panel": diagram_panel}
