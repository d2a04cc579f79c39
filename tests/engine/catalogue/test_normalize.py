"""Folding: the many ways a resident types one word meet in one spelling."""

import pytest

from engine.catalogue.normalize import fold, fold_all


@pytest.mark.parametrize("typed", ["じゅうみんひょう", "ジュウミンヒョウ", "ｼﾞｭｳﾐﾝﾋｮｳ", "じゅうみん ひょう",
                                   "ジュウミン　ヒョウ"])
def test_kana_width_and_spaces_fold_together(typed):
    assert fold(typed) == "じゅうみんひょう"


def test_full_width_latin_and_case_fold_together():
    assert fold("ＡＢＣ Tax") == fold("abctax") == "abctax"


def test_middle_dots_and_long_vowel_marks_are_ignored():
    assert fold("マイナンバー・カード") == fold("まいなんばかーど") == fold("ﾏｲﾅﾝﾊﾞｰｶｰﾄﾞ") == "まいなんばかど"
    assert fold("e-Tax") == fold("ｅＴａｘ") == "etax"


def test_kanji_stay_and_empty_is_empty():
    assert fold("住民票の写し") == "住民票の写し"
    assert fold(None) == fold("") == fold(" ・ ") == ""


def test_fold_all_puts_a_space_before_each_text_and_skips_empty_ones():
    assert fold_all(["住民票", None, "ジュウミンヒョウ", ""]) == " 住民票 じゅうみんひょう"
