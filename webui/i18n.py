"""Japanese by default, English by switch (Flask-Babel); dates optionally in 和暦.

The source strings are English; ``translations/ja`` holds the Japanese. The chosen language
lives in the session (staff and applicants switch with the link in every page's header).
"""

from __future__ import annotations

from datetime import datetime

from flask import Blueprint, Flask, redirect, request, session, url_for
from flask_babel import Babel, get_locale

from engine.issuance.wareki import wareki
from engine.scripting.namespace import JST

LANGUAGES = ("ja", "en")
DEFAULT_LANGUAGE = "ja"

blueprint = Blueprint("i18n", __name__)


def select_locale() -> str:
    chosen = session.get("lang")
    return chosen if chosen in LANGUAGES else DEFAULT_LANGUAGE


@blueprint.post("/language")
def switch_language():
    lang = request.form.get("lang")
    if lang in LANGUAGES:
        session["lang"] = lang
    target = request.form.get("next") or ""
    # Only go back to a page of this site.
    if not target.startswith("/") or target.startswith("//"):
        target = url_for("office.tasks")
    return redirect(target)


def local_date(value, style: str | None = None) -> str:
    """A date or time as staff read it: in Japan time; 和暦 when the session asks for it."""
    if value is None:
        return ""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    moment = value.astimezone(JST) if isinstance(value, datetime) else value
    day = moment.date() if isinstance(moment, datetime) else moment
    wants_wareki = (style or session.get("date_style")) == "wareki" and str(get_locale()) == "ja"
    text = wareki(day) if wants_wareki else day.isoformat()
    if isinstance(moment, datetime):
        text += moment.strftime(" %H:%M")
    return text


def init_app(app: Flask) -> None:
    Babel(app, locale_selector=select_locale, default_translation_directories="translations")
    app.register_blueprint(blueprint)
    app.jinja_env.filters["local_date"] = local_date
    app.jinja_env.globals["current_language"] = lambda: str(get_locale())
    app.jinja_env.globals["LANGUAGES"] = LANGUAGES


__all__ = ["init_app", "local_date", "LANGUAGES"]
