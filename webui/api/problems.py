"""Errors of the API as RFC 9457 problem details (``application/problem+json``)."""

from __future__ import annotations

import logging

from flask import Response, json
from werkzeug.exceptions import HTTPException
from werkzeug.http import HTTP_STATUS_CODES

from engine.errors import BadInput, Conflict, ExecutionFailed, MadoguchiError, NotFound, PermissionRefused

MEDIA_TYPE = "application/problem+json"
log = logging.getLogger(__name__)

# Data the engine refuses is "unprocessable" here: the request itself was well formed.
_ENGINE_STATUS = ((NotFound, 404), (PermissionRefused, 403), (Conflict, 409), (ExecutionFailed, 422),
                  (BadInput, 422))


def problem(status: int, detail: str, *, headers: dict | None = None, **members) -> Response:
    body = {"type": "about:blank", "title": HTTP_STATUS_CODES.get(status, "Error"), "status": status,
            "detail": detail, **members}
    response = Response(json.dumps(body, ensure_ascii=False), status=status, mimetype=MEDIA_TYPE)
    response.headers["Cache-Control"] = "no-store"
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def field_errors(messages: dict) -> list[dict]:
    """webargs' ``{location: {field: [message, …]}}`` as a flat list naming each field."""
    found = []

    def walk(prefix: str, value) -> None:
        if isinstance(value, dict):
            for key, inner in value.items():
                walk(f"{prefix}/{key}" if prefix else str(key), inner)
        elif isinstance(value, list | tuple) and value and all(isinstance(v, str) for v in value):
            found.extend({"field": prefix, "message": message} for message in value)
        else:
            found.append({"field": prefix, "message": str(value)})

    for location, fields in (messages or {}).items():
        # The location (body, query string …) is clear from the field's name; keep only odd ones.
        walk("" if location in ("json", "query", "form", "files", "view_args") else location, fields)
    return found


def unauthorized(reason: str) -> Response:
    return problem(401, f"{reason}: send a valid API token as 'Authorization: Bearer mdg_…'",
                   headers={"WWW-Authenticate": 'Bearer realm="madoguchi"'})


def register(blueprint) -> None:
    """Every error raised in ``blueprint``'s views answers as problem+json."""

    def engine_error(error: MadoguchiError):
        status = next((code for kind, code in _ENGINE_STATUS if isinstance(error, kind)), 400)
        return problem(status, str(error))

    # Registered per class: the web UI's own handlers for these classes are app-wide, and a
    # blueprint's handler wins only at the same level of the class hierarchy.
    for kind in (NotFound, PermissionRefused, Conflict, ExecutionFailed, BadInput, MadoguchiError):
        blueprint.register_error_handler(kind, engine_error)

    @blueprint.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        data = getattr(error, "data", None) or {}
        if data.get("messages"):
            return problem(error.code, "the request does not match the API's schema; see errors",
                           errors=field_errors(data["messages"]), headers=data.get("headers"))
        return problem(error.code or 500, error.description or HTTP_STATUS_CODES.get(error.code, "Error"))

    @blueprint.errorhandler(Exception)
    def unexpected(error: Exception):
        log.exception("API request failed", exc_info=error)
        return problem(500, "the server failed to answer this request; the error has been logged")
