"""Drafts of start forms: saved by an applicant to finish later, seen by no one else.

Someone else's draft answers exactly like a draft that does not exist (NotFound).
"""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from engine.errors import BadInput, NotFound
from engine.store.models import utcnow
from engine.store.models_portal_forms import ApplicationDraft

#: A draft holds what a form can hold; more is not a draft but a misuse.
MAX_DRAFT_CHARS = 200_000
MAX_DRAFTS = 50


def save(session: Session, applicant_id: int, procedure_key: str, data: dict,
         draft_id: int | None = None) -> ApplicationDraft:
    if len(repr(data)) > MAX_DRAFT_CHARS:
        raise BadInput(f"the draft is too large (at most {MAX_DRAFT_CHARS} characters)")
    if draft_id is not None:
        draft = one(session, applicant_id, draft_id)
        if draft.procedure_key != procedure_key:
            raise NotFound(f"no draft {draft_id}")
        draft.data, draft.updated_at = data, utcnow()
    else:
        if len(listed(session, applicant_id)) >= MAX_DRAFTS:
            raise BadInput(f"you can keep at most {MAX_DRAFTS} drafts: delete one first")
        draft = ApplicationDraft(applicant_id=applicant_id, procedure_key=procedure_key, data=data,
                                 created_at=utcnow(), updated_at=utcnow())
        session.add(draft)
    session.flush()
    return draft


def one(session: Session, applicant_id: int, draft_id: int) -> ApplicationDraft:
    draft = session.get(ApplicationDraft, draft_id)
    if draft is None or draft.applicant_id != applicant_id:
        raise NotFound(f"no draft {draft_id}")
    return draft


def listed(session: Session, applicant_id: int) -> list[ApplicationDraft]:
    return list(session.scalars(select(ApplicationDraft).where(ApplicationDraft.applicant_id == applicant_id)
                                .order_by(ApplicationDraft.updated_at.desc(), ApplicationDraft.id.desc())))


def remove(session: Session, applicant_id: int, draft_id: int) -> None:
    one(session, applicant_id, draft_id)
    session.execute(delete(ApplicationDraft).where(ApplicationDraft.id == draft_id))
