"""The API's request and response schemas (marshmallow): they validate requests and are
what the OpenAPI document is generated from."""

from __future__ import annotations

from marshmallow import EXCLUDE, RAISE, Schema, fields, validate

from engine.approvals.route import DECISIONS
from webui.ids import MAX_ID

ROUTE_DECISIONS = sorted({decision for choices in DECISIONS.values() for decision in choices})

def json_object() -> fields.Dict:
    return fields.Dict(keys=fields.String(), load_default=dict,
                       metadata={"description": "A JSON object; its fields depend on the procedure"})


#: Ids are 32-bit on PostgreSQL (and bounded on SQLite): a larger one names nothing.


class Strict(Schema):
    class Meta:
        unknown = RAISE


class Query(Schema):
    # Query strings also carry things the API does not read (cache busters, tracking):
    # ignoring them is kinder than refusing the request.
    class Meta:
        unknown = EXCLUDE


class ProblemSchema(Schema):
    type = fields.String(metadata={"example": "about:blank"})
    title = fields.String()
    status = fields.Integer()
    detail = fields.String()
    errors = fields.List(fields.Dict(), metadata={"description": "Per field: field, message (and rule)"})
    missing_scope = fields.String()


class PageQuery(Query):
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=200))
    offset = fields.Integer(load_default=0, validate=validate.Range(min=0, max=1_000_000))


# -- applications -----------------------------------------------------------------------------

class ApplicationCreate(Strict):
    procedure = fields.String(required=True, validate=validate.Length(min=1, max=100),
                              metadata={"description": "The procedure's key", "example": "dog-registration"})
    data = json_object()


class ApplicationWithdrawal(Strict):
    reason = fields.String(required=True, validate=validate.Length(min=1, max=2000),
                           metadata={"description": "Why the application is withdrawn (kept in the audit trail)",
                                     "example": "申請者から取下げの申出があったため"})


class ApplicationQuery(PageQuery):
    procedure = fields.String(validate=validate.Length(max=100))
    status = fields.String(validate=validate.Length(max=20))
    since = fields.AwareDateTime(metadata={"description": "Created at or after (ISO 8601 with a time zone)"})


class TaskSchema(Schema):
    id = fields.String()
    application_id = fields.Integer()
    reference = fields.String()
    element_id = fields.String()
    name = fields.String()
    kind = fields.String(metadata={"description": "task, or an approval route's approve/consult/resubmit/…"})
    candidate_groups = fields.List(fields.String())
    candidate_users = fields.List(fields.String())
    assignee = fields.String(allow_none=True)
    due_at = fields.String(allow_none=True)
    created_at = fields.String()
    status = fields.String()


class DocumentSchema(Schema):
    public_id = fields.String()
    application_id = fields.Integer()
    number = fields.String()
    title = fields.String()
    procedure = fields.String()
    status = fields.String()
    issued_at = fields.String(allow_none=True)
    sha256 = fields.String(allow_none=True)
    size = fields.Integer(allow_none=True)
    revoked_at = fields.String(allow_none=True)
    revocation_reason = fields.String(allow_none=True)


class ApplicationSummary(Schema):
    id = fields.Integer()
    reference = fields.String()
    procedure = fields.String()
    status = fields.String()
    started_by = fields.String(allow_none=True)
    created_at = fields.String()
    updated_at = fields.String()
    completed_at = fields.String(allow_none=True)


class ApplicationDetail(ApplicationSummary):
    version = fields.Integer()
    data = fields.Dict()
    open_tasks = fields.List(fields.Nested(TaskSchema))
    documents = fields.List(fields.Nested(DocumentSchema))


class ApplicationPage(Schema):
    items = fields.List(fields.Nested(ApplicationSummary))
    total = fields.Integer()
    limit = fields.Integer()
    offset = fields.Integer()


# -- tasks ------------------------------------------------------------------------------------

class TaskQuery(PageQuery):
    group = fields.String(validate=validate.Length(min=1, max=100),
                          metadata={"description": "Only tasks offered to this group (one of the token user's)"})


class TaskPage(Schema):
    items = fields.List(fields.Nested(TaskSchema))
    limit = fields.Integer()
    offset = fields.Integer()


class TaskCompletion(Strict):
    data = json_object()
    decision = fields.String(validate=validate.OneOf(ROUTE_DECISIONS),
                             metadata={"description": "For an approval route's task (see docs/approval.md)"})
    comment = fields.String(validate=validate.Length(max=4000))
    to = fields.Integer(validate=validate.Range(min=0, max=1000),
                        metadata={"description": "For a return: the plan step to return to"})
    deadline = fields.Date(metadata={"description": "For a return: the day (YYYY-MM-DD, after today in Japan) by "
                                                    "which it should be answered; required for return_to_applicant"})


# -- messages ---------------------------------------------------------------------------------

class MessageSend(Strict):
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    key = fields.String(validate=validate.Length(max=500), allow_none=True,
                        metadata={"description": "The correlation key"})
    data = json_object()


class MessageResult(Schema):
    status = fields.String(metadata={"description": "delivered, started or buffered"})
    message_id = fields.Integer()
    application_id = fields.Integer(allow_none=True)
    expires_at = fields.String(allow_none=True)


# -- documents --------------------------------------------------------------------------------

class VerifyUpload(Schema):
    file = fields.Raw(required=True, metadata={"type": "string", "format": "binary"})


class VerdictSchema(Schema):
    status = fields.String(metadata={"description": "valid, altered, revoked or unknown"})
    reasons = fields.List(fields.String())
    document = fields.Dict(allow_none=True)
    signer = fields.String(allow_none=True)
    signed_at = fields.String(allow_none=True)
    sha256 = fields.String(allow_none=True)


# -- incidents --------------------------------------------------------------------------------

class IncidentQuery(PageQuery):
    status = fields.String(load_default="open", validate=validate.OneOf(["open", "resolved", "all"]))
    application_id = fields.Integer(validate=validate.Range(min=1, max=MAX_ID))


class IncidentSchema(Schema):
    id = fields.Integer()
    application_id = fields.Integer(allow_none=True)
    kind = fields.String()
    element_id = fields.String(allow_none=True)
    message = fields.String()
    attempts = fields.Integer()
    status = fields.String()
    created_at = fields.String()
    resolved_at = fields.String(allow_none=True)
    resolved_by = fields.String(allow_none=True)
    resolution = fields.String(allow_none=True)


class IncidentPage(Schema):
    items = fields.List(fields.Nested(IncidentSchema))
    limit = fields.Integer()
    offset = fields.Integer()
