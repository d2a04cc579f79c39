"""Reports for managers: per procedure, applications per month, share on line, median
processing time, overdue tasks (admin area)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from flask import Blueprint, render_template, request

from engine.scripting.namespace import JST
from webui.admin import admin_required
from webui.db import engine, transaction

blueprint = Blueprint("reports", __name__, url_prefix="/admin/reports")


def _fiscal_year_start(today: date) -> date:
    return date(today.year if today.month >= 4 else today.year - 1, 4, 1)


def _day(value: str | None, fallback: date) -> tuple[date, bool]:
    """(the date, whether the input was usable)."""
    if not value:
        return fallback, True
    try:
        return date.fromisoformat(value), True
    except ValueError:
        return fallback, False


@blueprint.get("/")
@admin_required
def procedures():
    today = datetime.now(JST).date()
    since, since_ok = _day(request.args.get("since"), _fiscal_year_start(today))
    until, until_ok = _day(request.args.get("until"), today)
    start = datetime.combine(since, time(), JST)
    end = datetime.combine(until + timedelta(days=1), time(), JST)  # the last day counts whole
    with transaction() as session:
        figures = engine().procedure_report(session, since=start, until=end)
    months = sorted({month for figure in figures for month in figure.per_month})
    return render_template("reports/procedures.html", figures=figures, months=months, since=since, until=until,
                           bad_dates=not (since_ok and until_ok))
