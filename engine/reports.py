"""Per-procedure figures for managers: applications per month, the share filed on line, the
median processing time, and how many tasks are overdue now.

"Filed on line" means the application did not come from a staff member's hands: started by
an applicant account, the national portal intake or an integrator — anything but a staff user
typing in a paper form. Months follow the calendar in Japan.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine.store.models import Application, Definition, HumanTask, User

JST = timezone(timedelta(hours=9), "JST")


@dataclass
class ProcedureFigures:
    key: str
    title: str | None
    per_month: dict[str, int] = field(default_factory=dict)
    total: int = 0
    online: int = 0
    completed: int = 0
    median_days: float | None = None
    overdue_tasks: int = 0

    @property
    def online_share(self) -> float | None:
        return self.online / self.total if self.total else None

    def as_dict(self) -> dict:
        return {"key": self.key, "title": self.title, "per_month": self.per_month, "total": self.total,
                "online": self.online, "online_share": self.online_share, "completed": self.completed,
                "median_days": self.median_days, "overdue_tasks": self.overdue_tasks}


def procedure_report(session: Session, since: datetime, until: datetime, now: datetime) -> list[ProcedureFigures]:
    """Figures of applications received in [since, until), one entry per procedure, by key."""
    definitions = {d.id: (d.key, d.title) for d in session.execute(
        select(Definition.id, Definition.key, Definition.title).order_by(Definition.version))}
    staff = set(session.scalars(select(User.name)))
    figures: dict[str, ProcedureFigures] = {}
    durations: dict[str, list[float]] = defaultdict(list)

    def entry(definition_id: int) -> ProcedureFigures:
        key, title = definitions[definition_id]
        found = figures.get(key)
        if found is None:
            found = figures[key] = ProcedureFigures(key, title)
        return found

    rows = session.execute(
        select(Application.definition_id, Application.created_at, Application.completed_at, Application.started_by)
        .where(Application.created_at >= since, Application.created_at < until)
        .execution_options(yield_per=5000))
    for definition_id, created_at, completed_at, started_by in rows:
        figure = entry(definition_id)
        month = created_at.astimezone(JST).strftime("%Y-%m")
        figure.per_month[month] = figure.per_month.get(month, 0) + 1
        figure.total += 1
        if started_by not in staff:
            figure.online += 1
        if completed_at is not None:
            figure.completed += 1
            durations[figure.key].append((completed_at - created_at).total_seconds() / 86400)
    for key, values in durations.items():
        figures[key].median_days = round(statistics.median(values), 2)
    overdue = session.execute(
        select(Application.definition_id, func.count())
        .join(HumanTask, HumanTask.application_id == Application.id)
        .where(HumanTask.status == "open", HumanTask.due_at < now)
        .group_by(Application.definition_id))
    for definition_id, count in overdue:
        entry(definition_id).overdue_tasks += count
    for figure in figures.values():
        figure.per_month = dict(sorted(figure.per_month.items()))
    return [figures[key] for key in sorted(figures)]
