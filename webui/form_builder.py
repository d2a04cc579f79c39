"""The form builder: the forms of every procedure, and an editor that saves a form as a new
version of its procedure (engine/form_builder.py, docs/form-builder.md).

The editor is one plain form that carries the whole draft: every button (add, remove, move,
refresh the preview, save) posts all fields back, and the page is rendered again from what
was posted. No draft is kept on the server and nothing needs JavaScript; form_builder.js only
refreshes the preview while typing, through the ``preview`` view.
"""

from __future__ import annotations

import re

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from markupsafe import Markup

from engine.errors import BadInput, DeployRefused
from engine.form_builder import (
    TYPES,
    WIDGETS,
    Field,
    FormModel,
    ModelProblem,
    ShowIf,
    choices_from_lines,
    choices_to_lines,
    form_named,
    forms_of,
    from_schemas,
    new_version_with_form,
    render_preview_fields,
    to_schemas,
    user_tasks,
    validate_form_name,
    validate_model,
)
from webui.admin import admin_required
from webui.auth import current_user
from webui.db import engine, transaction

blueprint = Blueprint("form_builder", __name__, url_prefix="/admin/forms")

#: A bound on what one posted draft may hold (each field is a dozen inputs).
MAX_FIELDS = 200
ACTION = re.compile(r"^(add|refresh|save|remove|up|down)(?:-(\d+))?$")
FIELD_TEXTS = ("name", "type", "label_ja", "label_en", "help_ja", "help_en", "widget", "minimum", "maximum",
               "max_length")


def type_labels() -> dict[str, str]:
    return {"string": _("Text"), "integer": _("Whole number"), "number": _("Decimal number"),
            "boolean": _("Yes/no")}


def widget_labels() -> dict[str, str]:
    return {"text": _("Text box"), "textarea": _("Text area"), "select": _("Drop-down list"),
            "radio": _("Radio buttons"), "checkbox": _("Check box"), "date": _("Date"),
            "number": _("Number box")}


# -- pages ----------------------------------------------------------------------------------

@blueprint.get("/")
@admin_required
def forms():
    """The forms of the latest version of every procedure."""
    with transaction() as session:
        latest = {d.key: d for d in engine().definitions(session)}  # ordered by key, version
        procedures = []
        for key, definition in latest.items():
            _definition, files = engine().definition_files(session, key)
            procedures.append({"key": key, "title": definition.title, "version": definition.version,
                               "forms": [_summary(f) for f in forms_of(files)]})
    return render_template("form_builder/list.html", procedures=procedures)


def _summary(form) -> dict:
    properties = form.schema.get("properties") or {}
    return {"name": form.name, "path": form.path, "title": form.schema.get("title", ""),
            "fields": len(properties), "built": form.ui_schema is not None}


@blueprint.post("/new")
@admin_required
def new_form():
    key, name = request.form.get("key", "").strip(), request.form.get("name", "").strip()
    problems = validate_form_name(name)
    if not key:
        flash(_("Choose the procedure the form belongs to."), "error")
    elif problems:
        flash(problem_text(problems[0]), "error")
    else:
        with transaction() as session:
            _definition, files = engine().definition_files(session, key)
        if form_named(files, name) is not None:
            flash(_("The procedure %(key)s already has a form named %(name)s.", key=key, name=name), "error")
        else:
            return redirect(url_for("form_builder.edit", key=key, name=name))
    return redirect(url_for("form_builder.forms"))


@blueprint.get("/<key>/<name>")
@admin_required
def edit(key: str, name: str):
    with transaction() as session:
        definition, files = engine().definition_files(session, key)
    stored = form_named(files, name)
    if stored is None and validate_form_name(name):
        abort(404)
    if stored is None:
        model, dropped = FormModel(fields=[Field(name="")]), []
    else:
        model, dropped = from_schemas(stored.schema, stored.ui_schema)
    return _editor(key, name, definition.version, model, lang=_preview_language(), dropped=dropped,
                   is_new=stored is None, tasks=user_tasks(files))


@blueprint.post("/<key>/<name>")
@admin_required
def change(key: str, name: str):
    """Apply the pressed button to the posted draft; ``save`` deploys it as a new version."""
    _require_form(key, name)
    model = model_from_form(request.form)
    action, index = _action(request.form.get("action", "refresh"), len(model.fields))
    lang = _preview_language()
    if action == "add":
        model.fields.append(Field(name=""))
    elif action == "remove":
        del model.fields[index]
    elif action in ("up", "down"):
        other = index - 1 if action == "up" else index + 1
        if 0 <= other < len(model.fields):
            model.fields[index], model.fields[other] = model.fields[other], model.fields[index]
    elif action == "save":
        return _save(key, name, model, lang)
    version, tasks = _latest(key)
    return _editor(key, name, version, model, lang=lang, dropped=_dropped_from(request.form),
                   is_new=request.form.get("is_new") == "1", tasks=tasks)


@blueprint.post("/<key>/<name>/preview")
@admin_required
def preview(key: str, name: str):
    """The preview alone (HTML fragment), for refreshing it while the draft is edited."""
    _require_form(key, name)
    return preview_html(model_from_form(request.form), _preview_language())


def preview_html(model: FormModel, lang: str) -> Markup:
    """The preview in its own language: labels and the few words around them (required, choose…)."""
    with force_locale(lang):
        fields = render_preview_fields(model, lang)
        return Markup(render_template("form_builder/_preview.html", preview=fields, model=model, lang=lang))


def _save(key: str, name: str, model: FormModel, lang: str):
    problems = validate_model(model)
    deploy_problems = []
    if not problems:
        schema, ui_schema = to_schemas(model)
        try:
            with transaction() as session:
                saved = new_version_with_form(engine(), session, key, name, schema, ui_schema,
                                              actor=current_user().name, tasks=request.form.getlist("tasks"))
        except DeployRefused as refused:
            deploy_problems = refused.problems
        except BadInput as refused:  # a chosen task took another form meanwhile, or is gone
            flash(_("The form was not saved: %(reason)s", reason=str(refused)), "error")
        else:
            if saved.created:
                flash(_("Saved as version %(version)s of %(key)s.", version=saved.version, key=key), "info")
            else:
                flash(_("No change: version %(version)s of %(key)s already has this form.",
                        version=saved.version, key=key), "info")
            return redirect(url_for("form_builder.edit", key=key, name=name, lang=lang))
    version, tasks = _latest(key)
    return _editor(key, name, version, model, lang=lang, problems=problems, deploy_problems=deploy_problems,
                   dropped=_dropped_from(request.form), is_new=request.form.get("is_new") == "1", tasks=tasks,
                   status=400)


def _editor(key: str, name: str, version: int, model: FormModel, *, lang: str, problems=(),
            deploy_problems=(), dropped=(), is_new=False, tasks=(), status: int = 200):
    by_place: dict[tuple[int | None, str | None], list[str]] = {}
    for problem in problems:
        by_place.setdefault((problem.index, problem.attribute), []).append(problem_text(problem))
    rows = [_row(index, item) for index, item in enumerate(model.fields)]
    page = render_template(
        "form_builder/edit.html", key=key, name=name, version=version, model=model, rows=rows, lang=lang,
        preview_html=preview_html(model, lang), problems=problems, errors=by_place,
        summary=[(p, problem_text(p)) for p in problems], deploy_problems=deploy_problems, dropped=dropped,
        is_new=is_new, tasks=tasks, chosen_tasks=set(request.form.getlist("tasks")), types=TYPES,
        widgets=WIDGETS, type_labels=type_labels(), widget_labels=widget_labels())
    return page, status


def _row(index: int, item: Field) -> dict:
    """A field as its inputs show it."""
    return {"index": index, "field": item, "choices": choices_to_lines(item.choices),
            "show_if_field": item.show_if.field if item.show_if else "",
            "show_if_equals": item.show_if.equals if item.show_if else ""}


def _require_form(key: str, name: str) -> None:
    """404 unless ``name`` is a form of ``key`` or a name a new form may have."""
    if validate_form_name(name):
        with transaction() as session:
            _definition, files = engine().definition_files(session, key)
        if form_named(files, name) is None:
            abort(404)


def _latest(key: str):
    """(the latest version number of ``key``, the user tasks of its diagrams)."""
    with transaction() as session:
        definition, files = engine().definition_files(session, key)
    return definition.version, user_tasks(files)


def _preview_language() -> str:
    lang = request.values.get("preview_lang") or request.args.get("lang")
    return lang if lang in ("ja", "en") else "ja"


def _action(value: str, count: int) -> tuple[str, int | None]:
    match = ACTION.match(value or "")
    if match is None:
        abort(400, description="Unknown action.")
    action, number = match.group(1), match.group(2)
    if action in ("remove", "up", "down"):
        if number is None or not 0 <= int(number) < count:
            abort(400, description="There is no such field.")
        return action, int(number)
    return action, None


def _dropped_from(form) -> list[str]:
    return [part for part in form.getlist("dropped") if part][:100]


# -- the posted draft -----------------------------------------------------------------------

def model_from_form(form) -> FormModel:
    """The draft as posted: ``fields-<i>-<attribute>`` for i below ``field_count``."""
    try:
        count = min(int(form.get("field_count", "0")), MAX_FIELDS)
    except ValueError:
        abort(400, description="The form is incomplete.")
    fields = []
    for index in range(max(count, 0)):
        prefix = f"fields-{index}-"
        values = {attribute: form.get(prefix + attribute, "").strip() for attribute in FIELD_TEXTS}
        show_if_field = form.get(prefix + "show_if_field", "").strip()
        equals = form.get(prefix + "show_if_equals", "").strip()
        show_if = ShowIf(show_if_field, equals) if show_if_field else None
        fields.append(Field(**values, required=form.get(prefix + "required") == "on",
                            choices=choices_from_lines(form.get(prefix + "choices", "")), show_if=show_if))
    return FormModel(title_ja=form.get("title_ja", "").strip(), title_en=form.get("title_en", "").strip(),
                     fields=fields)


# -- problems in the admin's language -------------------------------------------------------

def problem_text(problem: ModelProblem) -> str:
    """The problem as shown beside its input (the field is clear from where it stands)."""
    p = problem.params
    texts = {
        "bad_form_name": lambda: _("The form name must be lower-case letters, digits, - and _ "
                                   "(at most 64 characters)."),
        "no_fields": lambda: _("The form has no fields; add at least one."),
        "missing_name": lambda: _("Give the field a name."),
        "bad_name": lambda: _("“%(name)s” cannot be used as a name: use letters, digits and _, starting with "
                              "a letter or _ (at most 64 characters).", name=p.get("name")),
        "duplicate_name": lambda: _("The name “%(name)s” is already used by field %(first)s.",
                                    name=p.get("name"), first=p.get("first")),
        "bad_type": lambda: _("Choose one of the types."),
        "missing_label": lambda: _("Give the Japanese label."),
        "bad_widget": lambda: _("Choose one of the widgets."),
        "widget_for_type": lambda: _("This widget cannot show a field of this type."),
        "choices_on_boolean": lambda: _("A yes/no field cannot have choices."),
        "choices_need_choice_widget": lambda: _("Choices need the drop-down list or the radio buttons."),
        "widget_needs_choices": lambda: _("This widget needs choices: one per line, value|日本語|English."),
        "empty_choice": lambda: _("A choice has no value."),
        "choice_type": lambda: _("The choice “%(value)s” does not fit the type of the field.",
                                 value=p.get("value")),
        "duplicate_choice": lambda: _("The choice “%(value)s” appears twice.", value=p.get("value")),
        "limit_needs_number": lambda: _("Minimum and maximum are for number fields."),
        "limit_type": lambda: _("“%(value)s” does not fit the type of the field.", value=p.get("value")),
        "maximum_below_minimum": lambda: _("The maximum is below the minimum."),
        "length_needs_string": lambda: _("A maximum length is for text fields."),
        "bad_length": lambda: _("The maximum length must be a whole number of 1 or more."),
        "show_if_self": lambda: _("A field cannot depend on itself."),
        "show_if_unknown": lambda: _("“%(other)s” is not a field of this form.", other=p.get("other")),
        "show_if_later": lambda: _("“%(other)s” comes later; a field can only depend on an earlier one.",
                                   other=p.get("other")),
        "show_if_type": lambda: _("“%(value)s” does not fit the type of %(other)s.", value=p.get("value"),
                                  other=p.get("other")),
        "show_if_not_a_choice": lambda: _("“%(value)s” is not one of the choices of %(other)s.",
                                          value=p.get("value"), other=p.get("other")),
    }
    text = texts.get(problem.code)
    return text() if text else problem.message
