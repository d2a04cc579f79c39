"""Checking what applicants type: 法人番号 check digits, kana, postcodes, phone numbers, dates."""

from __future__ import annotations

from datetime import date

import pytest

from engine.applicants import corporate_number
from engine.applicants.profile import ProfileInvalid, clean_profile, email_problem, to_katakana

BUSINESS = {"name": "佐藤 次郎", "company_name": "株式会社窓口商事", "corporate_number": "7000012050002",
            "representative": "代表取締役 窓口 太郎"}


@pytest.mark.parametrize("number", ["7000012050002", "5010001067883", "1180301018771"])
def test_published_corporate_numbers_pass_the_check_digit(number):
    assert corporate_number.is_valid(number)


@pytest.mark.parametrize("number", ["8000012050002", "700001205000", "70000120500021", "700001205000A", ""])
def test_wrong_check_digit_or_length_fails(number):
    assert not corporate_number.is_valid(number)


def test_full_width_digits_and_separators_are_accepted():
    assert corporate_number.normalise("７０００ー０１２０ー５０００２".replace("ー", "-")) == "7000012050002"
    assert clean_profile("business", {**BUSINESS, "corporate_number": "７０００ ０１２ ０５０ ００２"}
                         )["corporate_number"] == "7000012050002"


def test_business_needs_company_number_and_representative_all_reported_at_once():
    with pytest.raises(ProfileInvalid) as caught:
        clean_profile("business", {"name": "佐藤 次郎", "corporate_number": "7000012050003"})
    assert caught.value.by_field() == {"company_name": "required", "representative": "required",
                                       "corporate_number": "invalid_corporate_number"}


def test_individual_profile_is_normalised():
    clean = clean_profile("individual", {
        "name": " 山田　花子 ", "name_kana": "やまだ　はなこ", "birth_date": "1985-04-01", "postcode": "１０００００１",
        "address": "本町1-2-3", "phone": "０３-１２３４-５６７８", "company_name": "ignored"})
    assert clean == {"name": "山田 花子", "name_kana": "ヤマダ ハナコ", "birth_date": date(1985, 4, 1),
                     "postcode": "100-0001", "address": "本町1-2-3", "phone": "03-1234-5678",
                     "company_name": None, "company_name_kana": None, "corporate_number": None,
                     "representative": None}


def test_half_width_katakana_becomes_full_width():
    assert to_katakana("ﾔﾏﾀﾞ ﾊﾅｺ") == "ヤマダ ハナコ"


@pytest.mark.parametrize(("field", "value", "code"), [
    ("name_kana", "Yamada", "invalid_kana"),
    ("birth_date", "1985/04/01", "invalid_date"),
    ("birth_date", "2999-01-01", "date_out_of_range"),
    ("postcode", "12-345", "invalid_postcode"),
    ("phone", "12345", "invalid_phone"),
    ("name", "", "required"),
    ("address", "あ" * 501, "too_long"),
])
def test_each_bad_field_is_named(field, value, code):
    with pytest.raises(ProfileInvalid) as caught:
        clean_profile("individual", {"name": "山田 花子", field: value}, today=date(2026, 11, 27))
    assert caught.value.by_field() == {field: code}


@pytest.mark.parametrize("address", ["hanako@example.jp", "a.b+c@city.example.lg.jp"])
def test_good_addresses(address):
    assert email_problem(address) is None


@pytest.mark.parametrize("address", ["hanako", "hanako@localhost", "a b@example.jp", "花子@example.jp", "a@@b.jp"])
def test_bad_addresses(address):
    assert email_problem(address).code == "invalid_email"
