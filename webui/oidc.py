"""Single sign-on for staff through OpenID Connect (authlib), switched on by settings.

    MADOGUCHI_OIDC_ISSUER          the provider's issuer URL (its discovery document is at
                                   <issuer>/.well-known/openid-configuration)
    MADOGUCHI_OIDC_CLIENT_ID       this application's client id at the provider
    MADOGUCHI_OIDC_CLIENT_SECRET   and its secret
    MADOGUCHI_OIDC_USERNAME_CLAIM  the claim that holds the staff user name (preferred_username)
    MADOGUCHI_OIDC_LABEL           the button's text (default: the provider's host)

The provider proves who the person is; whether they are staff, and in which groups, stays
Madoguchi's business: the claimed user name must be an existing staff user. Password sign-in
keeps working beside SSO (for the administrators who set it up).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from urllib.parse import urlparse

from authlib.integrations.base_client.errors import OAuthError
from authlib.integrations.flask_client import OAuth
from flask import Blueprint, Flask, current_app, flash, redirect, session, url_for
from flask_babel import gettext as _

from webui.auth import start_session
from webui.db import engine, transaction

blueprint = Blueprint("oidc", __name__)
CLIENT_NAME = "staff_sso"


@dataclass(frozen=True)
class OidcSettings:
    issuer: str
    client_id: str
    client_secret: str
    username_claim: str = "preferred_username"
    label: str | None = None

    @classmethod
    def from_env(cls, environ=os.environ) -> OidcSettings | None:
        issuer = environ.get("MADOGUCHI_OIDC_ISSUER", "").strip()
        if not issuer:
            return None
        client_id = environ.get("MADOGUCHI_OIDC_CLIENT_ID", "").strip()
        secret = environ.get("MADOGUCHI_OIDC_CLIENT_SECRET", "")
        if not client_id or not secret:
            raise ValueError("MADOGUCHI_OIDC_ISSUER is set: set MADOGUCHI_OIDC_CLIENT_ID and "
                             "MADOGUCHI_OIDC_CLIENT_SECRET too")
        return cls(issuer.rstrip("/"), client_id, secret,
                   environ.get("MADOGUCHI_OIDC_USERNAME_CLAIM", "").strip() or "preferred_username",
                   environ.get("MADOGUCHI_OIDC_LABEL", "").strip() or None)

    @property
    def button_label(self) -> str:
        return self.label or urlparse(self.issuer).hostname or self.issuer


def init_app(app: Flask, settings: OidcSettings | None) -> None:
    """Register the SSO routes when SSO is configured; templates see ``sso_label()`` either way."""
    app.jinja_env.globals["sso_label"] = (lambda: settings.button_label) if settings else (lambda: None)
    if settings is None:
        return
    oauth = OAuth(app)
    oauth.register(CLIENT_NAME, client_id=settings.client_id, client_secret=settings.client_secret,
                   server_metadata_url=f"{settings.issuer}/.well-known/openid-configuration",
                   client_kwargs={"scope": "openid profile email"})
    app.extensions["madoguchi.oidc"] = (oauth, settings)
    app.register_blueprint(blueprint)


def _client():
    oauth, settings = current_app.extensions["madoguchi.oidc"]
    return oauth.create_client(CLIENT_NAME), settings


@blueprint.post("/sign-in/sso")
def start():
    client, _settings = _client()
    return client.authorize_redirect(url_for("oidc.callback", _external=True))


@blueprint.get("/sign-in/sso/callback")
def callback():
    client, settings = _client()
    try:
        token = client.authorize_access_token()
    except OAuthError as exc:
        flash(_("Single sign-on failed: %(reason)s", reason=exc.description or exc.error), "error")
        return redirect(url_for("auth.sign_in"))
    claims = token.get("userinfo") or client.userinfo(token=token)
    name = str(claims.get(settings.username_claim) or "").strip()
    with transaction() as db_session:
        user = engine().staff_user(db_session, name) if name else None
    if user is None:
        flash(_("You signed in at the provider, but %(name)s is not a staff user here. Ask an administrator.",
                name=name or "?"), "error")
        return redirect(url_for("auth.sign_in"))
    start_session(user.name, via="sso")
    return redirect(session.pop("after_sign_in", None) or url_for("office.tasks"))
