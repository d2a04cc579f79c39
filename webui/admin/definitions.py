"""Procedures: the deployed definitions, uploading and deploying a diagram or bundle, the
files of one version and the differences between two versions."""

from __future__ import annotations

import tempfile
from pathlib import Path, PurePosixPath

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.exceptions import RequestEntityTooLarge

from engine.errors import DeployRefused
from webui.admin.access import admin_required, blueprint, is_admin
from webui.auth import current_user
from webui.db import engine, transaction
from webui.ids import MAX_ID

#: Name a nameless upload gets (the engine names the stored file after the upload).
FALLBACK_NAME = "process.bpmn"


def _procedures(session) -> list[dict]:
    """One row per procedure key: its versions, newest last, and the latest one's facts."""
    procedures: dict[str, dict] = {}
    for d in engine().definitions(session):
        row = procedures.setdefault(d.key, {"key": d.key, "versions": []})
        row["versions"].append(d.version)
        row.update(title=d.title, latest=d.version, created_at=d.created_at, deployed_by=d.deployed_by)
    return list(procedures.values())


def _definitions_page(status: int = 200, **context):
    with transaction() as session:
        procedures = _procedures(session)
    return render_template("admin/definitions.html", procedures=procedures, **context), status


@blueprint.get("/")
@admin_required
def definitions():
    return _definitions_page()


def upload_name(filename: str | None) -> str:
    """The uploaded file's own name without any folder part (browsers may send one), so the
    stored file is named as the admin named it; a nameless or hidden one gets a plain name."""
    name = PurePosixPath((filename or "").replace("\\", "/")).name.strip()
    if not name or name.startswith(".") or len(name) > 200:
        suffix = PurePosixPath(name).suffix.lower()
        return "bundle.zip" if suffix == ".zip" else FALLBACK_NAME
    return name


@blueprint.post("/deploy")
@admin_required
def deploy():
    upload = request.files.get("bundle")
    if upload is None or not upload.filename:
        flash(_("Choose a .bpmn file or a .zip bundle to deploy."), "error")
        return _definitions_page(400)
    name = upload_name(upload.filename)
    with tempfile.TemporaryDirectory(prefix="madoguchi-upload-") as folder:
        path = Path(folder) / name
        upload.save(path)
        try:
            with transaction() as session:
                result = engine().deploy(session, path, actor=current_user().name)
                key, version = result.definition.key, result.definition.version
        except DeployRefused as refused:
            return _definitions_page(422, problems=refused.problems, uploaded=name)
    if result.created:
        flash(_("Deployed %(key)s version %(version)s.", key=key, version=version), "info")
    else:
        flash(_("No change: this content is already deployed as %(key)s version %(version)s.",
                key=key, version=version), "info")
    return redirect(url_for("admin.version", key=key, version=version))


@blueprint.errorhandler(RequestEntityTooLarge)
def too_large(error):
    if not is_admin(current_user()):  # the body is refused before the view's own guard runs
        return render_template("error.html", status=413, message=error.description), 413
    limit = f"{request.max_content_length or engine().settings.max_upload_bytes:,}"
    flash(_("The file is larger than the upload limit of %(size)s bytes.", size=limit), "error")
    return _definitions_page(413)


@blueprint.get("/definitions/<key>")
@admin_required
def versions(key: str):
    with transaction() as session:
        found = engine().definition_versions(session, key)
        rows = [{"version": d.version, "title": d.title, "created_at": d.created_at, "deployed_by": d.deployed_by,
                 "content_hash": d.content_hash} for d in reversed(found)]
    return render_template("admin/versions.html", key=key, versions=rows)


@blueprint.get(f"/definitions/<key>/<int(max={MAX_ID}):version>")
@admin_required
def version(key: str, version: int):
    with transaction() as session:
        definition, files = engine().definition_version(session, key, version)
        versions = [d.version for d in engine().definition_versions(session, key)]
        facts = {"key": definition.key, "version": definition.version, "title": definition.title,
                 "process_id": definition.process_id, "created_at": definition.created_at,
                 "deployed_by": definition.deployed_by, "content_hash": definition.content_hash}
    return render_template("admin/version.html", definition=facts, files=files, versions=versions)


def _version_arg(name: str) -> int:
    value = request.args.get(name, "")
    if not value.isdigit():
        abort(400, description=_("Choose the two versions to compare."))
    return int(value)


@blueprint.get("/definitions/<key>/diff")
@admin_required
def diff(key: str):
    old, new = _version_arg("from"), _version_arg("to")
    with transaction() as session:
        versions = [d.version for d in engine().definition_versions(session, key)]
        files = engine().definition_diff(session, key, old, new)
    return render_template("admin/diff.html", key=key, old=old, new=new, files=files, versions=versions)
