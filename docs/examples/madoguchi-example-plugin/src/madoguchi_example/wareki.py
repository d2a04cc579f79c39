"""Gregorian dates as 和暦 (Japanese era) dates, the way certificates write them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

#: Each era and the day it began, newest first. An era's first year (元年) is the Gregorian
#: year of that day; it ends the day before the next era begins.
ERAS = (
    ("令和", date(2019, 5, 1)),
    ("平成", date(1989, 1, 8)),
    ("昭和", date(1926, 12, 25)),
    ("大正", date(1912, 7, 30)),
    ("明治", date(1868, 1, 25)),
)

#: Japan adopted the Gregorian calendar on 明治6年1月1日; before that, month and day were
#: counted in the old lunisolar calendar and cannot be converted by arithmetic.
GREGORIAN_ADOPTED = date(1873, 1, 1)


@dataclass(frozen=True)
class Wareki:
    era: str
    year: int
    month: int
    day: int

    def text(self, *, gannen: bool = True) -> str:
        """``令和元年5月1日``; with ``gannen=False`` the first year is written ``1年``."""
        year = "元" if gannen and self.year == 1 else str(self.year)
        return f"{self.era}{year}年{self.month}月{self.day}日"


def parse_date(text: object) -> date:
    """An ISO date (``2019-05-01``), or ValueError with a message a clerk can act on."""
    try:
        return date.fromisoformat(str(text))
    except ValueError:
        raise ValueError(f"{text!r} is not a date written like 2019-05-01") from None


def to_wareki(day: date) -> Wareki:
    if day < GREGORIAN_ADOPTED:
        raise ValueError(f"{day.isoformat()} is before 1873-01-01, when Japan adopted the Gregorian "
                         "calendar; it has no exact 和暦 date")
    for era, first_day in ERAS:
        if day >= first_day:
            return Wareki(era, day.year - first_day.year + 1, day.month, day.day)
    raise AssertionError("unreachable: 明治 began before GREGORIAN_ADOPTED")
