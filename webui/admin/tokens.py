"""API tokens for integrators: list, create (the secret is shown on the answer page only),
revoke (docs/api.md)."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from engine.api_tokens import SCOPES, token_dict
from engine.errors import BadInput, Conflict, NotFound
from webui.admin.access import admin_required, blueprint
from webui.auth import current_user
from webui.db import engine, transaction

#: Lifetimes offered by the form ("" = until revoked).
LIFETIMES = ("30d", "90d", "365d", "")


def _tokens_page(status: int = 200, form: dict | None = None, created: dict | None = None):
    with transaction() as session:
        tokens = [token_dict(row) for row in engine().api_tokens(session)]
        users = [user.name for user, _groups in engine().users(session)]
    response = render_template("admin/tokens.html", tokens=tokens, users=users, scopes=SCOPES, lifetimes=LIFETIMES,
                               form=form or {"scopes": []}, created=created)
    # The page may carry a token's secret: never keep it in a cache.
    return response, status, {"Cache-Control": "no-store"}


@blueprint.get("/tokens")
@admin_required
def tokens():
    return _tokens_page()


@blueprint.post("/tokens")
@admin_required
def create_token():
    form = {"name": request.form.get("name", "").strip(), "user": request.form.get("user", "").strip(),
            "scopes": request.form.getlist("scopes"), "expires": request.form.get("expires", "")}
    if form["expires"] not in LIFETIMES:
        form["expires"] = "90d"
    try:
        with transaction() as session:
            row, secret = engine().create_api_token(session, name=form["name"], user=form["user"],
                                                    scopes=form["scopes"], expires=form["expires"] or None,
                                                    actor=current_user().name)
            created = {**token_dict(row), "secret": secret}
    except (BadInput, Conflict) as error:
        flash(str(error), "error")
        return _tokens_page(409 if isinstance(error, Conflict) else 400, form)
    return _tokens_page(201, created=created)


@blueprint.post("/tokens/<name>/revoke")
@admin_required
def revoke_token(name: str):
    try:
        with transaction() as session:
            engine().revoke_api_token(session, name, actor=current_user().name)
    except NotFound as error:
        flash(str(error), "error")
        return _tokens_page(404)
    flash(_("Token %(name)s was revoked.", name=name), "info")
    return redirect(url_for("admin.tokens"))
