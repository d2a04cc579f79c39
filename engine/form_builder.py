"""The form builder's model: a procedure's form as a list of fields, kept as a JSON Schema
(what the engine validates submissions against) plus a UI schema (how the form is shown).

A form named ``apply`` is two files of the bundle (docs/form-builder.md):

* ``forms/apply.json`` — JSON Schema 2020-12; ``title``/``description`` of a property are the
  Japanese label and help; a conditional field's required-ness is an ``allOf`` of
  ``if``/``then`` so that engine/forms.py enforces it on every task completion;
* ``forms/apply.ui.json`` — English labels and help, the widget, the order of the fields, the
  labels of the choices and the ``show_if`` conditions.

The model keeps what the admin typed (choice values, numbers, the ``show_if`` value) as
text, so that a value that does not read as the field's type can be shown back beside the
input; ``validate_model`` says what is wrong, and ``to_schemas`` converts once it is right.

Saving a form deploys a new version of the procedure with the same files and the new form:
versions stay immutable and the deploy checks still apply.
"""

from __future__ import annotations

import json
import keyword
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from lxml import etree

from engine.bpmn.bundle import SourceFile
from engine.bpmn.xml import BPMN_NS, CAMUNDA_NS
from engine.definitions import DEPENDENCY_PREFIX
from engine.errors import BadInput

SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"
FORMS_FOLDER = "forms"
UI_SUFFIX = ".ui.json"
TYPES = ("string", "integer", "number", "boolean")
WIDGETS = ("text", "textarea", "select", "radio", "checkbox", "date", "number")
#: Which widgets can show which type.
WIDGETS_FOR_TYPE = {
    "string": ("text", "textarea", "select", "radio", "date"),
    "integer": ("number", "select", "radio"),
    "number": ("number", "select", "radio"),
    "boolean": ("checkbox", "radio", "select"),
}
CHOICE_WIDGETS = ("select", "radio")
#: A date is a string the schema itself checks (``format`` alone is not enforced by jsonschema).
DATE_PATTERN = r"^\d{4}-\d{2}-\d{2}$"
#: Field names become process variables that scripts and gateway conditions read.
NAME_PATTERN = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")
FORM_NAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
#: Property keywords the builder understands; others are reported as dropped when a form is read.
KNOWN_PROPERTY_KEYWORDS = {"type", "title", "description", "enum", "maxLength", "minimum", "maximum"}
#: Keywords the builder writes with one value only (a date field's).
DATE_KEYWORDS = {"format": "date", "pattern": DATE_PATTERN}
KNOWN_FORM_KEYWORDS = {"$schema", "title", "type", "properties", "required", "allOf"}


@dataclass
class Choice:
    value: str
    label_ja: str = ""
    label_en: str = ""


@dataclass
class ShowIf:
    """Show the field only when ``field`` (an earlier field) equals ``equals``."""
    field: str
    equals: str


@dataclass
class Field:
    name: str
    type: str = "string"
    label_ja: str = ""
    label_en: str = ""
    help_ja: str = ""
    help_en: str = ""
    required: bool = False
    choices: list[Choice] = field(default_factory=list)
    #: One of WIDGETS, or "" for the type's usual one (see ``effective_widget``).
    widget: str = ""
    show_if: ShowIf | None = None
    minimum: str = ""
    maximum: str = ""
    max_length: str = ""


@dataclass
class FormModel:
    title_ja: str = ""
    title_en: str = ""
    fields: list[Field] = field(default_factory=list)


@dataclass(frozen=True)
class ModelProblem:
    """What is wrong with the model: ``index`` is the field's position (None: the whole form),
    ``attribute`` the part of it (``name``, ``choices``, ``show_if`` …), ``code`` a stable name
    of the rule, ``params`` the values a message needs."""
    index: int | None
    attribute: str | None
    code: str
    params: dict
    message: str


@dataclass(frozen=True)
class FormFile:
    """A form of a version: its name (the ``formKey``), where it lives, its parsed schemas."""
    name: str
    path: str
    schema: dict
    ui_schema: dict | None


@dataclass(frozen=True)
class SaveResult:
    key: str
    version: int
    created: bool


@dataclass(frozen=True)
class UserTask:
    """A user task of a version's diagrams, and the form it names (``formKey``; "" if none)."""
    path: str
    id: str
    name: str
    form_key: str


@dataclass(frozen=True)
class PreviewField:
    name: str
    label: str
    help: str
    widget: str
    required: bool
    conditionally_required: bool
    choices: list[tuple[str, str]]
    show_if: ShowIf | None
    show_if_label: str
    show_if_value_label: str
    minimum: str
    maximum: str
    max_length: str


# -- reading what the admin typed -----------------------------------------------------------

def choices_from_lines(text: str) -> list[Choice]:
    """``value|日本語|English`` per line; a missing label falls back to the value."""
    choices = []
    for line in text.splitlines():
        if not line.strip():
            continue
        value, ja, en = ([part.strip() for part in line.split("|", 2)] + ["", ""])[:3]
        choices.append(Choice(value, ja or value, en))
    return choices


def choices_to_lines(choices: list[Choice]) -> str:
    return "\n".join("|".join([c.value, c.label_ja, c.label_en]).rstrip("|") for c in choices)


def effective_widget(item: Field) -> str:
    if item.widget:
        return item.widget
    if item.choices and item.type != "boolean":
        return "select"
    usual = {"string": "text", "integer": "number", "number": "number", "boolean": "checkbox"}
    return usual.get(item.type, "text")


def typed_value(text: str, type_: str):
    """``text`` as a value of JSON type ``type_``; ValueError if it does not read as one."""
    text = text.strip()
    if type_ == "string":
        return text
    if type_ == "integer":
        return int(text)
    if type_ == "number":
        number = float(text)
        if number != number or number in (float("inf"), float("-inf")):
            raise ValueError(text)
        return int(number) if number.is_integer() and "." not in text and "e" not in text.lower() else number
    if type_ == "boolean":
        if text.lower() in ("true", "1", "yes"):
            return True
        if text.lower() in ("false", "0", "no"):
            return False
        raise ValueError(text)
    raise ValueError(type_)


def text_of(value) -> str:
    """A schema value as the builder shows it (the inverse of ``typed_value``)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


# -- validation -----------------------------------------------------------------------------

def validate_form_name(name: str) -> list[ModelProblem]:
    if FORM_NAME_PATTERN.match(name or ""):
        return []
    return [_problem(None, "form_name", "bad_form_name", name=name or "")]


def validate_model(model: FormModel) -> list[ModelProblem]:
    """Every problem of the model, each naming the field (by position and name) it is about."""
    problems: list[ModelProblem] = []
    if not model.fields:
        problems.append(_problem(None, None, "no_fields"))
    seen: dict[str, int] = {}
    for index, item in enumerate(model.fields):
        problems += _name_problems(index, item, seen)
        problems += _field_problems(index, item)
        problems += _show_if_problems(index, item, model.fields)
        seen.setdefault(item.name, index)
    return problems


def _name_problems(index: int, item: Field, seen: dict[str, int]) -> list[ModelProblem]:
    if not item.name:
        return [_problem(index, "name", "missing_name")]
    if not NAME_PATTERN.match(item.name) or keyword.iskeyword(item.name):
        return [_problem(index, "name", "bad_name", name=item.name)]
    if item.name in seen:
        return [_problem(index, "name", "duplicate_name", name=item.name, first=seen[item.name] + 1)]
    return []


def _field_problems(index: int, item: Field) -> list[ModelProblem]:
    problems = []
    name = item.name
    if item.type not in TYPES:
        return [_problem(index, "type", "bad_type", name=name, type=item.type)]
    if not item.label_ja.strip():
        problems.append(_problem(index, "label_ja", "missing_label", name=name))
    widget = effective_widget(item)
    if widget not in WIDGETS:
        problems.append(_problem(index, "widget", "bad_widget", name=name, widget=widget))
    elif widget not in WIDGETS_FOR_TYPE[item.type]:
        problems.append(_problem(index, "widget", "widget_for_type", name=name, widget=widget,
                                 type=item.type))
    if item.choices and item.type == "boolean":
        problems.append(_problem(index, "choices", "choices_on_boolean", name=name))
    elif item.choices and widget not in CHOICE_WIDGETS:
        problems.append(_problem(index, "choices", "choices_need_choice_widget", name=name, widget=widget))
    elif widget in CHOICE_WIDGETS and item.type != "boolean" and not item.choices:
        problems.append(_problem(index, "choices", "widget_needs_choices", name=name, widget=widget))
    problems += _choice_problems(index, item)
    problems += _limit_problems(index, item)
    return problems


def _choice_problems(index: int, item: Field) -> list[ModelProblem]:
    if item.type == "boolean":
        return []
    problems, values = [], set()
    for choice in item.choices:
        if not choice.value:
            problems.append(_problem(index, "choices", "empty_choice", name=item.name))
            continue
        try:
            value = typed_value(choice.value, item.type)
        except ValueError:
            problems.append(_problem(index, "choices", "choice_type", name=item.name, value=choice.value,
                                     type=item.type))
            continue
        if value in values:
            problems.append(_problem(index, "choices", "duplicate_choice", name=item.name,
                                     value=choice.value))
        values.add(value)
    return problems


def _limit_problems(index: int, item: Field) -> list[ModelProblem]:
    problems = []
    numbers = {}
    for attribute in ("minimum", "maximum"):
        text = getattr(item, attribute).strip()
        if not text:
            continue
        if item.type not in ("integer", "number"):
            problems.append(_problem(index, attribute, "limit_needs_number", name=item.name))
            continue
        try:
            numbers[attribute] = typed_value(text, item.type)
        except ValueError:
            problems.append(_problem(index, attribute, "limit_type", name=item.name, value=text,
                                     type=item.type))
    if len(numbers) == 2 and numbers["minimum"] > numbers["maximum"]:
        problems.append(_problem(index, "maximum", "maximum_below_minimum", name=item.name))
    text = item.max_length.strip()
    if text:
        if item.type != "string":
            problems.append(_problem(index, "max_length", "length_needs_string", name=item.name))
        elif not text.isdigit() or int(text) < 1:
            problems.append(_problem(index, "max_length", "bad_length", name=item.name, value=text))
    return problems


def _show_if_problems(index: int, item: Field, fields: list[Field]) -> list[ModelProblem]:
    if item.show_if is None:
        return []
    target = item.show_if.field
    earlier = {f.name: f for f in fields[:index]}
    if target == item.name:
        return [_problem(index, "show_if", "show_if_self", name=item.name)]
    if target not in earlier:
        later = any(f.name == target for f in fields[index + 1:])
        return [_problem(index, "show_if", "show_if_later" if later else "show_if_unknown", name=item.name,
                         other=target)]
    other = earlier[target]
    if other.type not in TYPES:
        return []  # reported on the other field
    try:
        value = typed_value(item.show_if.equals, other.type)
    except ValueError:
        return [_problem(index, "show_if", "show_if_type", name=item.name, other=target,
                         value=item.show_if.equals, type=other.type)]
    if other.choices and other.type != "boolean":
        allowed = set()
        for choice in other.choices:
            try:
                allowed.add(typed_value(choice.value, other.type))
            except ValueError:
                continue
        if value not in allowed:
            return [_problem(index, "show_if", "show_if_not_a_choice", name=item.name, other=target,
                             value=item.show_if.equals)]
    return []


MESSAGES = {
    "bad_form_name": "the form name {name!r} must be lower-case letters, digits, - and _ (at most 64)",
    "no_fields": "the form has no fields; add at least one",
    "missing_name": "field {position}: give the field a name",
    "bad_name": "field {position}: {name!r} is not a usable name — letters, digits and _, starting with a "
                "letter or _, at most 64, and not a Python keyword",
    "duplicate_name": "field {position}: the name {name!r} is already used by field {first}",
    "bad_type": "field {position} ({name}): the type {type!r} is not one of " + ", ".join(TYPES),
    "missing_label": "field {position} ({name}): give the Japanese label",
    "bad_widget": "field {position} ({name}): the widget {widget!r} is not one of " + ", ".join(WIDGETS),
    "widget_for_type": "field {position} ({name}): a {widget} cannot show a {type} field",
    "choices_on_boolean": "field {position} ({name}): a yes/no field cannot have choices",
    "choices_need_choice_widget": "field {position} ({name}): choices need the select or radio widget, "
                                  "not {widget}",
    "widget_needs_choices": "field {position} ({name}): a {widget} needs choices",
    "empty_choice": "field {position} ({name}): a choice has no value",
    "choice_type": "field {position} ({name}): the choice {value!r} is not a {type}",
    "duplicate_choice": "field {position} ({name}): the choice {value!r} appears twice",
    "limit_needs_number": "field {position} ({name}): minimum and maximum are for number fields",
    "limit_type": "field {position} ({name}): {value!r} is not a {type}",
    "maximum_below_minimum": "field {position} ({name}): the maximum is below the minimum",
    "length_needs_string": "field {position} ({name}): a maximum length is for text fields",
    "bad_length": "field {position} ({name}): the maximum length {value!r} is not a positive whole number",
    "show_if_self": "field {position} ({name}): a field cannot depend on itself",
    "show_if_unknown": "field {position} ({name}): show_if names {other!r}, which is not a field of the form",
    "show_if_later": "field {position} ({name}): show_if names {other!r}, which comes later; "
                     "a field can only depend on an earlier one",
    "show_if_type": "field {position} ({name}): show_if compares {other} with {value!r}, "
                    "which is not a {type}",
    "show_if_not_a_choice": "field {position} ({name}): {value!r} is not one of the choices of {other}",
}


def _problem(index: int | None, attribute: str | None, code: str, **params) -> ModelProblem:
    position = index + 1 if index is not None else None
    message = MESSAGES[code].format(position=position, **params)
    return ModelProblem(index, attribute, code, {"position": position, **params}, message)


# -- model ↔ schemas ------------------------------------------------------------------------

def to_schemas(model: FormModel) -> tuple[dict, dict]:
    """(JSON Schema, UI schema) of a valid model (BadInput listing the problems otherwise)."""
    problems = validate_model(model)
    if problems:
        raise BadInput("the form cannot be saved:\n  " + "\n  ".join(p.message for p in problems))
    by_name = {f.name: f for f in model.fields}
    properties, required, conditions = {}, [], []
    ui_fields = {}
    for item in model.fields:
        properties[item.name] = _property(item)
        ui_fields[item.name] = _ui_field(item, by_name)
        if item.required and item.show_if is None:
            required.append(item.name)
        elif item.required:
            other = item.show_if.field
            equals = typed_value(item.show_if.equals, by_name[other].type)
            conditions.append({"if": {"properties": {other: {"const": equals}}, "required": [other]},
                               "then": {"required": [item.name]}})
    schema: dict = {"$schema": SCHEMA_DIALECT}
    if model.title_ja:
        schema["title"] = model.title_ja
    schema.update(type="object", properties=properties)
    if required:
        schema["required"] = required
    if conditions:
        schema["allOf"] = conditions
    ui_schema: dict = {}
    if model.title_en:
        ui_schema["title_en"] = model.title_en
    ui_schema.update(order=[f.name for f in model.fields], fields=ui_fields)
    return schema, ui_schema


def _property(item: Field) -> dict:
    prop: dict = {"type": item.type, "title": item.label_ja.strip()}
    if item.help_ja.strip():
        prop["description"] = item.help_ja.strip()
    if item.choices and item.type != "boolean":
        prop["enum"] = [typed_value(c.value, item.type) for c in item.choices]
    if effective_widget(item) == "date":
        prop.update(format="date", pattern=DATE_PATTERN)
    if item.max_length.strip():
        prop["maxLength"] = int(item.max_length)
    for attribute in ("minimum", "maximum"):
        if getattr(item, attribute).strip():
            prop[attribute] = typed_value(getattr(item, attribute), item.type)
    return prop


def _ui_field(item: Field, by_name: dict[str, Field]) -> dict:
    ui: dict = {}
    if item.label_en.strip():
        ui["label_en"] = item.label_en.strip()
    if item.help_en.strip():
        ui["help_en"] = item.help_en.strip()
    ui["widget"] = effective_widget(item)
    if item.choices and item.type != "boolean":
        ui["choice_labels"] = {text_of(typed_value(c.value, item.type)): {"ja": c.label_ja or c.value,
                                                                           "en": c.label_en}
                               for c in item.choices}
    if item.show_if is not None:
        other = by_name[item.show_if.field]
        ui["show_if"] = {"field": other.name, "equals": typed_value(item.show_if.equals, other.type)}
    return ui


def from_schemas(schema: dict, ui_schema: dict | None = None) -> tuple[FormModel, list[str]]:
    """The model of a stored form, and the parts of the schema the builder cannot keep (a
    hand-written form may use keywords the builder does not edit; saving would drop them).
    Stored files may have been edited by hand, so every part is read defensively."""
    ui_schema = _mapping(ui_schema)
    ui_fields = _mapping(ui_schema.get("fields"))
    properties = _mapping(schema.get("properties"))
    dropped = [f"{key}" for key in schema if key not in KNOWN_FORM_KEYWORDS]
    conditions = schema.get("allOf") if isinstance(schema.get("allOf"), list) else []
    conditional = _conditional_requirements(conditions, dropped)
    required = {n for n in schema.get("required") or [] if isinstance(n, str)}
    order = [n for n in ui_schema.get("order") or [] if isinstance(n, str) and n in properties]
    order += [n for n in properties if n not in order]
    fields = []
    for name in order:
        prop, ui = _mapping(properties[name]), _mapping(ui_fields.get(name))
        dropped += [f"properties/{name}/{key}" for key, value in prop.items()
                    if key not in KNOWN_PROPERTY_KEYWORDS and DATE_KEYWORDS.get(key) != value]
        type_ = prop.get("type", "string")
        if not isinstance(type_, str) or type_ not in TYPES:
            dropped.append(f"properties/{name}/type")
            type_ = "string"
        labels = _mapping(ui.get("choice_labels"))
        enum = prop.get("enum") if isinstance(prop.get("enum"), list) else []
        choices = []
        for value in enum:
            label = _mapping(labels.get(text_of(value)))
            choices.append(Choice(text_of(value), _text(label.get("ja")) or text_of(value),
                                  _text(label.get("en"))))
        show_if = _mapping(ui.get("show_if")) or conditional.get(name)
        fields.append(Field(
            name=name, type=type_, label_ja=_text(prop.get("title")), label_en=_text(ui.get("label_en")),
            help_ja=_text(prop.get("description")), help_en=_text(ui.get("help_en")),
            required=name in required or name in conditional, choices=choices,
            widget=_text(ui.get("widget")) or ("date" if prop.get("format") == "date" else ""),
            show_if=ShowIf(_text(show_if.get("field")), text_of(show_if.get("equals"))) if show_if else None,
            minimum=text_of(prop.get("minimum")), maximum=text_of(prop.get("maximum")),
            max_length=text_of(prop.get("maxLength"))))
    model = FormModel(title_ja=_text(schema.get("title")), title_en=_text(ui_schema.get("title_en")),
                      fields=fields)
    return model, dropped


def _mapping(value) -> dict:
    return value if isinstance(value, dict) else {}


def _text(value) -> str:
    return value if isinstance(value, str) else text_of(value) if isinstance(value, int | float) else ""


def _conditional_requirements(conditions: list, dropped: list[str]) -> dict[str, dict]:
    """field → {field, equals} from the ``allOf`` entries the builder writes; others are dropped."""
    found = {}
    for number, condition in enumerate(conditions):
        try:
            (other, test), = condition["if"]["properties"].items()
            then = condition["then"]["required"]
            if set(condition) != {"if", "then"} or len(then) != 1 or "const" not in test:
                raise ValueError
            found[then[0]] = {"field": other, "equals": test["const"]}
        except (KeyError, TypeError, ValueError, AttributeError):
            dropped.append(f"allOf/{number}")
    return found


# -- preview --------------------------------------------------------------------------------

def render_preview_fields(model: FormModel, lang: str) -> list[PreviewField]:
    """The fields as an applicant or clerk would see them in ``lang`` (ja or en); English
    falls back to the Japanese where no English is given. Works on an unfinished model too."""
    english = lang == "en"
    by_name = {f.name: f for f in model.fields if f.name}
    preview = []
    for item in model.fields:
        label = (item.label_en if english else "") or item.label_ja or item.name
        help_text = (item.help_en if english else "") or item.help_ja
        choices = [(c.value, (c.label_en if english else "") or c.label_ja or c.value) for c in item.choices]
        other = by_name.get(item.show_if.field) if item.show_if else None
        show_if_label = show_if_value_label = ""
        if other is not None:
            show_if_label = (other.label_en if english else "") or other.label_ja or other.name
            show_if_value_label = next(((c.label_en if english else "") or c.label_ja or c.value
                                        for c in other.choices if c.value == item.show_if.equals),
                                       item.show_if.equals)
        preview.append(PreviewField(
            name=item.name, label=label, help=help_text, widget=effective_widget(item),
            required=item.required and item.show_if is None,
            conditionally_required=item.required and item.show_if is not None, choices=choices,
            show_if=item.show_if, show_if_label=show_if_label, show_if_value_label=show_if_value_label,
            minimum=item.minimum.strip(), maximum=item.maximum.strip(), max_length=item.max_length.strip()))
    return preview


# -- the forms of a version, and saving one as a new version --------------------------------

def ui_path_of(form_path: str) -> str:
    return form_path[: -len(".json")] + UI_SUFFIX


def is_ui_schema(path: str) -> bool:
    return path.endswith(UI_SUFFIX)


def forms_of(files: list[SourceFile]) -> list[FormFile]:
    """The forms of a version (JSON Schemas, not their UI schemas), by name."""
    by_path = {f.path: f for f in files}
    forms = []
    for source in files:
        if source.kind != "form" or is_ui_schema(source.path) or source.path.startswith(DEPENDENCY_PREFIX):
            continue
        ui_source = by_path.get(ui_path_of(source.path))
        # A boolean schema (``true``) is a valid form too; the builder sees it as one without fields.
        forms.append(FormFile(name=PurePosixPath(source.path).stem, path=source.path,
                              schema=_mapping(json.loads(source.content)),
                              ui_schema=_mapping(json.loads(ui_source.content)) if ui_source else None))
    return sorted(forms, key=lambda f: f.name)


def form_named(files: list[SourceFile], name: str) -> FormFile | None:
    return next((f for f in forms_of(files) if f.name == name), None)


def encode(document: dict) -> bytes:
    """How the builder writes a schema: readable, Japanese kept as is, stable key order."""
    return (json.dumps(document, ensure_ascii=False, indent=2) + "\n").encode("utf-8")


def user_tasks(files: list[SourceFile]) -> list[UserTask]:
    """The user tasks of a version's own diagrams (not of pinned dependencies), in file order."""
    found = []
    for source in files:
        if source.kind != "bpmn" or source.path.startswith(DEPENDENCY_PREFIX):
            continue
        for element in _parse_stored(source).iter(f"{{{BPMN_NS}}}userTask"):
            found.append(UserTask(source.path, element.get("id", ""), element.get("name", ""),
                                  element.get(f"{{{CAMUNDA_NS}}}formKey", "")))
    return found


def _parse_stored(source: SourceFile):
    """A deployed diagram (it passed the deploy's XML checks), comments kept so that a
    rewritten file differs from the original by the changed attribute only."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)
    return etree.fromstring(source.content, parser=parser)


def _with_form_key(source: SourceFile, task_ids: set[str], form_name: str) -> bytes:
    root = _parse_stored(source)
    for element in root.iter(f"{{{BPMN_NS}}}userTask"):
        if element.get("id") in task_ids:
            element.set(f"{{{CAMUNDA_NS}}}formKey", form_name)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def _diagram_changes(files: list[SourceFile], task_ids, form_name: str) -> dict[str, bytes]:
    """The diagrams rewritten so that the tasks ``task_ids`` name the form (formKey)."""
    wanted = set(task_ids)
    if not wanted:
        return {}
    tasks = {t.id: t for t in user_tasks(files)}
    unknown = sorted(wanted - set(tasks))
    if unknown:
        raise BadInput(f"there is no user task {', '.join(unknown)} in the diagrams")
    taken = sorted(t for t in wanted if tasks[t].form_key not in ("", form_name))
    if taken:
        raise BadInput(f"the task {', '.join(taken)} already uses another form")
    changes = {}
    for source in files:
        ids = {t for t in wanted if tasks[t].path == source.path and tasks[t].form_key != form_name}
        if ids:
            changes[source.path] = _with_form_key(source, ids, form_name)
    return changes


def new_version_with_form(engine, session, key: str, form_name: str, schema: dict, ui_schema: dict,
                          actor: str | None, *, tasks=()) -> SaveResult:
    """Deploy the latest version of ``key`` again with form ``form_name`` set to these schemas,
    and the user tasks ``tasks`` (ids) naming it as their ``formKey``.

    An existing form keeps its place in the bundle; a new one goes to ``forms/<name>.json``.
    Nothing is deployed when nothing changes. Files pinned from called processes
    (``dependencies/``) are left for the deploy to pin again, as for any new upload.
    """
    definition, files = engine.definition_files(session, key)
    existing = form_named(files, form_name)
    problems = validate_form_name(form_name) if existing is None else []  # hand-named forms stay editable
    if problems:
        raise BadInput(problems[0].message)
    form_path = existing.path if existing else f"{FORMS_FOLDER}/{form_name}.json"
    wanted = {form_path: encode(schema), ui_path_of(form_path): encode(ui_schema),
              **_diagram_changes(files, tasks, form_name)}
    current = {f.path: f.content for f in files}
    if all(current.get(path) == content for path, content in wanted.items()):
        return SaveResult(key, definition.version, created=False)
    with tempfile.TemporaryDirectory(prefix="madoguchi-form-") as folder:
        root = Path(folder)
        for source in files:
            if not source.path.startswith(DEPENDENCY_PREFIX) and source.path not in wanted:
                _write(root, source.path, source.content)
        for path, content in wanted.items():
            _write(root, path, content)
        result = engine.deploy(session, root, actor=actor)
    if result.definition.key != key:  # a bundle without a manifest is keyed by its process id
        raise BadInput(f"the new version was deployed as {result.definition.key!r}, not {key!r}")
    return SaveResult(key, result.definition.version, result.created)


def _write(root: Path, relative: str, content: bytes) -> None:
    target = (root / relative).resolve()
    if not target.is_relative_to(root.resolve()):
        raise BadInput(f"the stored file {relative!r} points outside its bundle")
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(content)


__all__ = ["TYPES", "WIDGETS", "Choice", "ShowIf", "Field", "FormModel", "ModelProblem", "FormFile",
           "SaveResult", "PreviewField", "choices_from_lines", "choices_to_lines", "effective_widget",
           "typed_value", "text_of",
           "validate_form_name", "validate_model", "to_schemas", "from_schemas", "render_preview_fields",
           "UserTask", "user_tasks", "forms_of", "form_named", "encode", "new_version_with_form"]
