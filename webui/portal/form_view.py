"""An applicant's form (engine.applicants.application_form) as what the templates show: every
field with its label, help, widget, choices, value and error, in the reader's language.

Every field is on the page, conditional ones too: a conditional field says when to answer
it, so that the form works in one pass without JavaScript; the server drops the answer when
the condition does not hold and requires it only when it does. With JavaScript
(portal-apply.js) a conditional field is hidden while its condition does not hold.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from flask_babel import get_locale
from flask_babel import gettext as _

from engine.applicants import application_form as forms


def language() -> str:
    return "en" if str(get_locale()) == "en" else "ja"


@dataclass(frozen=True)
class ShownField:
    name: str
    label: str
    help: str
    widget: str
    type: str
    required: bool
    condition: str  # "" or e.g. "Answer if 届出の種類 is 更新."
    condition_field: str
    condition_value: str
    choices: list[tuple[str, str]]
    value: str
    error: str
    minimum: str
    maximum: str
    max_length: str
    #: An attachment field's current file (its reference), shown beside the upload widget.
    attachment: dict | None = None


def _attachment_of(value: str) -> dict | None:
    try:
        reference = json.loads(value) if value.startswith("{") else None
    except ValueError:
        return None
    return reference if isinstance(reference, dict) else None


def shown_fields(form: forms.ApplicantForm, values: dict[str, str], errors: dict[str, str]) -> list[ShownField]:
    lang = language()
    shown = []
    for item in form.fields:
        condition = condition_field = condition_value = ""
        if item.show_if is not None:
            other = form.field(item.show_if.field)
            condition_field, condition_value = item.show_if.field, item.show_if.equals
            if other is not None:
                answer = dict(forms.choices(other, lang)).get(item.show_if.equals, item.show_if.equals)
                if other.type == "boolean" and forms.widget(other) == "checkbox":
                    condition = (_("Answer if you ticked “%(field)s”.", field=forms.label(other, lang))
                                 if item.show_if.equals == "true"
                                 else _("Answer if you did not tick “%(field)s”.", field=forms.label(other, lang)))
                else:
                    condition = _("Answer if “%(field)s” is “%(answer)s”.", field=forms.label(other, lang),
                                  answer=answer)
        shown.append(ShownField(
            name=item.name, label=forms.label(item, lang), help=forms.help_text(item, lang),
            widget=forms.widget(item), type=item.type, required=item.required, condition=condition,
            condition_field=condition_field, condition_value=condition_value,
            choices=forms.choices(item, lang), value=values.get(item.name, ""), error=errors.get(item.name, ""),
            minimum=item.minimum, maximum=item.maximum, max_length=item.max_length,
            attachment=_attachment_of(values.get(item.name, "")) if forms.is_attachment(item) else None))
    return shown


def summary(form: forms.ApplicantForm, data: dict) -> list[tuple[str, str]]:
    """(label, value) of each answered field, for the confirmation page."""
    lang = language()
    return [(forms.label(item, lang), forms.display_value(item, data.get(item.name), lang))
            for item in forms.visible_fields(form, data) if data.get(item.name) not in (None, "")]


def field_label(form: forms.ApplicantForm, name: str) -> str:
    item = form.field(name)
    return forms.label(item, language()) if item is not None else name


def shown_value(form: forms.ApplicantForm, name: str, value) -> str:
    item = form.field(name)
    if value is None or value == "":
        return _("(blank)")
    return forms.display_value(item, value, language()) if item is not None else str(value)


def problem_messages(form: forms.ApplicantForm, problems: list[forms.Problem]) -> dict[str, str]:
    """One message per field (the first problem found), in plain words."""
    messages: dict[str, str] = {}
    for problem in problems:
        messages.setdefault(problem.field, message_of(form, problem))
    return messages


def message_of(form: forms.ApplicantForm, problem: forms.Problem) -> str:
    label = field_label(form, problem.field)
    rule, limit = problem.rule, problem.limit
    if rule == "required" and form.field(problem.field) and forms.is_attachment(form.field(problem.field)):
        return _("Attach %(label)s.", label=label)
    if rule == "required":
        return _("Enter %(label)s.", label=label)
    if rule == "type":
        return (_("Enter %(label)s as a whole number, e.g. 3.", label=label) if limit == "integer"
                else _("Enter %(label)s as a number, e.g. 2.5.", label=label))
    if rule in ("enum", "const"):
        return _("Choose one of the options for %(label)s.", label=label)
    if rule == "maxLength":
        return _("%(label)s can be at most %(limit)s characters.", label=label, limit=limit)
    if rule in ("maximum", "exclusiveMaximum"):
        return _("%(label)s must be %(limit)s or less.", label=label, limit=limit)
    if rule in ("minimum", "exclusiveMinimum"):
        return _("%(label)s must be %(limit)s or more.", label=label, limit=limit)
    if rule == "pattern" and form.field(problem.field) and forms.widget(form.field(problem.field)) == "date":
        return _("Enter %(label)s as a date, e.g. 2026-04-01.", label=label)
    if rule == "pattern":
        return _("%(label)s is not in the expected format.", label=label)
    if rule == "jis":
        return jis_message(label, problem)
    return _("Check %(label)s.", label=label)


def jis_message(label: str, problem: forms.Problem) -> str:
    chars = "、".join(o.char for o in problem.characters)
    replacements = "、".join(f"{o.char} → {o.suggestion}" for o in problem.characters if o.suggestion)
    if replacements:
        return _("%(label)s contains characters the city's systems cannot hold: %(chars)s. "
                 "Write them as %(replacements)s.", label=label, chars=chars, replacements=replacements)
    return _("%(label)s contains characters the city's systems cannot hold: %(chars)s. "
             "Write them with a common character or in kana.", label=label, chars=chars)
