"""Staff users with their groups and the groups they manage (assigning the group's tasks), and
absences with the substitute who decides for the absent person (代決者)."""

from __future__ import annotations

from datetime import datetime

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from engine.errors import BadInput, NotFound
from engine.scripting.namespace import JST
from webui.admin.access import admin_required, blueprint
from webui.auth import current_user
from webui.db import engine, transaction
from webui.ids import MAX_ID

#: Shortest initial password accepted: long enough that the sign-in throttle makes guessing hopeless.
MIN_PASSWORD_LENGTH = 12


def _users_page(status: int = 200, form: dict | None = None):
    with transaction() as session:
        rows = [{"name": user.name, "display_name": user.display_name, "groups": groups,
                 "created_at": user.created_at} for user, groups in engine().users(session)]
        managers = engine().group_managers(session)
    managed: dict[str, list[str]] = {}
    for group, user in managers:
        managed.setdefault(user, []).append(group)
    groups = sorted({g for row in rows for g in row["groups"]})
    return render_template("admin/users.html", users=rows, form=form or {}, managers=managers, managed=managed,
                           groups=groups, min_password_length=MIN_PASSWORD_LENGTH), status


@blueprint.get("/users")
@admin_required
def users():
    return _users_page()


def split_groups(text: str) -> list[str]:
    """Groups typed as "a, b" or "a b" or one per line."""
    return sorted({part for part in text.replace(",", " ").replace("、", " ").split() if part})


@blueprint.post("/users")
@admin_required
def add_user():
    form = {name: request.form.get(name, "").strip() for name in ("name", "display_name", "groups")}
    password = request.form.get("password", "")
    if len(password) < MIN_PASSWORD_LENGTH:
        flash(_("The initial password needs at least %(count)s characters.", count=MIN_PASSWORD_LENGTH), "error")
        return _users_page(400, form)
    try:
        with transaction() as session:
            exists = engine().staff_user(session, form["name"]) is not None
            if not exists:
                engine().add_user(session, form["name"], groups=split_groups(form["groups"]), password=password,
                                  display_name=form["display_name"] or None, actor=current_user().name)
    except BadInput as error:
        flash(str(error), "error")
        return _users_page(400, form)
    if exists:  # adding must not silently reset somebody's password and groups
        flash(_("There is already a user %(name)s.", name=form["name"]), "error")
        return _users_page(409, form)
    flash(_("User %(name)s was added.", name=form["name"]), "info")
    return redirect(url_for("admin.users"))


def _absences_page(status: int = 200, form: dict | None = None):
    with transaction() as session:
        rows = engine().absences(session)
        names = [user.name for user, _groups in engine().users(session)]
        return render_template("admin/absences.html", absences=rows, names=names, form=form or {}), status


@blueprint.get("/absences")
@admin_required
def absences():
    return _absences_page()


def japan_time(text: str) -> datetime:
    """A ``datetime-local`` field's value (no zone; staff mean Japan time) as an aware time."""
    moment = datetime.fromisoformat(text)
    return moment.replace(tzinfo=JST) if moment.tzinfo is None else moment


@blueprint.post("/absences")
@admin_required
def add_absence():
    form = {name: request.form.get(name, "").strip() for name in ("user", "starts_at", "ends_at", "substitute",
                                                                  "reason")}
    try:
        starts_at, ends_at = japan_time(form["starts_at"]), japan_time(form["ends_at"])
    except ValueError:
        flash(_("Enter when the absence starts and ends."), "error")
        return _absences_page(400, form)
    try:
        with transaction() as session:
            engine().add_absence(session, form["user"], starts_at, ends_at, substitute=form["substitute"] or None,
                                 reason=form["reason"] or None, actor=current_user().name)
    except BadInput as error:
        flash(str(error), "error")
        return _absences_page(400, form)
    flash(_("The absence of %(name)s was added.", name=form["user"]), "info")
    return redirect(url_for("admin.absences"))


@blueprint.post(f"/absences/<int(max={MAX_ID}):absence_id>/remove")
@admin_required
def remove_absence(absence_id: int):
    with transaction() as session:
        engine().remove_absence(session, absence_id, actor=current_user().name)
    flash(_("The absence was removed."), "info")
    return redirect(url_for("admin.absences"))


@blueprint.post("/managers")
@admin_required
def add_manager():
    """Make a user a manager of a group: they may then assign the group's tasks."""
    group, user = request.form.get("group", "").strip(), request.form.get("user", "").strip()
    try:
        with transaction() as session:
            engine().add_group_manager(session, group, user, actor=current_user().name)
    except BadInput as error:
        flash(str(error), "error")
        return _users_page(400)
    flash(_("%(user)s now manages %(group)s.", user=user, group=group), "info")
    return redirect(url_for("admin.users"))


@blueprint.post("/managers/remove")
@admin_required
def remove_manager():
    group, user = request.form.get("group", "").strip(), request.form.get("user", "").strip()
    try:
        with transaction() as session:
            engine().remove_group_manager(session, group, user, actor=current_user().name)
    except (BadInput, NotFound) as error:
        flash(str(error), "error")
        return _users_page(400)
    flash(_("%(user)s no longer manages %(group)s.", user=user, group=group), "info")
    return redirect(url_for("admin.users"))
