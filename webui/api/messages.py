"""/api/v1/messages: deliver a message to the application waiting for it (correlation)."""

from __future__ import annotations

from flask_smorest import Blueprint

from webui.api import problems
from webui.api.auth import current_grant, requires
from webui.api.schemas import MessageResult, MessageSend
from webui.db import engine, transaction

blueprint = Blueprint("api_messages", __name__, url_prefix="/api/v1/messages",
                      description="Messages to waiting applications, or starting new ones")
problems.register(blueprint)


@blueprint.route("", methods=["POST"])
@requires(blueprint, "messages:write")
@blueprint.arguments(MessageSend)
@blueprint.response(202, MessageResult)
def send(body: dict):
    """Send message ``name`` with correlation ``key``: delivered to the application waiting
    for it, starting one (message start event), or kept until one waits (buffered)."""
    grant = current_grant()
    with transaction() as session:
        result = engine().send_message(session, body["name"], key=body.get("key"), data=body["data"],
                                       sender=grant.user)
        if result.application_id is not None:
            engine().record_api_action(session, grant, operation="messages.send",
                                       application_id=result.application_id)
        return result.as_dict()
