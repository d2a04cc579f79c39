"""Japanese era dates (和暦) as printed on issued documents.

An era starts on the day of the change of era (改元), and its first year is written 元年.
明治 is counted from 1868-10-23, the Gregorian date of the change to 明治. Dates before
1873 were kept in the old lunisolar calendar, so a Gregorian date in 明治1–5 is printed as
the same day, not converted; earlier dates are refused.

The Japanese fiscal year (年度) runs from April 1 to March 31 and is named after the
calendar year in which it starts.
"""

from __future__ import annotations

from datetime import date, datetime

#: (first day, name), newest first.
ERAS: tuple[tuple[date, str], ...] = (
    (date(2019, 5, 1), "令和"),
    (date(1989, 1, 8), "平成"),
    (date(1926, 12, 25), "昭和"),
    (date(1912, 7, 30), "大正"),
    (date(1868, 10, 23), "明治"),
)


def era_of(d: date) -> tuple[str, int]:
    """The era name and the year within it, e.g. ("令和", 8)."""
    if isinstance(d, datetime):
        d = d.date()
    for start, name in ERAS:
        if d >= start:
            return name, d.year - start.year + 1
    raise ValueError(f"{d.isoformat()} is before the 明治 era; 和暦 dates start on {ERAS[-1][0].isoformat()}")


def _year_text(name: str, year: int) -> str:
    return f"{name}{'元' if year == 1 else year}年"


def wareki_year(d: date) -> str:
    """The era year of a date, e.g. "令和8年", "令和元年"."""
    return _year_text(*era_of(d))


def wareki(d: date) -> str:
    """A date in 和暦, e.g. "令和8年11月27日", "平成元年1月8日"."""
    return f"{wareki_year(d)}{d.month}月{d.day}日"


def fiscal_year(d: date) -> int:
    """The fiscal year (年度) a date falls in: 2027-03-31 → 2026, 2027-04-01 → 2027."""
    return d.year if d.month >= 4 else d.year - 1


def wareki_fiscal_label(fy: int) -> str:
    """The name of a fiscal year, e.g. 2026 → "令和8年度".

    A fiscal year in which the era changed takes the new era, as is usual on documents
    written after the change: 2019 → "令和元年度", 1989 → "平成元年度", 1988 → "昭和63年度".
    """
    name, year = era_of(date(fy, 12, 31))
    return f"{_year_text(name, year)}度"
