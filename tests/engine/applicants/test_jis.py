"""The JIS X 0208 check: the exact boundary of the standard, the friendly conversions, the
suggested replacements."""

from __future__ import annotations

import pytest

from engine.applicants.jis import check_data, in_jis_x_0208, normalized, outside_characters, suggestion_for


@pytest.mark.parametrize(("char", "inside"), [
    ("高", True), ("崎", True), ("吉", True), ("亜", True), ("ー", True), ("〜", True), ("−", True),
    ("A", True), ("\n", True), ("＼", True), ("￥", True), ("熙", True),  # 熙: row 84, added in 1990
    ("髙", False), ("﨑", False),  # IBM extensions (cp932 has them)
    ("𠮷", False),  # outside the BMP, JIS X 0213 only
    ("①", False), ("㈱", False),  # NEC special characters, row 13
    ("ｱ", False),  # half-width katakana: JIS X 0201, not JIS X 0208
    ("¥", False), ("‾", False),  # JIS X 0201 Roman
    ("～", False), ("－", False),  # cp932's code points for 〜 and −
    ("😀", False), ("é", False),
])
def test_the_boundary_of_the_standard(char, inside):
    assert in_jis_x_0208(char) is inside


def test_half_width_katakana_and_windows_code_points_are_converted_not_refused():
    assert normalized("ﾔﾏﾀﾞ ﾊﾟﾝ") == "ヤマダ パン"
    assert normalized("1～3") == "1〜3"
    assert normalized("０３－１２３４") == "０３−１２３４"
    assert outside_characters(normalized("ｶﾞｯｺｳ～")) == []


@pytest.mark.parametrize(("char", "suggestion"), [
    ("髙", "高"), ("﨑", "崎"), ("𠮷", "吉"), ("①", "1"), ("㈱", "(株)"), ("¥", "￥"), ("😀", None),
])
def test_suggestions(char, suggestion):
    assert suggestion_for(char) == suggestion


def test_check_names_the_field_and_each_character_once():
    data, problems = check_data({"name": "髙橋 﨑子 髙", "kana": "ﾀｶﾊｼ", "age": 3, "other": "𠮷"}, ["name", "kana"])
    assert data == {"name": "髙橋 﨑子 髙", "kana": "タカハシ", "age": 3, "other": "𠮷"}
    [problem] = problems
    assert problem.field == "name"
    assert [(o.char, o.suggestion, o.code_point) for o in problem.characters] == [
        ("髙", "高", "U+9AD9"), ("﨑", "崎", "U+FA11")]
    assert problem.message() == "name: characters outside JIS X 0208: 髙 (U+9AD9 → 高), 﨑 (U+FA11 → 崎)"
