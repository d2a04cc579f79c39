"""The catalogue's search columns held in memory, so a search scans plain strings in Python.

A city has a few thousand procedures: their folded text fits in about a megabyte, and a
substring scan over it takes well under a millisecond, where a ``LIKE '%…%'`` over three
text columns makes the database read every row twice (matches, then the count). Each search
asks the database one cheap question — how many entries, the latest change — and reloads
the columns only when the answer differs, so every process of an instance sees the others'
imports and deploys at its next search.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine.store.models_catalogue import CatalogueLifeEvent, CatalogueProcedure


@dataclass(frozen=True)
class IndexedProcedure:
    id: int
    name_ja: str
    category: str
    department: str
    life_events: frozenset[str]
    search_name: str
    search_keywords: str
    search_other: str
    #: All three, for the quick rejection of the many entries that do not match at all.
    search_all: str
    #: Order within a rank: shorter names first, then by name, then by id (the last item).
    order: tuple[int, str, int]


class SearchIndex:
    """The search columns of every entry, reloaded when the catalogue has changed."""

    def __init__(self):
        self._lock = threading.Lock()
        self._version: tuple | None = None
        self._entries: list[IndexedProcedure] = []

    def entries(self, session: Session) -> list[IndexedProcedure]:
        version = tuple(session.execute(select(
            func.count(CatalogueProcedure.id), func.max(CatalogueProcedure.id),
            func.max(CatalogueProcedure.updated_at))).one())
        with self._lock:
            if version != self._version:
                self._entries = _load(session)
                self._version = version
            return self._entries


def _load(session: Session) -> list[IndexedProcedure]:
    events: dict[int, set[str]] = {}
    for procedure_id, event in session.execute(select(CatalogueLifeEvent.procedure_id, CatalogueLifeEvent.life_event)):
        events.setdefault(procedure_id, set()).add(event)
    columns = (CatalogueProcedure.id, CatalogueProcedure.name_ja, CatalogueProcedure.category,
               CatalogueProcedure.department, CatalogueProcedure.search_name, CatalogueProcedure.search_keywords,
               CatalogueProcedure.search_other)
    return [IndexedProcedure(id=row.id, name_ja=row.name_ja, category=row.category, department=row.department,
                             life_events=frozenset(events.get(row.id, ())), search_name=row.search_name,
                             search_keywords=row.search_keywords, search_other=row.search_other,
                             search_all=row.search_name + row.search_keywords + row.search_other,
                             order=(len(row.name_ja), row.name_ja, row.id))
            for row in session.execute(select(*columns))]
