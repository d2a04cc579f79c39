"""The applications an applicant filed: the link between them, My Page's list, one entry.

An application belongs to at most one applicant. Asking for someone else's application
answers exactly like asking for one that does not exist (NotFound), so ids cannot be probed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine.applicants.public_status import facts, public_status, return_notices
from engine.errors import NotFound
from engine.store.models import Application, Definition, utcnow
from engine.store.models_applicants import ApplicantApplication


@dataclass(frozen=True)
class FiledApplication:
    """One line of My Page: nothing internal (no step, no staff member, no data)."""

    id: int
    reference: str
    procedure_key: str
    procedure_title: dict  # {"ja": …, "en": …}, either may be missing
    filed_at: datetime
    public_status: str
    #: While the application is returned (差し戻し): the office's reason and answer-by day.
    return_reason: str | None = None
    return_deadline: date | None = None

    def title(self, language: str) -> str:
        return (self.procedure_title.get(language) or self.procedure_title.get("ja")
                or next(iter(self.procedure_title.values()), None) or self.procedure_key)

    def as_dict(self) -> dict:
        return {"id": self.id, "reference": self.reference, "procedure": self.procedure_key,
                "procedure_title": self.procedure_title, "filed_at": self.filed_at.isoformat(timespec="seconds"),
                "public_status": self.public_status, "return_reason": self.return_reason,
                "return_deadline": self.return_deadline.isoformat() if self.return_deadline else None}


def link(session: Session, application_id: int, applicant_id: int) -> None:
    session.add(ApplicantApplication(application_id=application_id, applicant_id=applicant_id, created_at=utcnow()))
    session.flush()


def owner_of(session: Session, application_id: int) -> int | None:
    return session.scalar(select(ApplicantApplication.applicant_id)
                          .where(ApplicantApplication.application_id == application_id))


def count(session: Session, applicant_id: int) -> int:
    return session.scalar(select(func.count()).select_from(ApplicantApplication)
                          .where(ApplicantApplication.applicant_id == applicant_id)) or 0


def listed(session: Session, applicant_id: int, *, limit: int = 20, offset: int = 0,
           application_id: int | None = None) -> list[FiledApplication]:
    """The applicant's applications, newest first (or the one ``application_id``, if theirs)."""
    query = (select(Application.id, Application.reference, Application.status, Application.created_at,
                    Application.completed_at, Definition.key, Definition.title, Definition.manifest)
             .join(ApplicantApplication, ApplicantApplication.application_id == Application.id)
             .join(Definition, Definition.id == Application.definition_id)
             .where(ApplicantApplication.applicant_id == applicant_id))
    if application_id is not None:
        query = query.where(Application.id == application_id)
    rows = session.execute(query.order_by(Application.id.desc()).limit(limit).offset(offset)).all()
    routes, taken = facts(session, [row.id for row in rows])
    shown = {row.id: public_status(row.status, row.completed_at is not None, routes.get(row.id), row.id in taken)
             for row in rows}
    notices = return_notices(session, [row.id for row in rows if shown[row.id] == "returned"])
    return [FiledApplication(
        id=row.id, reference=row.reference, procedure_key=row.key,
        procedure_title=_titles(row.manifest, row.title), filed_at=row.created_at, public_status=shown[row.id],
        return_reason=notices[row.id].reason if row.id in notices else None,
        return_deadline=notices[row.id].deadline if row.id in notices else None)
        for row in rows]


def one(session: Session, applicant_id: int, application_id: int) -> FiledApplication:
    found = listed(session, applicant_id, limit=1, application_id=application_id)
    if not found:
        raise NotFound(f"no application {application_id}")
    return found[0]


def _titles(manifest: dict | None, title: str | None) -> dict:
    value = (manifest or {}).get("title")
    if isinstance(value, dict):
        titles = {k: v for k, v in value.items() if isinstance(v, str) and v}
    elif isinstance(value, str) and value:
        titles = {"ja": value}
    else:
        titles = {}
    if not titles and title:
        titles = {"ja": title}
    return titles
