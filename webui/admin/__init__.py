"""Administration: procedures (upload, deploy, versions, diffs), the applications cockpit
with incidents, staff users and absences (代決), and the installed plugins.

Every view is guarded by ``admin_required``; the view modules register themselves on the
one ``admin`` blueprint when imported here.
"""

from __future__ import annotations

from webui.admin import applications, definitions, people, plugins, tokens  # noqa: F401  (register the views)
from webui.admin.access import ADMIN_GROUP, admin_required, blueprint, is_admin

__all__ = ["ADMIN_GROUP", "admin_required", "blueprint", "is_admin"]
