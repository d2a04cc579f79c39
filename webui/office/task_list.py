"""The task list: tabs (mine, my groups, delegated, overdue), filters, sort, pages; claiming and
approving in bulk."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from engine.errors import MadoguchiError
from engine.office_queries import ROUTE_KINDS, SORTS, TABS, TaskFilters
from engine.scripting.namespace import JST
from engine.store.models import utcnow
from webui.auth import current_user, login_required
from webui.db import engine, transaction
from webui.office import blueprint
from webui.office.feedback import back_to, explain, refusal_lead
from webui.office.labels import kind_label, tab_label

PER_PAGE = 50
KINDS = ("task", *ROUTE_KINDS)


@dataclass(frozen=True)
class ListArgs:
    """The list's query string, read leniently: an unknown value falls back to the default."""

    tab: str = "mine"
    procedure: str = ""
    kind: str = ""
    due_before: str = ""
    text: str = ""
    sort: str = "received"
    page: int = 1

    @classmethod
    def from_query(cls, args) -> ListArgs:
        tab = args.get("tab", "mine")
        sort = args.get("sort", "received")
        kind = args.get("kind", "")
        try:
            page = max(1, int(args.get("page", "1")))
        except ValueError:
            page = 1
        return cls(tab=tab if tab in TABS else "mine", procedure=args.get("procedure", "").strip()[:200],
                   kind=kind if kind in KINDS else "", due_before=args.get("due_before", "").strip(),
                   text=args.get("text", "").strip()[:200], sort=sort if sort in SORTS else "received", page=page)

    def due_limit(self) -> datetime | None:
        """Due on or before the given day (in Japan time): before the next day's midnight."""
        if not self.due_before:
            return None
        day = date.fromisoformat(self.due_before)
        return datetime.combine(day + timedelta(days=1), time(), tzinfo=JST)

    def filters(self) -> TaskFilters:
        return TaskFilters(procedure=self.procedure or None, kind=self.kind or None, due_before=self.due_limit(),
                           text=self.text or None)

    def query(self, **changes) -> dict:
        """The query string of this list with ``changes``, without empty or default values."""
        values = replace(self, **changes).__dict__
        defaults = ListArgs().__dict__
        return {k: v for k, v in values.items() if v not in ("", None) and v != defaults[k]}


@blueprint.get("/")
@login_required
def tasks():
    args = ListArgs.from_query(request.args)
    error = None
    try:
        filters = args.filters()
    except ValueError:
        error = _("Enter the due date as YYYY-MM-DD.")
        args = replace(args, due_before="")
        filters = args.filters()
    with transaction() as session:
        page = engine().office_tasks(session, user=current_user().name, tab=args.tab, filters=filters,
                                     sort=args.sort, page=args.page, per_page=PER_PAGE)
        procedures = engine().procedures(session)
        approvable = engine().bulk_approvable(session, [row.id for row in page.rows])
        manages = bool(engine().managed_groups(session, current_user().name))
    return render_template("office/tasks.html", page=page, tasks=page.rows, args=args, tabs=TABS,
                           tab_label=tab_label, kinds=KINDS, kind_label=kind_label, procedures=procedures,
                           sorts=SORTS, filter_error=error, now=utcnow(), approvable=approvable,
                           manages=manages)


@blueprint.post("/tasks/<task_id>/claim")
@login_required
def claim(task_id: str):
    return _assign(task_id, claiming=True)


@blueprint.post("/tasks/<task_id>/unclaim")
@login_required
def unclaim(task_id: str):
    return _assign(task_id, claiming=False)


def _assign(task_id: str, *, claiming: bool):
    user = current_user().name
    try:
        with transaction() as session:
            if claiming:
                human = engine().claim(session, task_id, actor=user)
            else:
                human = engine().unclaim(session, task_id, actor=user)
            name = human.name
    except MadoguchiError as error:
        flash(explain(error), "error")
    else:
        flash(_("You took on “%(task)s”.", task=name) if claiming else _("You released “%(task)s”.", task=name),
              "info")
    return redirect(back_to(url_for("office.tasks")), code=303)


@blueprint.post("/claim")
@login_required
def bulk_claim():
    """Claim every ticked task; each in its own transaction, so one refusal does not undo the rest."""
    user = current_user().name
    claimed, refused = 0, []
    for task_id in dict.fromkeys(request.form.getlist("task_id")):
        try:
            with transaction() as session:
                engine().claim(session, task_id, actor=user)
            claimed += 1
        except MadoguchiError as error:
            refused.append(explain(error))
    if not claimed and not refused:
        flash(_("Tick the tasks you want to take on first."), "error")
    if claimed:
        flash(_("Tasks taken on: %(num)d.", num=claimed), "info")
    for message in refused:
        flash(message, "error")
    return redirect(back_to(url_for("office.tasks")), code=303)


@blueprint.post("/approve")
@login_required
def bulk_approve():
    """Approve every ticked task whose procedure allows it: each its own step and signed record,
    so one refusal leaves the others approved. The answer lists every task's outcome."""
    task_ids = list(dict.fromkeys(request.form.getlist("task_id")))
    if not task_ids:
        flash(_("Tick the tasks you want to approve first."), "error")
        return redirect(back_to(url_for("office.tasks")), code=303)
    comment = request.form.get("comment", "").strip()[:2000] or None
    outcomes = engine().approve_many(task_ids, actor=current_user().name, comment=comment)
    approved = sum(1 for outcome in outcomes if outcome.approved)
    return render_template("office/bulk_result.html", outcomes=outcomes, approved=approved,
                           refused=len(outcomes) - approved, back=back_to(url_for("office.tasks")),
                           refusal_lead=refusal_lead)
