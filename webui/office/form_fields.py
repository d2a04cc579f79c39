"""A task's JSON Schema form as HTML fields, and the submitted form read back as typed data.

Supported: text (a textarea for long text), numbers, whole numbers, yes/no and choices
(``enum``, or ``oneOf`` of ``const`` with ``title``). Object and array fields are not
editable here; the engine's validation still reports them if the form requires them.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import gettext as _

#: Text longer than this may be written in a textarea.
LONG_TEXT = 200


@dataclass(frozen=True)
class FormField:
    name: str
    title: str
    kind: str  # text, textarea, number, integer, boolean, choice
    required: bool
    options: tuple[tuple[str, str], ...] = ()
    description: str | None = None
    max_length: int | None = None


def _options(spec: dict) -> tuple[tuple[str, str], ...]:
    if "enum" in spec:
        return tuple((str(v), str(v)) for v in spec["enum"])
    return tuple((str(o["const"]), str(o.get("title") or o["const"])) for o in spec.get("oneOf", []) if "const" in o)


def fields_of(schema: dict | None) -> list[FormField]:
    if not schema:
        return []
    required = set(schema.get("required") or [])
    fields = []
    for name, spec in (schema.get("properties") or {}).items():
        if not isinstance(spec, dict):
            continue
        kind = spec.get("type")
        options = _options(spec)
        if options:
            shown = "choice"
        elif kind == "boolean":
            shown = "boolean"
        elif kind in ("number", "integer"):
            shown = kind
        elif kind == "string":
            shown = "textarea" if (spec.get("maxLength") or 0) > LONG_TEXT else "text"
        else:
            continue
        fields.append(FormField(name, str(spec.get("title") or name), shown, name in required, options,
                                spec.get("description"), spec.get("maxLength")))
    return fields


def read_submission(fields: list[FormField], form) -> tuple[dict, dict[str, str]]:
    """(data, errors by field): empty inputs are left out, so that ``required`` catches them."""
    data, errors = {}, {}
    for field in fields:
        if field.kind == "boolean":
            data[field.name] = form.get(field.name) == "true"
            continue
        raw = (form.get(field.name) or "").strip()
        if not raw:
            continue
        if field.kind == "integer":
            try:
                data[field.name] = int(raw)
            except ValueError:
                errors[field.name] = _("Enter a whole number.")
        elif field.kind == "number":
            try:
                data[field.name] = float(raw) if any(c in raw for c in ".eE") else int(raw)
            except ValueError:
                errors[field.name] = _("Enter a number.")
        else:
            data[field.name] = raw
    return data, errors


def error_message(error) -> str:
    """A field error of the engine (``office_queries.FieldError``) in the reader's language."""
    rule, limit = error.rule, error.limit
    if rule == "required":
        return _("This field is required.")
    if rule in ("enum", "const", "oneOf"):
        return _("Choose one of the options.")
    if rule == "maxLength":
        return _("At most %(limit)s characters.", limit=limit)
    if rule == "minLength":
        return _("At least %(limit)s characters.", limit=limit)
    if rule in ("maximum", "exclusiveMaximum"):
        return _("At most %(limit)s.", limit=limit)
    if rule in ("minimum", "exclusiveMinimum"):
        return _("At least %(limit)s.", limit=limit)
    if rule == "type":
        return _("This value has the wrong type.")
    if rule == "pattern":
        return _("The value does not have the expected format.")
    return error.message
