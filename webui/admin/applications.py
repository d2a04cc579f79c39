"""The applications cockpit: search applications, look into one (diagram, data, tasks, jobs,
history, approval routes, decisions, incidents), retry a failed job, cancel an application or
move it to a newer version of its procedure after a preview."""

from __future__ import annotations

import json

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from engine.errors import BadInput, Conflict, NotFound
from webui.admin.access import admin_required, blueprint
from webui.auth import current_user
from webui.db import engine, transaction
from webui.ids import MAX_ID

PER_PAGE = 50
SEARCH_FIELDS = ("reference", "procedure", "status", "started_by")


def _page_number() -> int:
    value = request.args.get("page", "1")
    return int(value) if value.isdigit() and int(value) > 0 else 1


@blueprint.app_template_filter("admin_json")
def readable_json(value, indent: int | None = None) -> str:
    """JSON as staff read it: Japanese left as it is (not \\u escapes), keys sorted."""
    return json.dumps(value, ensure_ascii=False, indent=indent, sort_keys=True, default=str)


@blueprint.get("/applications")
@admin_required
def applications():
    search = {name: request.args.get(name, "").strip() for name in SEARCH_FIELDS}
    with transaction() as session:
        found = engine().search_applications(session, page=_page_number(), per_page=PER_PAGE,
                                             **{name: value or None for name, value in search.items()})
        procedures = engine().procedures(session)
        statuses = engine().application_statuses(session)
    query = {name: value for name, value in search.items() if value}  # kept by the page links
    return render_template("admin/applications.html", found=found, search=search, query=query,
                           procedures=procedures, statuses=statuses)


@blueprint.get(f"/applications/<int(max={MAX_ID}):application_id>")
@admin_required
def application(application_id: int):
    return _application_page(application_id, migrate_to=request.args.get("migrate_to", ""))


def _application_page(application_id: int, *, migrate_to: str = "", errors: dict | None = None,
                      reason: str = "", status: int = 200):
    """The instance page; ``migrate_to`` (a version) adds the migration preview, ``errors`` are
    shown beside the field they concern (``reason``, ``to_version``)."""
    errors = dict(errors or {})
    with transaction() as session:
        view = engine().show(session, application_id)
        jobs = engine().application_jobs(session, application_id)
        running = view.application.completed_at is None
        newer = engine().newer_versions(session, application_id) if running else []
        preview = None
        if running and migrate_to:
            if not migrate_to.isdigit():
                errors["to_version"] = _("Choose a version number.")
            else:
                try:
                    preview = engine().migration_preview(session, application_id, int(migrate_to))
                except (BadInput, Conflict, NotFound) as problem:
                    errors["to_version"] = str(problem)
        tasks = [t for t in view.tasks if t.status == "open"]
        page = {
            "application": view.application, "definition": view.definition,
            "data_json": readable_json(view.data, indent=2), "tasks": tasks, "history": view.history,
            "incidents": view.incidents, "routes": view.routes, "decisions": view.decisions, "jobs": jobs,
            "running": running, "newer_versions": newer, "preview": preview, "errors": errors,
            "reason": reason, "migrate_to": migrate_to, "active_names": [t.name for t in tasks],
        }
        return render_template("admin/application.html", **page), status


@blueprint.post(f"/applications/<int(max={MAX_ID}):application_id>/cancel")
@admin_required
def cancel_application(application_id: int):
    reason = request.form.get("reason", "").strip()
    if not reason:
        return _application_page(application_id, errors={"reason": _("Say why the application is cancelled.")},
                                 status=400)
    try:
        with transaction() as session:
            result = engine().cancel_application(session, application_id, actor=current_user().name, reason=reason)
            reference = result.application.reference
    except (BadInput, Conflict) as problem:
        return _application_page(application_id, errors={"reason": str(problem)}, reason=reason, status=409)
    flash(_("Application %(reference)s was cancelled.", reference=reference), "info")
    return redirect(url_for("admin.application", application_id=application_id))


@blueprint.post(f"/applications/<int(max={MAX_ID}):application_id>/migrate")
@admin_required
def migrate_application(application_id: int):
    to_version = request.form.get("to_version", "")
    if not to_version.isdigit():
        return _application_page(application_id, errors={"to_version": _("Choose a version number.")}, status=400)
    try:
        with transaction() as session:
            preview, _result = engine().migrate_application(session, application_id, to_version=int(to_version),
                                                            actor=current_user().name)
    except (BadInput, Conflict, NotFound) as problem:
        return _application_page(application_id, migrate_to=to_version, errors={"to_version": str(problem)},
                                 status=409)
    flash(_("Application %(reference)s now runs version %(version)s.", reference=preview.reference,
            version=preview.to_version), "info")
    return redirect(url_for("admin.application", application_id=application_id))


@blueprint.get("/incidents")
@admin_required
def incidents():
    with transaction() as session:
        rows = engine().incidents(session)
        return render_template("admin/incidents.html", incidents=rows)


@blueprint.post(f"/incidents/<int(max={MAX_ID}):incident_id>/retry")
@admin_required
def retry_incident(incident_id: int):
    try:
        with transaction() as session:
            incident = engine().retry_incident(session, incident_id, actor=current_user().name)
            application_id = incident.application_id
    except Conflict as conflict:
        # someone else retried or resolved it meanwhile: say so on the page it came from
        flash(str(conflict), "error")
        return redirect(_back())
    flash(_("Incident %(id)s: the job runs again.", id=incident_id), "info")
    if application_id is not None:
        return redirect(url_for("admin.application", application_id=application_id))
    return redirect(url_for("admin.incidents"))


def _back() -> str:
    target = request.form.get("next") or ""
    return target if target.startswith("/") and not target.startswith("//") else url_for("admin.incidents")
