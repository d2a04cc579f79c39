"""/api/v1/tasks: the token user's open tasks; claim and complete them as that user.

A task the token's user may not see answers 404 exactly as a task that does not exist, so
task ids cannot be probed (the same rule as the office pages).
"""

from __future__ import annotations

from flask_smorest import Blueprint

from engine.errors import NotFound
from webui.api import problems
from webui.api.auth import current_grant, requires
from webui.api.problems import MEDIA_TYPE as PROBLEM
from webui.api.problems import problem
from webui.api.schemas import (
    ApplicationDetail,
    ProblemSchema,
    TaskCompletion,
    TaskPage,
    TaskQuery,
    TaskSchema,
)
from webui.api.shapes import application_detail
from webui.db import engine, transaction

blueprint = Blueprint("api_tasks", __name__, url_prefix="/api/v1/tasks",
                      description="Human tasks, worked as the token's staff user")
problems.register(blueprint)


def _visible_task(session, task_id: str, user: str):
    # One message for "none" and "not yours", so that the answer says nothing about other tasks.
    hidden = NotFound(f"task {task_id} does not exist")
    try:
        if len(task_id) > 36 or not engine().may_see_task(session, task_id, user):
            raise hidden
    except NotFound:
        raise hidden from None
    return engine().task(session, task_id)


@blueprint.route("", methods=["GET"])
@requires(blueprint, "tasks:read")
@blueprint.arguments(TaskQuery, location="query")
@blueprint.response(200, TaskPage)
@blueprint.alt_response(403, schema=ProblemSchema, content_type=PROBLEM, description="The group is not one of the token user's")
def list_tasks(query: dict):
    """Open tasks the token's user may work on (oldest first), or those offered to one of
    their groups (``group``)."""
    user = current_grant().user
    with transaction() as session:
        group = query.get("group")
        if group is not None:
            staff = engine().staff_user(session, user)
            if staff is None or group not in staff.groups:
                return problem(403, f"{user} is not a member of group {group!r}; list only your own groups' tasks")
            rows = engine().tasks(session, group=group, limit=query["limit"], offset=query["offset"])
        else:
            rows = engine().tasks(session, user=user, limit=query["limit"], offset=query["offset"])
        return {"items": [row.as_dict() for row in rows], "limit": query["limit"], "offset": query["offset"]}


@blueprint.route("/<task_id>/claim", methods=["POST"])
@requires(blueprint, "tasks:write")
@blueprint.response(200, TaskSchema)
@blueprint.alt_response(404, schema=ProblemSchema, content_type=PROBLEM, description="No such task, or not one for the token's user")
@blueprint.alt_response(409, schema=ProblemSchema, content_type=PROBLEM, description="Claimed by somebody else meanwhile")
def claim(task_id: str):
    """Claim the task for the token's user."""
    grant = current_grant()
    with transaction() as session:
        _visible_task(session, task_id, grant.user)
        human = engine().claim(session, task_id, actor=grant.user)
        engine().record_api_action(session, grant, operation="tasks.claim", application_id=human.application_id,
                                   task_id=task_id)
        return next(row.as_dict() for row in engine().tasks(session, application_id=human.application_id, limit=500)
                    if row.id == task_id)


@blueprint.route("/<task_id>/complete", methods=["POST"])
@requires(blueprint, "tasks:write")
@blueprint.arguments(TaskCompletion)
@blueprint.response(200, ApplicationDetail)
@blueprint.alt_response(404, schema=ProblemSchema, content_type=PROBLEM, description="No such task, or not one for the token's user")
@blueprint.alt_response(422, schema=ProblemSchema, content_type=PROBLEM, description="The data does not satisfy the task's form")
def complete(body: dict, task_id: str):
    """Complete the task with ``data``; an approval route's task takes a ``decision``
    (approve, return, reject …, with ``comment`` and, for a return, ``to`` and ``deadline``)."""
    grant = current_grant()
    with transaction() as session:
        human = _visible_task(session, task_id, grant.user)
        if human.kind != "task":
            if "decision" not in body:
                return problem(422, f"task {task_id} is an approval-route task ({human.kind}): send a decision",
                               errors=[{"field": "decision", "rule": "required", "message": "a decision is required"}])
            engine().decide(session, task_id, actor=grant.user, decision=body["decision"],
                            comment=body.get("comment"), to=body.get("to"), data=body["data"],
                            deadline=body.get("deadline"))
        else:
            failures = engine().task_form_errors(session, task_id, body["data"])
            if failures:
                return problem(422, f"the data does not satisfy the form of task {task_id}; see errors",
                               errors=[{"field": f.field, "rule": f.rule, "message": f.message} for f in failures])
            engine().complete(session, task_id, actor=grant.user, data=body["data"])
        engine().record_api_action(session, grant, operation="tasks.complete", application_id=human.application_id,
                                   task_id=task_id)
        return application_detail(session, human.application_id)
