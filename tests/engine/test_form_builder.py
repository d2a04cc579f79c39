"""The form builder's model: schemas both ways, validation naming the field, conditional
required-ness enforced by the engine, and saving a form as a new version of a procedure."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from engine.bpmn.bundle import SourceFile
from engine.errors import BadInput
from engine.form_builder import (
    Choice,
    Field,
    FormModel,
    ShowIf,
    choices_from_lines,
    choices_to_lines,
    encode,
    form_named,
    from_schemas,
    new_version_with_form,
    render_preview_fields,
    to_schemas,
    user_tasks,
    validate_model,
)
from engine.forms import validate_submission
from tests.diagrams import chain, process, user_task
from tests.engine.helpers import add_user, complete, open_tasks, start

DOG_REGISTRATION = Path(__file__).parents[2] / "workflows" / "dog-registration"


def moving_form() -> FormModel:
    """転入届: a choice field and a field shown (and then required) for one of its choices."""
    return FormModel(title_ja="転入届", title_en="Moving in", fields=[
        Field(name="reason", type="string", label_ja="転入の理由", label_en="Reason for moving",
              help_ja="該当するものを選んでください", help_en="Choose one", required=True, widget="radio",
              choices=[Choice("work", "仕事", "Work"), Choice("family", "家族", "Family"),
                       Choice("other", "その他", "Other")]),
        Field(name="reason_detail", type="string", label_ja="その他の理由", label_en="Other reason",
              required=True, widget="textarea", max_length="200", show_if=ShowIf("reason", "other")),
        Field(name="household", type="integer", label_ja="世帯人数", label_en="People in the household",
              widget="number", minimum="1", maximum="20"),
        Field(name="moved_on", type="string", label_ja="転入日", widget="date"),
        Field(name="consent", type="boolean", label_ja="同意する", label_en="I agree", widget="checkbox"),
    ])


def as_files(schema: dict) -> list[SourceFile]:
    return [SourceFile("forms/moving.json", "form", encode(schema))]


def test_model_round_trips_through_the_schemas():
    model = moving_form()
    schema, ui_schema = to_schemas(model)
    assert schema["properties"]["reason"] == {"type": "string", "title": "転入の理由",
                                              "description": "該当するものを選んでください",
                                              "enum": ["work", "family", "other"]}
    assert schema["required"] == ["reason"]
    assert schema["allOf"] == [{"if": {"properties": {"reason": {"const": "other"}}, "required": ["reason"]},
                                "then": {"required": ["reason_detail"]}}]
    assert schema["properties"]["household"] == {"type": "integer", "title": "世帯人数", "minimum": 1,
                                                 "maximum": 20}
    assert ui_schema["order"] == ["reason", "reason_detail", "household", "moved_on", "consent"]
    assert ui_schema["fields"]["reason"]["choice_labels"]["family"] == {"ja": "家族", "en": "Family"}
    assert ui_schema["fields"]["reason_detail"]["show_if"] == {"field": "reason", "equals": "other"}
    again, dropped = from_schemas(json.loads(encode(schema)), json.loads(encode(ui_schema)))
    assert dropped == []
    assert again == model


def test_a_hand_written_form_is_read_and_its_unknown_parts_are_named():
    schema = json.loads((DOG_REGISTRATION / "forms" / "review.json").read_text())
    model, dropped = from_schemas(schema)
    assert [f.name for f in model.fields] == ["decision", "comment"]
    assert model.fields[0].required and [c.value for c in model.fields[0].choices] == ["approve", "reject"]
    assert dropped == []
    _, dropped = from_schemas({"type": "object", "properties": {"code": {"type": "string", "pattern": "^A"}},
                               "additionalProperties": False})
    assert dropped == ["additionalProperties", "properties/code/pattern"]


def test_choice_lines_read_and_write():
    choices = choices_from_lines("work|仕事|Work\n\nother|その他\nplain\n")
    assert choices == [Choice("work", "仕事", "Work"), Choice("other", "その他", ""),
                       Choice("plain", "plain", "")]
    assert choices_to_lines(choices) == "work|仕事|Work\nother|その他\nplain|plain"


def test_a_conditional_field_is_required_only_when_its_condition_holds():
    schema, _ = to_schemas(moving_form())
    files = as_files(schema)
    validate_submission(files, "moving", {"reason": "work"})
    validate_submission(files, "moving", {"reason": "other", "reason_detail": "親の介護"})
    with pytest.raises(BadInput, match="reason_detail"):
        validate_submission(files, "moving", {"reason": "other"})
    with pytest.raises(BadInput, match="household"):
        validate_submission(files, "moving", {"reason": "work", "household": 0})
    with pytest.raises(BadInput, match="moved_on"):
        validate_submission(files, "moving", {"reason": "work", "moved_on": "令和8年4月1日"})


def codes(model: FormModel) -> list[tuple[int | None, str, str]]:
    return [(p.index, p.attribute, p.code) for p in validate_model(model)]


def test_validation_names_the_field_and_the_rule():
    assert validate_model(moving_form()) == []
    model = moving_form()
    model.fields[1].name = "reason detail"
    model.fields[2].name = "reason"
    problems = validate_model(model)
    assert [(p.index, p.code) for p in problems] == [(1, "bad_name"), (2, "duplicate_name")]
    assert problems[0].message.startswith("field 2: 'reason detail' is not a usable name")
    assert "already used by field 1" in problems[1].message

    model = moving_form()
    model.fields[4].choices = [Choice("yes")]
    model.fields[2].choices = [Choice("two")]
    model.fields[2].widget = "select"
    assert codes(model) == [(2, "choices", "choice_type"), (4, "choices", "choices_on_boolean")]

    model = moving_form()
    model.fields[3].choices = [Choice("a")]  # a date field cannot offer choices
    model.fields[0].choices = []  # a radio needs choices
    assert codes(model) == [(0, "choices", "widget_needs_choices"),
                            (3, "choices", "choices_need_choice_widget")]
    model = moving_form()
    model.fields[1].show_if = ShowIf("reason", "unemployed")
    assert codes(model) == [(1, "show_if", "show_if_not_a_choice")]


def test_show_if_must_point_to_an_earlier_field():
    model = moving_form()
    model.fields[2].show_if = ShowIf("consent", "true")
    model.fields[3].show_if = ShowIf("nowhere", "x")
    model.fields[4].show_if = ShowIf("consent", "true")
    assert codes(model) == [(2, "show_if", "show_if_later"), (3, "show_if", "show_if_unknown"),
                            (4, "show_if", "show_if_self")]
    model = moving_form()
    model.fields[4].show_if = ShowIf("household", "many")
    assert codes(model) == [(4, "show_if", "show_if_type")]


def test_limits_fit_the_type():
    model = moving_form()
    model.fields[0].max_length = "-3"
    model.fields[2].minimum, model.fields[2].maximum = "10", "2"
    model.fields[3].minimum = "1"
    model.fields[4].max_length = "5"
    assert codes(model) == [(0, "max_length", "bad_length"), (2, "maximum", "maximum_below_minimum"),
                            (3, "minimum", "limit_needs_number"), (4, "max_length", "length_needs_string")]
    with pytest.raises(BadInput, match="field 1"):
        to_schemas(model)


def test_the_preview_speaks_both_languages():
    japanese = render_preview_fields(moving_form(), "ja")
    english = render_preview_fields(moving_form(), "en")
    assert [f.label for f in japanese][:2] == ["転入の理由", "その他の理由"]
    assert [f.label for f in english] == ["Reason for moving", "Other reason", "People in the household",
                                          "転入日", "I agree"]  # no English label: the Japanese shows
    assert english[0].choices == [("work", "Work"), ("family", "Family"), ("other", "Other")]
    assert (english[1].show_if_label, english[1].show_if_value_label) == ("Reason for moving", "Other")
    assert english[1].conditionally_required and not english[1].required and english[0].required


FORM_TASK = process("moving_in", "\n".join([
    '<bpmn:startEvent id="s"/>', user_task("apply", "申請内容の入力", extra_attrs='camunda:formKey="apply"'),
    '<bpmn:endEvent id="e"/>', chain("s", "apply", "e")]))


def deploy_folder(engine, db, folder: Path):
    with db.transaction() as session:
        return engine.deploy(session, folder, actor="admin").definition


def save(engine, db, key: str, name: str, model: FormModel, tasks=()):
    schema, ui_schema = to_schemas(model)
    with db.transaction() as session:
        return new_version_with_form(engine, session, key, name, schema, ui_schema, actor="admin",
                                     tasks=tasks)


def test_an_uploaded_diagram_gets_its_form_from_the_builder(engine, db, tmp_path):
    """The whole story: a diagram without forms, a form built for its task, an application."""
    folder = tmp_path / "moving-in"
    folder.mkdir()
    diagram = FORM_TASK.replace(' camunda:formKey="apply"', "")
    diagram = diagram.replace("<bpmn:process", "<!-- 転入届 -->\n<bpmn:process")
    (folder / "moving-in.bpmn").write_text(diagram, encoding="utf-8")
    (folder / "procedure.toml").write_text('key = "moving-in"\n', encoding="utf-8")
    deploy_folder(engine, db, folder)

    saved = save(engine, db, "moving-in", "apply", moving_form(), tasks=["apply"])
    assert (saved.version, saved.created) == (2, True)
    assert save(engine, db, "moving-in", "apply", moving_form(), tasks=["apply"]).created is False
    with db.transaction() as session:
        _, files = engine.definition_files(session, "moving-in")
    assert [(t.id, t.name, t.form_key) for t in user_tasks(files)] == [("apply", "申請内容の入力", "apply")]
    rewritten = next(f for f in files if f.path == "moving-in.bpmn").content.decode()
    assert "<!-- 転入届 -->" in rewritten and 'camunda:candidateGroups="clerks"' in rewritten

    add_user(engine, db, "clerk", "clerks")
    application = start(engine, db, "moving-in").application
    (task,) = open_tasks(engine, db, application.id)
    with pytest.raises(BadInput, match="reason"):
        complete(engine, db, task.id, "clerk", {"household": 3})
    complete(engine, db, task.id, "clerk", {"reason": "work"})
    assert open_tasks(engine, db, application.id) == []

    with pytest.raises(BadInput, match="already uses another form"):
        save(engine, db, "moving-in", "other", moving_form(), tasks=["apply"])
    with pytest.raises(BadInput, match="no user task"):
        save(engine, db, "moving-in", "apply", moving_form(), tasks=["nowhere"])


def test_saving_a_form_makes_a_new_version_once(engine, db):
    deploy_folder(engine, db, DOG_REGISTRATION)
    model, _ = from_schemas(json.loads((DOG_REGISTRATION / "forms" / "review.json").read_text()))
    model.fields[1].label_en = "Findings"
    first = save(engine, db, "dog-registration", "review", model)
    assert (first.version, first.created) == (2, True)
    again = save(engine, db, "dog-registration", "review", model)
    assert (again.version, again.created) == (2, False)
    with db.transaction() as session:
        definition, files = engine.definition_files(session, "dog-registration")
        _, old_files = engine.definition_files(session, "dog-registration", 1)
    assert definition.version == 2
    assert {f.path for f in files} == {f.path for f in old_files} | {"forms/review.ui.json"}
    assert form_named(files, "review").ui_schema["fields"]["comment"]["label_en"] == "Findings"


def test_a_form_built_for_a_task_validates_its_completion(engine, db, tmp_path):
    # A diagram's formKey must name a form of the bundle, so the upload carries a bare one.
    folder = tmp_path / "moving-in"
    (folder / "forms").mkdir(parents=True)
    (folder / "moving-in.bpmn").write_text(FORM_TASK, encoding="utf-8")
    (folder / "procedure.toml").write_text('key = "moving-in"\ntitle = "転入届"\n', encoding="utf-8")
    (folder / "forms" / "apply.json").write_text('{"type": "object"}', encoding="utf-8")
    assert deploy_folder(engine, db, folder).version == 1

    saved = save(engine, db, "moving-in", "apply", moving_form())
    assert (saved.version, saved.created) == (2, True)
    add_user(engine, db, "clerk", "clerks")
    application = start(engine, db, "moving-in").application
    with db.transaction() as session:
        definition, _ = engine.definition_files(session, "moving-in")
    assert application.definition_id == definition.id  # new applications run the version with the form
    (task,) = open_tasks(engine, db, application.id)
    with pytest.raises(BadInput, match="reason_detail"):
        complete(engine, db, task.id, "clerk", {"reason": "other"})
    complete(engine, db, task.id, "clerk", {"reason": "other", "reason_detail": "親の介護", "household": 2})
    assert open_tasks(engine, db, application.id) == []


def test_a_new_form_goes_to_the_forms_folder_and_bad_names_are_refused(engine, db):
    deploy_folder(engine, db, DOG_REGISTRATION)
    saved = save(engine, db, "dog-registration", "owner", moving_form())
    assert saved.version == 2
    with db.transaction() as session:
        _, files = engine.definition_files(session, "dog-registration")
    assert {"forms/owner.json", "forms/owner.ui.json"} <= {f.path for f in files}
    with pytest.raises(BadInput, match="form name"):
        save(engine, db, "dog-registration", "../evil", moving_form())


def test_a_hand_edited_ui_schema_of_the_wrong_shape_does_not_break_the_editor():
    schema = {"type": "object", "title": 5, "properties": {"a": {"type": "string", "title": "A"}, "b": "odd"}}
    ui_schema = {"order": "a", "fields": {"a": {"show_if": "b", "choice_labels": [], "label_en": ["x"]}}}
    model, dropped = from_schemas(schema, ui_schema)
    assert [(f.name, f.label_ja, f.label_en, f.show_if) for f in model.fields] == [("a", "A", "", None),
                                                                                  ("b", "", "", None)]
    assert model.title_ja == "5" and dropped == []
