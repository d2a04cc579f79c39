"""The Flask application factory: one app per process, one engine behind it."""

from __future__ import annotations

import os
import secrets
from datetime import timedelta
from pathlib import Path

from flask import Flask

from engine.config import Settings
from engine.facade import Engine
from engine.plugins import call_each
from webui import i18n, oidc, security
from webui.errors import register_error_pages
from webui.oidc import OidcSettings


def create_app(engine: Engine | None = None, *, config: dict | None = None,
               oidc_settings: OidcSettings | None = None) -> Flask:
    """The web app for ``engine`` (made from the environment when not given).

    Blueprints: ``auth`` (staff sign-in), ``office`` (approvers), ``admin``, ``verify``
    (public document verification), and ``oidc`` when single sign-on is configured (from the
    environment, or ``oidc_settings``). Plugins add theirs through ``madoguchi_blueprints``.
    """
    engine = engine or Engine(Settings.from_env())
    app = Flask(__name__)
    app.config.update(
        SECRET_KEY=_secret_key(engine.settings.home),
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=engine.settings.public_url.startswith("https://"),
        PERMANENT_SESSION_LIFETIME=timedelta(hours=8),
        MAX_CONTENT_LENGTH=engine.settings.max_upload_bytes,
        LOGIN_ATTEMPTS_PER_MINUTE=10,
    )
    app.config.update(config or {})
    app.extensions["madoguchi"] = engine
    i18n.init_app(app)
    security.init_app(app)
    oidc.init_app(app, oidc_settings if oidc_settings is not None else OidcSettings.from_env())
    register_error_pages(app)
    _register_blueprints(app, engine)
    return app


def _register_blueprints(app: Flask, engine: Engine) -> None:
    from webui.admin import blueprint as admin
    from webui.api import blueprint as api
    from webui.auth import blueprint as auth
    from webui.diagram import blueprint as diagram
    from webui.form_builder import blueprint as form_builder
    from webui.office import blueprint as office
    from webui.portal import blueprint as portal
    from webui.reports import blueprint as reports
    from webui.verify import blueprint as verify

    for blueprint in (auth, office, admin, form_builder, reports, diagram, verify, portal, api):
        app.register_blueprint(blueprint)
    for _plugin, blueprints in call_each(engine.plugin_manager, "madoguchi_blueprints", engine=engine):
        for blueprint in blueprints or ():
            app.register_blueprint(blueprint)


def _secret_key(home: Path) -> str:
    """MADOGUCHI_SECRET_KEY, or a random key kept in MADOGUCHI_HOME so that every process
    of one instance (and a restart) accepts the same session cookies."""
    configured = os.environ.get("MADOGUCHI_SECRET_KEY")
    if configured:
        return configured
    path = Path(home) / "secret_key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(secrets.token_urlsafe(48))
    return path.read_text().strip()
