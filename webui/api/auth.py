"""Bearer-token authentication for the API: a token's grant, its scopes, documented in the spec.

The API never looks at the session cookie: a request is authenticated by its
``Authorization: Bearer`` header alone, which a cross-site form cannot send — that is why
the API's views are exempt from the CSRF check that protects the cookie-based pages.
"""

from __future__ import annotations

import inspect
from functools import wraps

from flask import g, request

from engine.api_tokens import Grant, TokenRefused
from webui.api.problems import MEDIA_TYPE as PROBLEM
from webui.api.problems import problem, unauthorized
from webui.api.schemas import ProblemSchema
from webui.db import engine, transaction

SECURITY_SCHEME = "bearerAuth"


def current_grant() -> Grant:
    return g.api_grant


def _presented_secret() -> str:
    scheme, _, secret = (request.headers.get("Authorization") or "").partition(" ")
    if scheme.lower() != "bearer":
        raise TokenRefused("missing bearer token")
    return secret.strip()


def requires(blueprint, scope: str):
    """The view needs a token holding ``scope``: 401 without a usable token, 403 (naming the
    scope) with a token that lacks it. The grant is ``current_grant()`` inside the view."""

    def decorate(view):
        @wraps(view)
        def guarded(*args, **kwargs):
            try:
                secret = _presented_secret()
                with transaction() as session:  # commits the token's last-used time
                    grant = engine().api_grant(session, secret)
            except TokenRefused as refused:
                return unauthorized(refused.reason)
            if scope not in grant.scopes:
                return problem(403, f"this token lacks the scope {scope!r}; create a token with --scope {scope}",
                               missing_scope=scope)
            g.api_grant = grant
            return view(*args, **kwargs)

        # The docstring's first line is the operation's summary; the rest, and the scope, its description.
        details = inspect.cleandoc(view.__doc__ or "").partition("\n")[2].strip()
        description = "\n\n".join(part for part in (details, f"Needs a token with the scope `{scope}`.") if part)
        documented = blueprint.doc(security=[{SECURITY_SCHEME: [scope]}], description=description)(guarded)
        documented = blueprint.alt_response(401, schema=ProblemSchema, content_type=PROBLEM,
                                            description="No usable token")(documented)
        return blueprint.alt_response(403, schema=ProblemSchema, content_type=PROBLEM,
                                      description=f"The token lacks `{scope}`")(documented)

    return decorate
