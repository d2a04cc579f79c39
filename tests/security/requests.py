"""Concrete requests for the app's routes, derived from its url_map: every argument filled with
a real value of the residents' world, so that a request not refused would really act."""

from __future__ import annotations

from tests.webui.portal_apply_support import ANSWERS, KEY, SLUG

UNSAFE = ("POST", "PUT", "PATCH", "DELETE")
#: What a form would carry if it were meant to act: enough for any of the site's forms.
FORM = {**ANSWERS, "action": "submit", "reason": "取り下げます", "comment": "確認しました", "decision": "approve",
        "name": "intruder", "email": "intruder@example.jp", "password": "intruder-password-1",
        "new_password": "intruder-password-2", "group": "admin", "user": "intruder", "lang": "en",
        "scopes": "applications:read", "assignee": "tanaka", "task_ids": "1", "version": "1"}


def argument_values(world: dict) -> dict[str, str]:
    """Every route argument name the app uses, and the value to put there."""
    return {"application_id": world["application_id"], "draft_id": world["draft_id"], "task_id": world["task_id"],
            "sha256": "0" * 64, "incident_id": 1, "absence_id": 1, "key": KEY, "version": 1, "name": "apply",
            "public_id": world["public_id"], "reference": world["reference"], "payment_reference": "P-1",
            "upload_id": world["upload_id"], "slug": SLUG, "token": "t" * 40, "provider": "dev",
            "document_id": world["public_id"], "filename": "app.css"}


def concrete(app, world: dict, *, methods=None, where=lambda rule: True) -> list[tuple[str, str, str]]:
    """(endpoint, method, path) for every route ``where`` keeps, each unsafe or GET method."""
    values = argument_values(world)
    found = []
    for rule in app.url_map.iter_rules():
        if not where(rule):
            continue
        missing = set(rule.arguments) - set(values)
        assert not missing, f"{rule.rule}: give tests/security/requests.py a value for {sorted(missing)}"
        path = rule.build({name: values[name] for name in rule.arguments}, append_unknown=False)[1]
        for method in sorted(rule.methods & set(methods or ("GET", *UNSAFE))):
            found.append((rule.endpoint, method, path))
    return found
