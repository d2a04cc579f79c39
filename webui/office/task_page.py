"""A task's page: the application (data, attachments, history) and what the task asks for —
the completion form of a diagram task, or the decision form of an approval route's task."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from engine.approvals.deadline import NEEDS_DEADLINE, TAKES_DEADLINE, today_in_japan
from engine.errors import MadoguchiError
from engine.office_actions import attachments_of
from webui.auth import current_user, login_required
from webui.db import engine, transaction
from webui.office import blueprint
from webui.office.feedback import refusal
from webui.office.form_fields import error_message, fields_of, read_submission
from webui.office.labels import decision_label, kind_label, task_status_label
from webui.office.presentation import data_rows, timeline


@dataclass(frozen=True)
class TaskFacts:
    """The task as the page needs it, read inside the transaction."""

    id: str
    application_id: int
    name: str
    kind: str
    status: str
    assignee: str | None
    candidate_groups: tuple[str, ...]
    candidate_users: tuple[str, ...]
    due_at: object
    created_at: object
    completed_by: str | None
    completed_at: object


def _facts(human) -> TaskFacts:
    return TaskFacts(human.id, human.application_id, human.name, human.kind, human.status, human.assignee,
                     tuple(human.candidate_groups or ()), tuple(human.candidate_users or ()), human.due_at,
                     human.created_at, human.completed_by, human.completed_at)


def _visible_task(session, task_id: str):
    """The task, if the signed-in user may see it — who may work on it, or a manager of one of
    its groups (403 otherwise, 404 if there is none)."""
    facade = engine()
    human = facade.task(session, task_id)
    user = current_user().name
    if not (facade.may_see_task(session, human.id, user) or facade.may_manage_task(session, human.id, user)):
        abort(403, description=_("Only the people who may work on this task can open it."))
    return human


def _render(task_id: str, *, status: int = 200, error: str | None = None, values=None,
            field_errors: dict[str, str] | None = None):
    user = current_user()
    facade = engine()
    with transaction() as session:
        task = _facts(_visible_task(session, task_id))
        view = facade.show(session, task.application_id).as_dict()
        schema = facade.task_form(session, task.id)
        choices = facade.route_choices(session, task.id)
        procedure_title = dict(facade.procedures(session)).get(view["procedure"])
        notes = [(c.created_at, c.author, c.body) for c in facade.comments(session, task.application_id)]
        manager = task.status == "open" and facade.may_manage_task(session, task.id, user.name)
        assignable = facade.assignable_people(session, task.id) if manager else []
    rows, _files = data_rows(view["data"], schema)
    files = attachments_of(view["data"])
    holder = user.name in task.candidate_users or bool(set(task.candidate_groups) & set(user.groups))
    page = render_template(
        "office/task.html", task=task, view=view, procedure_title=procedure_title, data_rows=rows, attachments=files,
        history=timeline(view, notes),
        manager=manager, assignable=assignable,
        fields=fields_of(schema) if task.kind == "task" else [], has_form=schema is not None, choices=choices,
        may_act=task.status == "open" and task.assignee in (None, user.name), holder=holder,
        may_recall=choices is not None and choices.last_sender == user.name,
        kind_label=kind_label, decision_label=decision_label, task_status_label=task_status_label,
        error=error, values=values or {}, field_errors=field_errors or {})
    return page, status


@blueprint.get("/tasks/<task_id>")
@login_required
def task(task_id: str):
    return _render(task_id)


@blueprint.post("/tasks/<task_id>/complete")
@login_required
def complete(task_id: str):
    """Complete a task of the diagram with its form's data, checked field by field first."""
    with transaction() as session:
        human = _visible_task(session, task_id)
        schema = engine().task_form(session, human.id)
        data, errors = read_submission(fields_of(schema), request.form)
        for problem in engine().task_form_errors(session, human.id, data):
            errors.setdefault(problem.field or "", error_message(problem))
    if errors:
        return _render(task_id, status=400, values=request.form, field_errors=errors,
                       error=_("Some fields need correcting; nothing was saved."))
    try:
        with transaction() as session:
            engine().complete(session, task_id, actor=current_user().name, data=data)
    except MadoguchiError as refused:
        message, status = refusal(refused)
        return _render(task_id, status=status, error=message, values=request.form)
    flash(_("The task is done."), "info")
    return redirect(url_for("office.task", task_id=task_id), code=303)


def _return_target(raw: str):
    """The ``to`` of a return: empty (the previous step), "drafter" or a step number."""
    if raw in ("", "drafter"):
        return raw or None
    if raw.isdigit():
        return int(raw)
    raise ValueError(raw)


def _deadline(raw: str, decision: str) -> tuple[date | None, str | None]:
    """(the return's deadline, or the translated reason it cannot be used)."""
    raw = raw.strip()
    if not raw:
        if decision in NEEDS_DEADLINE:
            return None, _("Give the day by which the applicant should answer.")
        return None, None
    if decision not in TAKES_DEADLINE:
        return None, _("A deadline goes only with a return: clear it, or choose a return.")
    try:
        day = date.fromisoformat(raw)
    except ValueError:
        return None, _("Write the deadline as a date (YYYY-MM-DD).")
    if day <= today_in_japan():
        return None, _("The deadline must be a day after today.")
    return day, None


@blueprint.post("/tasks/<task_id>/decide")
@login_required
def decide(task_id: str):
    """Decide on an approval route's task (approve, return with a reason, reject, consult …)."""
    with transaction() as session:
        human = _visible_task(session, task_id)
        choices = engine().route_choices(session, human.id)
    if choices is None:
        abort(400, description=_("This task takes no decision; complete it with its form."))
    decision = request.form.get("decision", "")
    comment = request.form.get("comment", "").strip()
    errors = {}
    if decision not in choices.decisions:
        errors["decision"] = _("Choose a decision.")
    elif decision in choices.need_reason and not comment:
        errors["comment"] = _("Give the reason: “%(decision)s” needs one.", decision=decision_label(decision))
    try:
        to = _return_target(request.form.get("to", "")) if decision == "return" else None
    except ValueError:
        errors["to"] = _("Choose an earlier step.")
    deadline, problem = _deadline(request.form.get("deadline", ""), decision)
    if problem and "decision" not in errors:
        errors["deadline"] = problem
    if errors:
        return _render(task_id, status=400, values=request.form, field_errors=errors,
                       error=_("The decision was not recorded; see the marked fields."))
    try:
        with transaction() as session:
            engine().decide(session, task_id, actor=current_user().name, decision=decision,
                            comment=comment or None, to=to, deadline=deadline)
    except MadoguchiError as refused:
        message, status = refusal(refused)
        return _render(task_id, status=status, error=message, values=request.form)
    flash(_("Your decision was recorded: %(decision)s.", decision=decision_label(decision)), "info")
    return redirect(url_for("office.task", task_id=task_id), code=303)


@blueprint.post("/tasks/<task_id>/recall")
@login_required
def recall(task_id: str):
    """引戻し: the last sender takes back the case of this task's route."""
    with transaction() as session:
        application_id = _visible_task(session, task_id).application_id
    try:
        with transaction() as session:
            engine().recall(session, application_id, actor=current_user().name)
    except MadoguchiError as refused:
        message, status = refusal(refused)
        return _render(task_id, status=status, error=message)
    flash(_("You recalled the case (引戻し). It is back in your task list."), "info")
    return redirect(url_for("office.tasks"), code=303)


@blueprint.post("/tasks/<task_id>/assign")
@login_required
def assign(task_id: str):
    """A manager of one of the task's groups assigns it to someone (or, with no one chosen, unassigns it)."""
    with transaction() as session:
        _visible_task(session, task_id)
    assignee = request.form.get("assignee", "").strip() or None
    try:
        with transaction() as session:
            engine().assign_task(session, task_id, assignee, actor=current_user().name)
    except MadoguchiError as refused:
        message, status = refusal(refused)
        return _render(task_id, status=status, error=message)
    flash(_("The task is now assigned to %(user)s.", user=assignee) if assignee
          else _("The task is no longer assigned to anyone."), "info")
    return redirect(url_for("office.task", task_id=task_id), code=303)


@blueprint.post("/tasks/<task_id>/comments")
@login_required
def comment(task_id: str):
    """A staff note on the application (the applicant never sees it)."""
    body = request.form.get("body", "")
    if not body.strip():
        return _render(task_id, status=400, values=request.form, field_errors={"body": _("Write the note first.")},
                       error=_("The note was not saved; see the marked field."))
    try:
        with transaction() as session:
            _visible_task(session, task_id)
            engine().add_comment(session, task_id, author=current_user().name, body=body)
    except MadoguchiError as refused:
        message, status = refusal(refused)
        return _render(task_id, status=status, error=message, values=request.form)
    flash(_("Your note was added to the history."), "info")
    return redirect(url_for("office.task", task_id=task_id, _anchor="history-heading"), code=303)
