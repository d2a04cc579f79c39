"""Portal views: the procedure catalogue — search, browsing, and a page per procedure.

Plain GET forms and links: everything works without JavaScript.
"""

from __future__ import annotations

from flask import abort, current_app, render_template, request
from flask_babel import get_locale
from werkzeug.exceptions import HTTPException

from engine.errors import NotFound
from webui.db import engine, transaction
from webui.portal import blueprint

PAGE_SIZE = 20
FILTERS = ("category", "life_event", "department")


@blueprint.app_context_processor
def _endpoint_check():
    """``has_endpoint(name)`` for templates: show a link only when its page exists."""
    return {"has_endpoint": lambda name: name in current_app.view_functions}


def apply_path(slug: str) -> str | None:
    """Where an on-line procedure is started, when this app serves that page (forms)."""
    path = f"/procedures/{slug}/apply"
    adapter = current_app.url_map.bind("localhost")
    try:
        endpoint, _ = adapter.match(path, method="GET")
    except HTTPException:
        return None
    return path if endpoint != "portal.procedure" else None


def _page_number() -> int:
    try:
        return max(1, int(request.args.get("page", "1")))
    except ValueError:
        return 1


@blueprint.get("/")
def home():
    query = request.args.get("q", "").strip()[:200]
    filters = {name: request.args.get(name, "").strip()[:200] or None for name in FILTERS}
    page = _page_number()
    searching = bool(query) or any(filters.values())
    with transaction() as session:
        facets = engine().catalogue_facets(session)
        result = (engine().catalogue_search(session, query, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE,
                                            **filters) if searching else None)
        procedures = [_listed(p) for p in result.procedures] if result else []
    pages = max(1, -(-result.total // PAGE_SIZE)) if result else 1
    return render_template("portal/home.html", query=query, filters=filters, facets=facets, result=result,
                           procedures=procedures, page=page, pages=pages, searching=searching)


@blueprint.get("/procedures/<slug>")
def procedure(slug: str):
    with transaction() as session:
        try:
            found = engine().catalogue_procedure(session, slug)
        except NotFound:
            abort(404)
        deployed = engine().catalogue_is_deployed(session, found)
        related = [_listed(p) for p in engine().catalogue_related(session, found)]
        shown = _summary(found)
    return render_template("portal/procedure.html", procedure=shown, related=related,
                           apply_url=apply_path(slug) if deployed else None, deployed=deployed)


def _listed(procedure) -> dict:
    """What a list of procedures shows of one, in the reader's language where it is given."""
    english = str(get_locale()) == "en"
    return {
        "slug": procedure.slug,
        "name": (procedure.name_en if english and procedure.name_en else procedure.name_ja),
        "name_ja": procedure.name_ja,
        "summary": (procedure.summary_en if english and procedure.summary_en else procedure.summary_ja),
        "category": procedure.category,
        "department": procedure.department,
        "channel": procedure.channel,
    }


def _summary(procedure) -> dict:
    """What the procedure page shows."""
    return {
        **_listed(procedure),
        "reading": procedure.reading,
        "life_events": list(procedure.life_events or ()),
        "keywords": list(procedure.keywords or ()),
        "documents": list(procedure.documents or ()),
        "fees": list(procedure.fees or ()),
        "identity_level": procedure.identity_level,
        "external_url": procedure.external_url,
        "external_name": procedure.external_name,
        "counter": procedure.counter,
    }
