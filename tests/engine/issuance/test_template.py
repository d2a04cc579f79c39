"""Document templates: parsing, every kind of problem with file, line and fix, and the sandbox."""

from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from engine.bpmn.bundle import SourceFile, bundle_from_files, kind_of
from engine.errors import DeployRefused
from engine.issuance.template import (
    MAX_FIELDS,
    MAX_TEMPLATE_BYTES,
    RenderError,
    date_filter,
    parse_template,
    template_problems,
    wareki_filter,
    yen_filter,
)

PATH = "documents/certificate.toml"
CERTIFICATE = (Path(__file__).parent / "certificate.toml").read_bytes()

MINIMAL = """\
title = "証明書"
[[fields]]
label = "氏名"
value = "{{ name }}"
[issuer]
name = "見本市長　見本　太郎"
"""


def problems_of(text: str) -> list:
    problems = template_problems(text.encode("utf-8"), PATH)
    assert problems, "expected a problem"
    for problem in problems:
        assert problem.file == PATH
        assert problem.fix
    return problems


def only_problem(text: str):
    problems = problems_of(text)
    assert len(problems) == 1, problems
    return problems[0]


def render_field(value: str, data: dict, index: int = 0) -> str:
    template = parse_template(MINIMAL.replace("{{ name }}", value).encode("utf-8"), PATH)
    field = template.fields[index]
    return field.value.render(data, template.path, field.label)


# ---------------------------------------------------------------------------- good templates


def test_the_sample_certificate_parses():
    template = parse_template(CERTIFICATE, PATH)
    assert template.title == "住民票の写し"
    assert template.subtitle == "（世帯全員）"
    assert len(template.fields) == 9
    assert [f.label for f in template.fields][:3] == ["氏名", "フリガナ", "生年月日"]
    assert template.issuer.seal and template.issuer.seal_text == "見本市長之印"
    assert template.qr_enabled
    assert {"氏", "名", "証", "明"} <= set(template.fixed_characters)
    assert template_problems(CERTIFICATE, PATH) == []


def test_parsing_is_cached_by_content():
    assert parse_template(CERTIFICATE, PATH) is parse_template(bytes(CERTIFICATE), PATH)


def test_defaults():
    template = parse_template(MINIMAL.encode(), PATH)
    assert template.page == "A4"
    assert template.qr_enabled
    assert not template.issuer.seal
    assert template.body is None and template.addressee is None


# ---------------------------------------------------------------------------- problems


def test_toml_syntax_error_gives_its_line():
    problem = only_problem(MINIMAL + "broken = = 1\n")
    assert problem.line == 7
    assert "TOML" in problem.message


def test_file_must_be_utf8_and_small():
    assert "UTF-8" in template_problems("title = '証明書'".encode("shift_jis"), PATH)[0].message
    huge = template_problems(b"#" * (MAX_TEMPLATE_BYTES + 1), PATH)
    assert "bytes" in huge[0].message


def test_unknown_keys_name_their_line():
    problems = problems_of(MINIMAL.replace('title = "証明書"', 'title = "証明書"\ncolour = "red"')
                           + 'stamp = "x"\n')
    by_element = {p.element_id: p for p in problems}
    assert by_element["colour"].line == 2
    assert by_element["issuer.stamp"].line == 8
    assert "seal_text" in by_element["issuer.stamp"].fix


def test_top_level_key_written_below_a_table_gets_a_hint():
    problem = only_problem(MINIMAL.replace('value = "{{ name }}"', 'value = "{{ name }}"\nbody = "本文"'))
    assert problem.element_id == "fields[0].body"
    assert problem.line == 5
    assert "above the first [[fields]]" in problem.fix


def test_wrong_types():
    problems = problems_of(MINIMAL.replace('title = "証明書"', "title = 3") + "seal = \"yes\"\n")
    by_element = {p.element_id: p for p in problems}
    assert by_element["title"].line == 1 and "text" in by_element["title"].message
    assert "true or false" in by_element["issuer.seal"].message


def test_missing_parts():
    problems = problems_of('subtitle = "x"\n')
    messages = " ".join(p.message for p in problems)
    assert "title is missing" in messages
    assert "no [[fields]]" in messages
    assert "no [issuer]" in messages


def test_unsupported_page():
    assert "page size" in only_problem('page = "A3"\n' + MINIMAL).message


def test_too_many_fields_for_one_page():
    rows = "".join(f'[[fields]]\nlabel = "項目{i}"\nvalue = "値"\n' for i in range(MAX_FIELDS + 1))
    problem = only_problem('title = "証明書"\n' + rows + '[issuer]\nname = "市長"\n')
    assert problem.element_id == "fields"
    assert f"at most {MAX_FIELDS}" in problem.message
    assert problem.line == 2 + 3 * MAX_FIELDS


def test_overlong_strings_are_refused():
    problem = only_problem(MINIMAL.replace('value = "{{ name }}"', f'value = "{"あ" * 2001}"'))
    assert problem.element_id == "fields[0].value"
    assert "2,001 characters" in problem.message


def test_seal_needs_its_characters():
    problem = only_problem(MINIMAL + "seal = true\n")
    assert problem.element_id == "issuer.seal"
    assert "seal_text" in problem.fix
    assert "more than 9" in only_problem(MINIMAL + 'seal_text = "見本市長之印見本市長之印"\n').message


def test_jinja_syntax_error_names_the_field_and_line():
    text = MINIMAL.replace('value = "{{ name }}"', 'value = "{{ name }}"\n[[fields]]\nlabel = "住所"\n'
                           'value = "{{ address "')
    problem = only_problem(text)
    assert problem.element_id == "fields[1].value"
    assert problem.line == 7
    assert "placeholder" in problem.message


def test_jinja_error_in_a_multiline_body_points_at_the_line_inside():
    text = 'body = """\n一行目\n二行目 {{ oops(\n"""\n' + MINIMAL
    problem = only_problem(text)
    assert problem.element_id == "body"
    assert problem.line == 3


def test_unknown_filter_is_refused_at_deploy():
    problem = only_problem(MINIMAL.replace("{{ name }}", "{{ name | center(10) }}"))
    assert "center" in problem.message


def test_python_internals_are_refused_at_deploy():
    for expression in ("{{ ''.__class__.__mro__ }}", "{{ name['__class__'] }}", "{{ lipsum.__globals__ }}"):
        problem = only_problem(MINIMAL.replace("{{ name }}", expression))
        assert problem.element_id == "fields[0].value"
        assert "internals" in problem.message


# ---------------------------------------------------------------------------- rendering text


def test_missing_data_is_a_clear_error():
    with pytest.raises(RenderError) as info:
        render_field("{{ name }}", {})
    error = info.value
    assert error.file == PATH and error.element_id == "fields[0].value"
    assert "氏名" in str(error) and "default" in error.fix


def test_default_covers_missing_data_and_none_prints_empty():
    assert render_field("{{ middle | default('なし') }}", {}) == "なし"
    assert render_field("{{ name }}", {"name": None}) == ""


def test_sandbox_refuses_internals_reached_through_data():
    with pytest.raises(RenderError, match="may not"):
        render_field("{{ name[key] }}", {"name": "x", "key": "__class__"})


def test_sandbox_bounds_memory_hungry_expressions():
    for expression in ("{{ 'x' * 1000000 }}", "{{ name.center(100000000) }}", "{{ range(10000000) | list }}",
                       "{{ 10 ** 100000 }}"):
        with pytest.raises(RenderError):
            render_field(expression, {"name": "x"})


def test_runaway_recursion_is_a_render_error():
    with pytest.raises(RenderError, match="cannot be rendered"):
        render_field("{% macro f() %}{{ f() }}{% endmacro %}{{ f() }}", {})


def test_rendered_text_is_capped():
    with pytest.raises(RenderError, match="more than"):
        render_field("{% for i in range(5000) %}あ{% endfor %}", {})


def test_filters():
    assert render_field("{{ d | wareki }}", {"d": "1990-04-01"}) == "平成2年4月1日"
    assert render_field("{{ d | wareki }}", {"d": date(2019, 5, 1)}) == "令和元年5月1日"
    assert wareki_filter(datetime(2026, 11, 26, 16, 0, tzinfo=UTC)) == "令和8年11月27日"  # Tokyo time
    assert wareki_filter("2026-11-26T16:00:00+00:00") == "令和8年11月27日"
    assert date_filter("2026-11-27") == "2026年11月27日"
    assert yen_filter(3000) == "3,000円"
    assert yen_filter("1234567") == "1,234,567円"
    assert yen_filter(0) == "0円"
    with pytest.raises(ValueError):
        yen_filter(12.5)
    with pytest.raises(RenderError, match="not a date"):
        render_field("{{ d | wareki }}", {"d": "someday"})


# ---------------------------------------------------------------------------- the bundle


def test_documents_folder_toml_files_are_document_templates():
    assert kind_of("documents/certificate.toml") == "document"
    assert kind_of("procedure.toml") == "manifest"
    assert kind_of("other/certificate.toml") == "manifest"
    assert kind_of("documents/readme.txt") == "other"


def test_a_broken_template_refuses_the_bundle():
    files = [SourceFile("p.bpmn", "bpmn", b"<definitions/>"),
             SourceFile("documents/good.toml", "document", CERTIFICATE),
             SourceFile("documents/bad.toml", "document",
                        MINIMAL.replace('"{{ name }}"', '"{{ name "').encode())]
    with pytest.raises(DeployRefused) as info:
        bundle_from_files(files, label="bundle")
    assert [str(p).split(":")[:2] for p in info.value.problems] == [["documents/bad.toml", "4"]]


def test_good_templates_pass_the_bundle():
    files = [SourceFile("p.bpmn", "bpmn", b"<definitions/>"),
             SourceFile("documents/c.toml", "document", CERTIFICATE)]
    assert bundle_from_files(files, label="bundle").of_kind("document")
