"""The open tasks of the groups a manager manages: where they find the tasks to assign."""

from __future__ import annotations

from flask import render_template

from webui.auth import current_user, login_required
from webui.db import engine, transaction
from webui.office import blueprint
from webui.office.labels import kind_label

#: Tasks shown per group (oldest first); the rest follow as earlier ones are assigned and done.
PER_GROUP = 100


@blueprint.get("/team")
@login_required
def team():
    facade = engine()
    with transaction() as session:
        groups = sorted(facade.managed_groups(session, current_user().name))
        tasks = {group: facade.tasks(session, group=group, limit=PER_GROUP) for group in groups}
    return render_template("office/team.html", groups=groups, tasks=tasks, kind_label=kind_label,
                           per_group=PER_GROUP)
