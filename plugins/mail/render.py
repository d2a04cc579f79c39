"""Rendering a mail from ``templates/<lang>/<template>.txt``: first line ``Subject: …``, then the body.

The environment is sandboxed: an office may point ``templates_dir`` at its own wording, and a
template, unlike application data, is code — the sandbox keeps it away from Python internals.
Autoescaping is off because the mails are plain text (HTML escaping would show ``&amp;``).

Undefined names raise (StrictUndefined) rather than render as empty text. Every name the
templates use is always in the context — None when the application does not have it — so
only a mistake in a template raises; the job then fails and becomes an incident an admin
sees, instead of applicants silently receiving mails with a blank where their 受付番号 was.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo

from jinja2 import FileSystemLoader, StrictUndefined, TemplatesNotFound, pass_context
from jinja2.sandbox import SandboxedEnvironment

BUILTIN_TEMPLATES = Path(__file__).parent / "templates"
FALLBACK_LANGUAGE = "ja"
_NAME = re.compile(r"^[a-z][a-z0-9_]{0,59}$")
_PROCEDURE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,99}$")
_WEEKDAYS_JA = "月火水木金土日"
# Spelled out rather than strftime's %A/%B, which follow the process locale (ja_JP on many servers).
_WEEKDAYS_EN = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_MONTHS_EN = ("January", "February", "March", "April", "May", "June", "July", "August", "September",
              "October", "November", "December")


class TemplateProblem(ValueError):
    """A template is missing or does not start with a Subject line."""


@dataclass(frozen=True)
class Rendered:
    subject: str
    body: str


def render(template: str, language: str, context: dict, templates_dir: str = "", procedure: str | None = None) -> Rendered:
    if not _NAME.match(template or ""):
        raise TemplateProblem(f"{template!r} is not a template name")
    language = language if _NAME.match(language or "") else FALLBACK_LANGUAGE
    env = _environment(templates_dir)
    # A procedure may word a mail its own way (procedures/<key>/<template>.txt, e.g. an event's
    # confirmation); a language we have no text for falls back to Japanese, the office's language.
    names = []
    for lang in dict.fromkeys((language, FALLBACK_LANGUAGE)):
        if procedure and _PROCEDURE.match(procedure):
            names.append(f"{lang}/procedures/{procedure}/{template}.txt")
        names.append(f"{lang}/{template}.txt")
    try:
        compiled = env.select_template(names)
    except TemplatesNotFound as exc:  # say which files were looked for
        raise TemplateProblem(f"no mail template {' or '.join(names)}") from exc
    return split(compiled.render({**context, "language": language}))


def split(text: str) -> Rendered:
    first, _, body = text.partition("\n")
    if not first.startswith("Subject:"):
        raise TemplateProblem("a mail template must start with a 'Subject: …' line")
    # One line, whatever the data held: a line break in a header would be a header injection.
    subject = " ".join(first[len("Subject:"):].split())
    return Rendered(subject=subject, body=body.lstrip("\n").rstrip() + "\n")


@lru_cache(maxsize=8)
def _environment(templates_dir: str) -> SandboxedEnvironment:
    search = [templates_dir, str(BUILTIN_TEMPLATES)] if templates_dir else [str(BUILTIN_TEMPLATES)]
    env = SandboxedEnvironment(loader=FileSystemLoader(search, encoding="utf-8"), autoescape=False,
                               undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True,
                               keep_trailing_newline=True)
    env.filters["date"] = format_date
    return env


@pass_context
def format_date(context, value) -> str:
    """An ISO date or date-time as people write it: 2025年5月31日（土）/ Saturday, 31 May 2025.

    Aware date-times are shown in the configured time zone (``timezone`` in the context);
    anything that is not ISO is shown as it is.
    """
    if value is None or value == "":
        return ""
    parsed = _parse(value)
    if parsed is None:
        return str(value)
    with_time = isinstance(parsed, datetime)
    if with_time and parsed.tzinfo is not None and context.get("timezone"):
        parsed = parsed.astimezone(ZoneInfo(context["timezone"]))
    if context.get("language") == "en":
        text = f"{_WEEKDAYS_EN[parsed.weekday()]}, {parsed.day} {_MONTHS_EN[parsed.month - 1]} {parsed.year}"
        return f"{text}, {parsed:%H:%M}" if with_time else text
    text = f"{parsed.year}年{parsed.month}月{parsed.day}日（{_WEEKDAYS_JA[parsed.weekday()]}）"
    return f"{text}{parsed.hour}時{parsed.minute:02d}分" if with_time else text


def _parse(value) -> date | None:
    if isinstance(value, datetime | date):
        return value
    text = str(value).strip()
    try:
        if len(text) == 10:
            return date.fromisoformat(text)
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
