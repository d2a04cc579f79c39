"""/api/v1/applications: start an application, list them, read one."""

from __future__ import annotations

from flask_smorest import Blueprint

from webui.api import problems
from webui.api.auth import current_grant, requires
from webui.api.problems import MEDIA_TYPE as PROBLEM
from webui.api.problems import problem
from webui.api.schemas import (
    ApplicationCreate,
    ApplicationDetail,
    ApplicationPage,
    ApplicationQuery,
    ApplicationWithdrawal,
    ProblemSchema,
)
from webui.api.shapes import application_detail, application_summary, stored_id
from webui.db import engine, transaction

blueprint = Blueprint("api_applications", __name__, url_prefix="/api/v1/applications",
                      description="Applications: start one of a procedure, list, read, withdraw")
problems.register(blueprint)


@blueprint.route("", methods=["POST"])
@requires(blueprint, "applications:write")
@blueprint.arguments(ApplicationCreate)
@blueprint.response(201, ApplicationDetail)
@blueprint.alt_response(404, schema=ProblemSchema, content_type=PROBLEM, description="No such procedure")
@blueprint.alt_response(422, schema=ProblemSchema, content_type=PROBLEM, description="The data does not satisfy the procedure's form")
def create(body: dict):
    """Start an application of a procedure with its data.

    When the procedure's start event names a form (``formKey``), the data must satisfy it;
    otherwise the answer is 422 with one entry per failing field in ``errors``. Text must keep
    to JIS X 0208 (the form's text fields, or every top-level text value without a form): a
    field outside it is an entry with the rule ``jis`` and its ``characters``, each with its
    code point and a ``suggestion`` where one exists. Half-width katakana are stored full-width."""
    grant = current_grant()
    with transaction() as session:
        # {"upload": id} → the token's finished upload (docs/api.md, "Uploads").
        data = engine().attach_uploads(session, body["data"], f"token:{grant.token_id}")
        data, outside = engine().procedure_text_problems(session, body["procedure"], data)
        failures = engine().procedure_form_errors(session, body["procedure"], data)
        if failures or outside:
            return problem(422, f"the data does not satisfy the form of {body['procedure']!r}; see errors",
                           errors=[{"field": f.field, "rule": f.rule, "message": f.message} for f in failures]
                           + [_jis_error(p) for p in outside])
        result = engine().start(session, body["procedure"], data=data, actor=grant.user)
        application_id = result.application.id
        engine().record_api_action(session, grant, operation="applications.create", application_id=application_id)
        return application_detail(session, application_id)


@blueprint.route("", methods=["GET"])
@requires(blueprint, "applications:read")
@blueprint.arguments(ApplicationQuery, location="query")
@blueprint.response(200, ApplicationPage)
def list_applications(query: dict):
    """Applications, newest first, by procedure, status and creation time."""
    with transaction() as session:
        listing = engine().list_applications(session, procedure=query.get("procedure"), status=query.get("status"),
                                             since=query.get("since"), limit=query["limit"], offset=query["offset"])
        return {"items": [application_summary(a, key) for a, key in listing.items], "total": listing.total,
                "limit": query["limit"], "offset": query["offset"]}


@blueprint.route("/<int:application_id>", methods=["GET"])
@requires(blueprint, "applications:read")
@blueprint.response(200, ApplicationDetail)
@blueprint.alt_response(404, schema=ProblemSchema, content_type=PROBLEM, description="No such application")
def get(application_id: int):
    """One application: status, reference, data, open tasks and issued documents."""
    with transaction() as session:
        return application_detail(session, stored_id(application_id, "application"))


@blueprint.route("/<int:application_id>/withdraw", methods=["POST"])
@requires(blueprint, "applications:write")
@blueprint.arguments(ApplicationWithdrawal)
@blueprint.response(200, ApplicationDetail)
@blueprint.alt_response(404, schema=ProblemSchema, content_type=PROBLEM, description="No such application")
@blueprint.alt_response(409, schema=ProblemSchema, content_type=PROBLEM,
                        description="The application has ended, or its procedure does not allow 取下げ")
def withdraw(body: dict, application_id: int):
    """Withdraw (取下げ) a running application, with the reason.

    The portal's rules apply: the procedure must allow it (``[portal] withdraw = true`` in its
    manifest) and the application must not have ended; otherwise 409. Open tasks, jobs and timers
    end; the status becomes ``withdrawn``."""
    with transaction() as session:
        application_id = stored_id(application_id, "application")
        engine().api_withdraw(session, current_grant(), application_id, body["reason"])
        return application_detail(session, application_id)


def _jis_error(outside) -> dict:
    return {"field": outside.field, "rule": "jis", "message": outside.message(),
            "characters": [{"char": o.char, "code_point": o.code_point, "suggestion": o.suggestion}
                           for o in outside.characters]}
