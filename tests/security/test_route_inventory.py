"""Every route that takes an id or a token has an IDOR case or a written reason to be public,
and every state-changing route is either CSRF-checked or on the short exempt list."""

from __future__ import annotations

from tests.security.routes import API_BLUEPRINT_PREFIX, API_CASES, APPLICANT_OWNED, PUBLIC, STAFF_BLUEPRINTS
from webui import security

UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}
#: Endpoints that take state-changing requests without the session's CSRF token, and why.
CSRF_EXEMPT_REASONS = {
    API_BLUEPRINT_PREFIX: "the API reads no cookie, only an Authorization: Bearer header a cross-site form "
                          "cannot send",
    "portal.payment_callback": "the payment provider's server calls it, signed with the provider's secret",
}


def id_taking_endpoints(app) -> set[str]:
    return {rule.endpoint for rule in app.url_map.iter_rules() if rule.arguments}


def test_every_id_taking_route_has_an_idor_case_or_a_reason(app):
    unclassified = []
    for endpoint in sorted(id_taking_endpoints(app)):
        blueprint = endpoint.split(".", 1)[0]
        if blueprint in STAFF_BLUEPRINTS or endpoint in APPLICANT_OWNED or endpoint in PUBLIC:
            continue
        if blueprint.startswith(API_BLUEPRINT_PREFIX) and endpoint in API_CASES:
            continue
        unclassified.append(endpoint)
    assert unclassified == [], "add an IDOR case (tests/security/routes.py) for these routes"
    every = {rule.endpoint for rule in app.url_map.iter_rules()}
    assert sorted((set(APPLICANT_OWNED) | set(API_CASES) | set(PUBLIC)) - every) == [], "stale entries"


def test_only_the_api_and_the_payment_callback_skip_the_csrf_check(app):
    unsafe = {rule.endpoint for rule in app.url_map.iter_rules() if rule.methods & UNSAFE}
    exempt = {endpoint for endpoint in unsafe if endpoint in security.EXEMPT_ENDPOINTS}
    expected = {endpoint for endpoint in unsafe
                if endpoint.startswith(API_BLUEPRINT_PREFIX) or endpoint in CSRF_EXEMPT_REASONS}
    assert exempt == expected
    assert "portal.payment_callback" in exempt and "api_applications.withdraw" in exempt
