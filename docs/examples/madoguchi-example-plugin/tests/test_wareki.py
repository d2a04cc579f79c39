"""The 和暦 conversion on its own: each era's first and last day."""

from datetime import date

import pytest

from madoguchi_example.wareki import parse_date, to_wareki


@pytest.mark.parametrize(("day", "expected"), [
    ("2026-04-01", "令和8年4月1日"),
    ("2019-05-01", "令和元年5月1日"),
    ("2019-04-30", "平成31年4月30日"),
    ("1989-01-08", "平成元年1月8日"),
    ("1989-01-07", "昭和64年1月7日"),
    ("1926-12-25", "昭和元年12月25日"),
    ("1926-12-24", "大正15年12月24日"),
    ("1912-07-30", "大正元年7月30日"),
    ("1912-07-29", "明治45年7月29日"),
    ("1873-01-01", "明治6年1月1日"),
])
def test_era_boundaries(day, expected):
    assert to_wareki(date.fromisoformat(day)).text() == expected


def test_first_year_without_gannen():
    assert to_wareki(date(2019, 5, 1)).text(gannen=False) == "令和1年5月1日"


def test_dates_before_the_gregorian_calendar_are_refused():
    with pytest.raises(ValueError, match="before 1873-01-01"):
        to_wareki(date(1872, 12, 31))


@pytest.mark.parametrize("text", ["2019-13-01", "令和元年5月1日", None, ""])
def test_unreadable_dates_say_how_to_write_them(text):
    with pytest.raises(ValueError, match="written like 2019-05-01"):
        parse_date(text)
