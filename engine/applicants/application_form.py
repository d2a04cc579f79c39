"""An applicant's form: the JSON Schema + UI schema the form builder writes (engine.form_builder),
read as fields, filled from what a browser posts, and checked on the server.

Conditional fields (a UI schema ``show_if``) are decided here, not in the browser: a field
whose condition does not hold is not shown, its value is dropped, and it is not required (the
schema's ``allOf`` ``if``/``then`` requires it only when the condition holds). The checks are
the schema's (jsonschema, as the engine checks every submission) and JIS X 0208 on every text
field (engine.applicants.jis). Problems come back as codes with their values, so that each
interface words them in its reader's language.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass

from engine.applicants import jis
from engine.attachments import human_size
from engine.bpmn.bundle import SourceFile
from engine.form_builder import Field, FormModel, effective_widget, from_schemas, typed_value, ui_path_of
from engine.forms import find_form
from engine.office_queries import form_errors


@dataclass(frozen=True)
class ApplicantForm:
    """A form as the portal shows it: its fields in order, and the schema that checks it."""

    name: str
    title_ja: str
    title_en: str
    fields: tuple[Field, ...]
    schema: dict

    def title(self, language: str) -> str:
        return (self.title_en if language == "en" else "") or self.title_ja

    def field(self, name: str) -> Field | None:
        return next((f for f in self.fields if f.name == name), None)


@dataclass(frozen=True)
class Problem:
    """What is wrong with one field: ``rule`` is a JSON Schema keyword, ``type`` (not a number
    or a date), or ``jis`` (characters outside JIS X 0208 in ``characters``)."""

    field: str
    rule: str
    limit: object = None
    characters: tuple[jis.Outside, ...] = ()


def form_of(files: list[SourceFile], form_key: str) -> ApplicantForm | None:
    """The form ``form_key`` of a version's files, with its UI schema when there is one."""
    source = find_form(files, form_key)
    if source is None:
        return None
    schema = json.loads(source.content)
    if not isinstance(schema, dict):
        return None
    ui_source = next((f for f in files if f.path == ui_path_of(source.path)), None)
    ui_schema = json.loads(ui_source.content) if ui_source is not None else None
    model: FormModel = from_schemas(schema, ui_schema)[0]
    properties = schema.get("properties") if isinstance(schema.get("properties"), dict) else {}
    for item in model.fields:
        if is_attachment_property(properties.get(item.name)) or item.widget in ATTACHMENT_WIDGETS:
            item.widget = "attachment"  # one name for the templates and the checks below
    return ApplicantForm(name=form_key, title_ja=model.title_ja, title_en=model.title_en,
                         fields=tuple(model.fields), schema=schema)


#: UI schema widgets that mean "a file": ``attachment`` (the bundles' UI schemas) and ``file``.
ATTACHMENT_WIDGETS = ("attachment", "file")


def is_attachment_property(prop) -> bool:
    """A schema property that holds an attachment reference ({name, sha256, key, size,
    content_type}): the form builder has no file type, so a hand-written UI schema may omit the
    widget and the schema's shape still tells."""
    return (isinstance(prop, dict) and prop.get("type") == "object" and isinstance(prop.get("properties"), dict)
            and {"name", "sha256"} <= set(prop["properties"]))


def is_attachment(item: Field) -> bool:
    return item.widget == "attachment"


def label(item: Field, language: str) -> str:
    return (item.label_en if language == "en" else "") or item.label_ja or item.name


def help_text(item: Field, language: str) -> str:
    return (item.help_en if language == "en" else "") or item.help_ja


def choices(item: Field, language: str) -> list[tuple[str, str]]:
    """(value as posted, label) of a choice field; a boolean shown as radio or select gets yes/no."""
    if item.type == "boolean":
        return [("true", "はい" if language != "en" else "Yes"), ("false", "いいえ" if language != "en" else "No")]
    return [(c.value, (c.label_en if language == "en" else "") or c.label_ja or c.value) for c in item.choices]


def widget(item: Field) -> str:
    return effective_widget(item)


def shown(item: Field, data: Mapping) -> bool:
    """Whether the field's condition holds for ``data`` (always, without a condition)."""
    if item.show_if is None:
        return True
    return data.get(item.show_if.field) == _condition_value(item, data)


def _condition_value(item: Field, data: Mapping):
    value = item.show_if.equals
    current = data.get(item.show_if.field)
    if isinstance(current, bool):
        return {"true": True, "false": False}.get(value.strip().lower(), value)
    if isinstance(current, int | float):
        try:
            return typed_value(value, "number")
        except ValueError:
            return value
    return value


def visible_fields(form: ApplicantForm, data: Mapping) -> list[Field]:
    return [f for f in form.fields if shown(f, data)]


def read_posted(form: ApplicantForm, posted: Mapping[str, str]) -> tuple[dict, list[Problem]]:
    """The typed data of a posted form (empty inputs and fields whose condition does not hold
    left out) and the inputs that do not read as their type. Conditions refer to earlier
    fields, so the fields are read in order against what was read so far."""
    data: dict = {}
    problems: list[Problem] = []
    for item in form.fields:
        if not shown(item, data):
            continue
        raw = posted.get(item.name)
        raw = raw.strip() if isinstance(raw, str) else ""
        if is_attachment(item):
            # The reference travels between pages as JSON; the view checked it is the applicant's.
            reference = _reference_of(raw)
            if reference is not None:
                data[item.name] = reference
            continue
        if item.type == "boolean":
            if widget(item) == "checkbox" or raw in ("true", "false"):
                data[item.name] = raw == "true"
            continue
        if not raw:
            continue
        if item.type in ("integer", "number"):
            try:
                data[item.name] = typed_value(_half_width_digits(raw), item.type)
            except ValueError:
                problems.append(Problem(item.name, "type", item.type))
            continue
        data[item.name] = raw
    return data, problems


def _reference_of(raw: str) -> dict | None:
    try:
        value = json.loads(raw) if raw.startswith("{") else None
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def _half_width_digits(text: str) -> str:
    """Numbers typed with a Japanese keyboard (１２３，４５６．５) read as numbers."""
    return text.translate(str.maketrans("０１２３４５６７８９．－＋", "0123456789.-+")).replace(",", "").replace("，", "")


def check(form: ApplicantForm, data: dict) -> tuple[dict, list[Problem]]:
    """(data with its text normalized for JIS X 0208, every problem): the schema's rules for the
    fields shown, then JIS X 0208 on every text field. Values of hidden fields are dropped."""
    visible = {f.name for f in visible_fields(form, data)}
    names = {f.name for f in form.fields}
    data = {k: v for k, v in data.items() if k in visible or k not in names}
    text_fields = [f.name for f in form.fields if f.type == "string" and f.name in visible
                   and not is_attachment(f)]
    data, outside = jis.check_data(data, text_fields)
    problems, seen = [], set()
    for failure in form_errors(form.schema, data):
        if failure.field and (failure.field, failure.rule) not in seen:
            seen.add((failure.field, failure.rule))
            problems.append(Problem(failure.field, failure.rule, failure.limit))
    problems += [Problem(p.field, "jis", None, p.characters) for p in outside]
    order = {f.name: i for i, f in enumerate(form.fields)}
    problems.sort(key=lambda p: order.get(p.field, len(order)))
    return data, problems


def as_posted(form: ApplicantForm, data: Mapping) -> dict[str, str]:
    """Stored data as a form shows it back (numbers and yes/no as text)."""
    posted = {}
    for item in form.fields:
        value = data.get(item.name)
        if value is None:
            continue
        if is_attachment(item) and isinstance(value, dict):
            posted[item.name] = json.dumps(value, ensure_ascii=False, sort_keys=True)
        else:
            posted[item.name] = ("true" if value else "false") if isinstance(value, bool) else str(value)
    return posted


def display_value(item: Field, value, language: str) -> str:
    """A value as the confirmation page and the history show it: a choice by its label."""
    if value is None or value == "":
        return ""
    if is_attachment(item) and isinstance(value, dict):
        return f"{value.get('name', '')} ({human_size(int(value.get('size') or 0))})"
    if isinstance(value, bool):
        return dict(choices(item, language))["true" if value else "false"]
    for choice_value, choice_label in choices(item, language):
        if choice_value == str(value):
            return choice_label
    return str(value)


__all__ = ["ATTACHMENT_WIDGETS", "ApplicantForm", "Problem", "form_of", "is_attachment", "is_attachment_property", "label", "help_text", "choices", "widget", "shown",
           "visible_fields", "read_posted", "check", "as_posted", "display_value"]
