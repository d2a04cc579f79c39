"""A return's deadline (期限): the day by which whoever gets the case back should answer.

A return to the applicant must name one; an internal return (差戻し to an earlier step) may.
The day is a date in Japan. It passes at the end of that day, Japanese time: ``passes_at``
is that instant, which a diagram's timer or ``dueDate`` can read from the route's outcome.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone

from engine.errors import BadInput

#: Japan's time zone: a deadline is a day in the city, whatever the server's zone.
JST = timezone(timedelta(hours=9), "JST")
#: Decisions that may carry a deadline, and the one that must.
TAKES_DEADLINE = ("return", "return_to_applicant")
NEEDS_DEADLINE = ("return_to_applicant",)


def today_in_japan() -> date:
    return datetime.now(JST).date()


def passes_at(deadline: date) -> datetime:
    """The instant the deadline passes: midnight at the end of that day in Japan."""
    return datetime.combine(deadline + timedelta(days=1), time(0), JST)


def parse_deadline(value, decision: str, *, today: date | None = None) -> date | None:
    """The deadline sent with ``decision`` (a date or ``YYYY-MM-DD``), checked; BadInput naming
    ``data.deadline`` when it is missing where needed, malformed, not in the future or not wanted."""
    if value is None or value == "":
        if decision in NEEDS_DEADLINE:
            raise BadInput("a return to the applicant needs a deadline: give the day by which they should "
                           "answer as data.deadline (YYYY-MM-DD)")
        return None
    if decision not in TAKES_DEADLINE:
        raise BadInput(f"data.deadline goes only with a return ({', '.join(TAKES_DEADLINE)}), not with {decision}")
    if isinstance(value, datetime):
        raise BadInput("data.deadline must be a day (YYYY-MM-DD), not a date and time")
    if isinstance(value, date):
        day = value
    elif isinstance(value, str):
        try:
            day = date.fromisoformat(value.strip())
        except ValueError:
            raise BadInput(f"data.deadline {value!r} is not a date: write it as YYYY-MM-DD") from None
    else:
        raise BadInput("data.deadline must be a date written as YYYY-MM-DD")
    current = today or today_in_japan()
    if day <= current:
        raise BadInput(f"data.deadline {day.isoformat()} must be in the future (after {current.isoformat()})")
    return day
