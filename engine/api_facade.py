"""Integrator access: scoped API tokens, and the queries the REST API needs beyond the
rest of the façade (docs/api.md).

Mixed into :class:`engine.facade.Engine`; methods follow the façade's rules (the caller's
session and transaction, nothing committed here).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta

from SpiffWorkflow.bpmn.specs.defaults import StartEvent
from SpiffWorkflow.bpmn.specs.event_definitions.simple import NoneEventDefinition
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine import api_tokens, audit
from engine.forms import find_form
from engine.store.models import Application, Definition
from engine.store.models_api import ApiToken


@dataclass(frozen=True)
class ApplicationListing:
    """One page of applications (newest first) and how many match in all."""

    items: list[tuple[Application, str]]
    total: int


class ApiFacade:
    """Integrator access: scoped API tokens."""

    # -- tokens --------------------------------------------------------------------------------

    def create_api_token(self, session: Session, *, name: str, user: str, scopes: list[str],
                         expires: str | timedelta | None = None, actor: str | None = None) -> tuple[ApiToken, str]:
        """A token acting as staff ``user`` within ``scopes`` (``api_tokens.SCOPES``), valid for
        ``expires`` (``90d``, ``12h``, ``2w`` or a timedelta; None: until revoked). Returns the
        row and the secret, which is not stored and cannot be shown again."""
        lifetime = api_tokens.parse_lifetime(expires) if isinstance(expires, str) else expires
        return api_tokens.create(session, name=name, user=user, scopes=scopes, lifetime=lifetime, actor=actor)

    def api_tokens(self, session: Session) -> list[ApiToken]:
        return api_tokens.tokens(session)

    def revoke_api_token(self, session: Session, name: str, *, actor: str | None = None) -> ApiToken:
        return api_tokens.revoke(session, name, actor=actor)

    def api_grant(self, session: Session, secret: str) -> api_tokens.Grant:
        """What the presented bearer token allows (``api_tokens.TokenRefused`` if nothing)."""
        return api_tokens.authenticate(session, secret)

    def record_api_action(self, session: Session, grant: api_tokens.Grant, *, operation: str,
                          application_id: int | None = None, task_id: str | None = None) -> None:
        """Note in the audit trail that the user's action came through the API, with which token."""
        audit.append_event(session, action="api_call", actor=grant.user, application_id=application_id,
                           task_id=task_id, details={"token": grant.token_name, "operation": operation})

    # -- applications ----------------------------------------------------------------------------

    def procedure_form(self, session: Session, key: str) -> dict | None:
        """The JSON Schema a new application of ``key`` must satisfy: the form its plain start
        event names with ``formKey``; None when it names none (or one handled elsewhere)."""
        definition = self.catalog.latest(session, key)
        spec = self.catalog.compiled(session, definition).spec
        for task_spec in spec.task_specs.values():
            if isinstance(task_spec, StartEvent) and isinstance(task_spec.event_definition, NoneEventDefinition):
                form_key = ((task_spec.extensions or {}).get("properties") or {}).get("formKey")
                if form_key:
                    form = find_form(self.catalog.files(session, definition.id), form_key)
                    return json.loads(form.content) if form is not None else None
        return None

    def procedure_form_errors(self, session: Session, key: str, data: dict) -> list:
        """How ``data`` fails the procedure's start form, field by field (``office_queries.FieldError``)."""
        from engine import office_queries

        # form_errors reports every missing required field once per "required" error jsonschema
        # raises, so two missing fields come out twice each: keep the first of each (field, rule).
        found = {}
        for failure in office_queries.form_errors(self.procedure_form(session, key), data):
            found.setdefault((failure.field, failure.rule), failure)
        return list(found.values())

    def procedure_text_problems(self, session: Session, key: str, data: dict) -> tuple[dict, list]:
        """(``data`` with its text normalized, the fields outside JIS X 0208) as the portal checks
        them: the start form's text fields, or every top-level text value when it names no form."""
        from engine.applicants import jis

        form = self.procedure_form(session, key)
        properties = (form or {}).get("properties") or {}
        text_fields = [name for name, spec in properties.items()
                       if isinstance(spec, dict) and spec.get("type") == "string"] if form else None
        return jis.check_data(data, text_fields)

    def api_withdraw(self, session: Session, grant: api_tokens.Grant, application_id: int, reason: str):
        """取下げ asked by an integrator, under the portal's rules (engine.applicants.withdrawal):
        Conflict when the application has ended or its procedure does not allow it."""
        from engine.applicants import withdrawal

        result = withdrawal.withdraw_application(self, session, application_id, reason, actor=grant.user)
        self.record_api_action(session, grant, operation="applications.withdraw", application_id=application_id)
        return result

    def list_applications(self, session: Session, *, procedure: str | None = None, status: str | None = None,
                          since: datetime | None = None, limit: int = 50, offset: int = 0) -> ApplicationListing:
        """Applications (with their procedure key), newest first: of procedure ``procedure``,
        in ``status``, created at or after ``since``."""
        query = select(Application, Definition.key).join(Definition, Definition.id == Application.definition_id)
        if procedure:
            query = query.where(Definition.key == procedure)
        if status:
            query = query.where(Application.status == status)
        if since is not None:
            query = query.where(Application.created_at >= since)
        total = session.scalar(select(func.count()).select_from(query.subquery()))
        page = session.execute(query.order_by(Application.created_at.desc(), Application.id.desc())
                               .limit(limit).offset(offset))
        return ApplicationListing([(application, key) for application, key in page], total or 0)
