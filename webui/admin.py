"""Administration: procedures (definitions and their versions)."""

from __future__ import annotations

from functools import wraps

from flask import Blueprint, abort, render_template

from webui.auth import current_user, login_required
from webui.db import engine, transaction

blueprint = Blueprint("admin", __name__, url_prefix="/admin")

#: Members of this group may use the admin area.
ADMIN_GROUP = "admin"


def is_admin(user) -> bool:
    return user is not None and ADMIN_GROUP in user.groups


def admin_required(view):
    @wraps(view)
    @login_required
    def wrapper(*args, **kwargs):
        if not is_admin(current_user()):
            abort(403, description="This page is for administrators (group admin).")
        return view(*args, **kwargs)

    return wrapper


@blueprint.app_context_processor
def _admin_in_templates():
    return {"is_admin": lambda: is_admin(current_user())}


@blueprint.get("/")
@admin_required
def definitions():
    with transaction() as session:
        rows = [{"key": d.key, "version": d.version, "title": d.title, "created_at": d.created_at,
                 "deployed_by": d.deployed_by} for d in engine().definitions(session)]
    return render_template("admin/definitions.html", definitions=rows)
