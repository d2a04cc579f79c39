"""/api/v1/incidents: jobs whose retries ran out; run one again."""

from __future__ import annotations

from flask_smorest import Blueprint

from webui.api import problems
from webui.api.auth import current_grant, requires
from webui.api.problems import MEDIA_TYPE as PROBLEM
from webui.api.schemas import IncidentPage, IncidentQuery, IncidentSchema, ProblemSchema
from webui.api.shapes import incident, stored_id
from webui.db import engine, transaction

blueprint = Blueprint("api_incidents", __name__, url_prefix="/api/v1/incidents",
                      description="Incidents: failed background jobs")
problems.register(blueprint)


@blueprint.route("", methods=["GET"])
@requires(blueprint, "incidents:read")
@blueprint.arguments(IncidentQuery, location="query")
@blueprint.response(200, IncidentPage)
def list_incidents(query: dict):
    """Incidents, oldest first: open (default), resolved or all, optionally of one application."""
    status = None if query["status"] == "all" else query["status"]
    with transaction() as session:
        rows = engine().incidents(session, status=status, application_id=query.get("application_id"))
    page = rows[query["offset"]:query["offset"] + query["limit"]]
    return {"items": [incident(row) for row in page], "limit": query["limit"], "offset": query["offset"]}


@blueprint.route("/<int:incident_id>/retry", methods=["POST"])
@requires(blueprint, "incidents:write")
@blueprint.response(200, IncidentSchema)
@blueprint.alt_response(404, schema=ProblemSchema, content_type=PROBLEM, description="No such incident")
@blueprint.alt_response(409, schema=ProblemSchema, content_type=PROBLEM, description="Already resolved")
def retry(incident_id: int):
    """Queue the failed job again with fresh attempts; the incident is resolved as retried."""
    grant = current_grant()
    with transaction() as session:
        row = engine().retry_incident(session, stored_id(incident_id, "incident"), actor=grant.user)
        if row.application_id is not None:
            engine().record_api_action(session, grant, operation="incidents.retry", application_id=row.application_id)
        return incident(row)
