"""和暦 dates and fiscal years, at every change of era."""

from datetime import date, datetime

import pytest

from engine.issuance.wareki import era_of, fiscal_year, wareki, wareki_fiscal_label, wareki_year


@pytest.mark.parametrize(("day", "expected"), [
    (date(2026, 11, 27), "令和8年11月27日"),
    (date(2019, 5, 1), "令和元年5月1日"),
    (date(2019, 4, 30), "平成31年4月30日"),
    (date(2020, 1, 1), "令和2年1月1日"),
    (date(1989, 1, 8), "平成元年1月8日"),
    (date(1989, 1, 7), "昭和64年1月7日"),
    (date(1926, 12, 25), "昭和元年12月25日"),
    (date(1926, 12, 24), "大正15年12月24日"),
    (date(1912, 7, 30), "大正元年7月30日"),
    (date(1912, 7, 29), "明治45年7月29日"),
    (date(1868, 10, 23), "明治元年10月23日"),
    (date(1900, 1, 1), "明治33年1月1日"),
])
def test_wareki_at_era_boundaries(day, expected):
    assert wareki(day) == expected


def test_datetime_is_read_as_its_date():
    assert wareki(datetime(2019, 5, 1, 0, 0)) == "令和元年5月1日"


def test_dates_before_meiji_are_refused():
    with pytest.raises(ValueError, match="明治"):
        wareki(date(1868, 10, 22))


def test_wareki_year():
    assert wareki_year(date(2026, 11, 27)) == "令和8年"
    assert wareki_year(date(2019, 5, 1)) == "令和元年"
    assert era_of(date(1989, 1, 7)) == ("昭和", 64)


@pytest.mark.parametrize(("day", "expected"), [
    (date(2027, 3, 31), 2026),
    (date(2027, 4, 1), 2027),
    (date(2026, 1, 1), 2025),
    (date(2026, 12, 31), 2026),
])
def test_fiscal_year_starts_on_april_first(day, expected):
    assert fiscal_year(day) == expected


@pytest.mark.parametrize(("fy", "expected"), [
    (2026, "令和8年度"),
    (2019, "令和元年度"),
    (2018, "平成30年度"),
    (1989, "平成元年度"),
    (1988, "昭和63年度"),
    (1926, "昭和元年度"),
    (1925, "大正14年度"),
    (1912, "大正元年度"),
])
def test_fiscal_year_label(fy, expected):
    assert wareki_fiscal_label(fy) == expected


def test_fiscal_year_label_before_meiji_is_refused():
    with pytest.raises(ValueError):
        wareki_fiscal_label(1867)
