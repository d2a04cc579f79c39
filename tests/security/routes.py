"""Every route of the app that takes an id or a token, and who is meant to reach it.

The tests derive the app's routes from its url_map and fail for one that is in none of these
lists, so a new id-taking route cannot ship without an IDOR case (or a reason it is public).
"""

from __future__ import annotations

#: Portal routes of one applicant's own things: another applicant's real id, or a guessed one,
#: must answer 404 and change nothing (tests/security/test_portal_idor.py).
APPLICANT_OWNED = {
    "portal.my_application": "application id",
    "portal.correct_application": "application id",
    "portal.withdraw_application": "application id",
    "portal.delete_draft": "draft id",
    "portal.download_document": "document public id",
    "portal.application_payment": "application reference",
    "portal.checkout": "application reference and payment reference",
    "portal.upload": "upload id (tus)",
}

#: Staff pages: an applicant's session is no staff session (tests/security/test_staff_pages.py).
STAFF_BLUEPRINTS = ("office", "admin", "form_builder", "reports", "diagram")

#: API routes: a bearer token only, bound to a staff user (tests/security/test_api_idor.py).
API_BLUEPRINT_PREFIX = "api_"

#: Public on purpose: what the id names is public, or the id is itself the credential.
PUBLIC = {
    "static": "the site's own CSS, JavaScript and vendored files",
    "portal.procedure": "the catalogue's procedure page: public information",
    "portal.apply": "the procedure's public form; a ?draft= id is checked like delete_draft "
                    "(tests/security/test_portal_idor.py)",
    "portal.apply_receipt": "shows only the receipt this browser's own session holds",
    "portal.apply_sign": "signs the form this browser's own session holds",
    "portal.verify_email": "the mailed token is the credential (tests/webui/test_portal_accounts.py)",
    "portal.reset_password": "the mailed token is the credential (tests/webui/test_portal_accounts.py)",
    "portal.payment_callback": "the provider's signed server-to-server call (tests/webui/test_portal_payments.py)",
    "verify.document": "public verification of an issued document by its public id: what anyone holding "
                       "the paper may check",
}

#: API routes that take an id, and what keeps a token from things it may not touch
#: (tests/security/test_api_idor.py).
API_CASES = {
    "api_applications.get": "applications:read is the integrator's view of the whole register (docs/api.md); "
                            "without the scope 403, a guessed id 404",
    "api_applications.withdraw": "applications:write, as above",
    "api_documents.get": "documents:read: every issued document (docs/api.md); a guessed id 404",
    "api_documents.download": "documents:read, as above",
    "api_incidents.retry": "incidents:write; a guessed id 404",
    "api_tasks.claim": "only the tasks the token's staff user may see: any other answers 404",
    "api_tasks.complete": "as claim",
    "api_uploads.get": "only the token's own uploads: another token's answers 404",
    "api_uploads.offset": "as get",
    "api_uploads.piece": "as get",
    "api_uploads.terminate": "as get",
}
