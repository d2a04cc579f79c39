"""The installed plugins: their hooks and settings (secret values stay masked, as the engine
reports them)."""

from __future__ import annotations

from flask import render_template

from webui.admin.access import admin_required, blueprint
from webui.db import engine


@blueprint.get("/plugins")
@admin_required
def plugins():
    return render_template("admin/plugins.html", plugins=engine().plugins())
