"""Who may use the admin area: members of the group ``admin``; everybody else gets 403."""

from __future__ import annotations

from functools import wraps

from flask import Blueprint, abort

from webui.auth import current_user, login_required

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
