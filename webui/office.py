"""The office: approvers' task lists and tasks."""

from __future__ import annotations

from flask import Blueprint, render_template

from webui.auth import current_user, login_required
from webui.db import engine, transaction

blueprint = Blueprint("office", __name__, url_prefix="/office")


@blueprint.get("/")
@login_required
def tasks():
    user = current_user()
    with transaction() as session:
        rows = engine().tasks(session, user=user.name, limit=50)
    return render_template("office/tasks.html", tasks=rows)
