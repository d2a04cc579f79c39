"""Reading and writing the catalogue (the caller's session; nothing is committed here)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.orm import Session, load_only

from engine.catalogue.entry import CatalogueEntry
from engine.catalogue.normalize import fold, fold_all
from engine.catalogue.search_index import IndexedProcedure, SearchIndex
from engine.store.models import utcnow
from engine.store.models_catalogue import CatalogueLifeEvent, CatalogueProcedure

#: What a result list shows; the other columns load when they are read.
LISTED = (CatalogueProcedure.slug, CatalogueProcedure.name_ja, CatalogueProcedure.name_en,
          CatalogueProcedure.summary_ja, CatalogueProcedure.summary_en, CatalogueProcedure.category,
          CatalogueProcedure.department, CatalogueProcedure.channel, CatalogueProcedure.identity_level)
#: How many related procedures a procedure page shows.
RELATED_COUNT = 6


@dataclass(frozen=True)
class SearchResult:
    total: int
    procedures: list[CatalogueProcedure]


@dataclass(frozen=True)
class Facet:
    """One value to browse by (a category, life event or department) and how many it holds."""

    value: str
    count: int


def search_columns(entry: CatalogueEntry) -> dict[str, str]:
    """The normalized text a search compares against, computed once when the entry is written."""
    return {
        "search_name": fold_all([entry.name_ja, entry.reading, entry.name_en]),
        "search_keywords": fold_all(entry.keywords),
        "search_other": fold_all([entry.category, *entry.life_events, entry.department, entry.summary_ja,
                                  entry.summary_en]),
    }


def save_entries(session: Session, entries: Iterable[CatalogueEntry], *, source: str) -> list[CatalogueProcedure]:
    """Create or replace the entries (by slug)."""
    entries = list(entries)
    slugs = [entry.slug for entry in entries]
    existing = {row.slug: row for row in session.scalars(
        select(CatalogueProcedure).where(CatalogueProcedure.slug.in_(slugs)))} if slugs else {}
    now = utcnow()
    saved = []
    for entry in entries:
        row = existing.get(entry.slug)
        if row is None:
            row = CatalogueProcedure(slug=entry.slug)
            session.add(row)
        for name, value in entry.as_dict().items():
            setattr(row, name, value)
        for name, value in search_columns(entry).items():
            setattr(row, name, value)
        row.source = source
        row.updated_at = now
        saved.append(row)
    session.flush()
    ids = [row.id for row in saved]
    if ids:
        session.execute(delete(CatalogueLifeEvent).where(CatalogueLifeEvent.procedure_id.in_(ids)))
        rows = [{"procedure_id": row.id, "life_event": event} for row in saved for event in row.life_events]
        if rows:
            session.execute(CatalogueLifeEvent.__table__.insert(), rows)
    return saved


def manifest_slugs(session: Session, slugs: list[str]) -> set[str]:
    """Which of ``slugs`` are described by a deployed bundle's manifest."""
    if not slugs:
        return set()
    return set(session.scalars(select(CatalogueProcedure.slug).where(
        CatalogueProcedure.slug.in_(slugs), CatalogueProcedure.source == "manifest")))


def _rank(entry: IndexedProcedure, folded: str) -> int:
    """0 the name (or reading) starts with the query, 1 the name contains it, 2 a keyword, 3 the rest."""
    if " " + folded in entry.search_name:
        return 0
    if folded in entry.search_name:
        return 1
    return 2 if folded in entry.search_keywords else 3


def search(session: Session, index: SearchIndex, query: str = "", *, category: str | None = None,
           life_event: str | None = None, department: str | None = None, limit: int = 20,
           offset: int = 0) -> SearchResult:
    """Procedures matching ``query`` (folded as the stored text is) and the filters, best first:
    a name (or reading) that starts with the query, then one that contains it, then keywords,
    then the rest; shorter names first within a rank. Words separated by spaces match as one
    run ("住民 票") or, ranked last, each anywhere."""
    entries = index.entries(session)
    if category:
        entries = [e for e in entries if e.category == category]
    if department:
        entries = [e for e in entries if e.department == department]
    if life_event:
        entries = [e for e in entries if life_event in e.life_events]
    folded = fold(query)
    if folded:
        ranked = [(_rank(e, folded), e.order) for e in entries if folded in e.search_all]
        words = [w for w in (fold(part) for part in query.split()) if w]
        if len(words) > 1:
            ranked += [(3, e.order) for e in entries
                       if folded not in e.search_all and all(word in e.search_all for word in words)]
    else:
        ranked = [(0, e.order) for e in entries]
    ranked.sort()
    page = [order[-1] for _rank_, order in ranked[offset:offset + limit]]
    rows = {row.id: row for row in session.scalars(
        select(CatalogueProcedure).options(load_only(*LISTED)).where(CatalogueProcedure.id.in_(page)))} if page else {}
    return SearchResult(total=len(ranked), procedures=[rows[id_] for id_ in page if id_ in rows])


def by_slug(session: Session, slug: str) -> CatalogueProcedure | None:
    return session.scalars(select(CatalogueProcedure).where(CatalogueProcedure.slug == slug)).first()


def related(session: Session, procedure: CatalogueProcedure, count: int = RELATED_COUNT) -> list[CatalogueProcedure]:
    """The procedures the entry names as related, then others of its life events, then of its category."""
    found: dict[int, CatalogueProcedure] = {}
    if procedure.related:
        named = {row.slug: row for row in session.scalars(
            select(CatalogueProcedure).where(CatalogueProcedure.slug.in_(procedure.related)))}
        found.update((row.id, row) for row in (named.get(slug) for slug in procedure.related) if row)
    siblings = []
    if procedure.life_events:
        siblings.append(select(CatalogueProcedure).join(
            CatalogueLifeEvent, CatalogueLifeEvent.procedure_id == CatalogueProcedure.id)
            .where(CatalogueLifeEvent.life_event.in_(procedure.life_events)))
    siblings.append(select(CatalogueProcedure).where(CatalogueProcedure.category == procedure.category))
    for statement in siblings:
        if len(found) >= count:
            break
        statement = statement.where(CatalogueProcedure.id != procedure.id,
                                    CatalogueProcedure.id.not_in(list(found) or [0]))
        for row in session.scalars(statement.order_by(CatalogueProcedure.name_ja).limit(count - len(found))):
            found.setdefault(row.id, row)
    return list(found.values())[:count]


def facets(session: Session, index: SearchIndex) -> dict[str, list[Facet]]:
    """Every category, life event and department with its number of procedures."""
    counts: dict[str, Counter] = {"category": Counter(), "life_event": Counter(), "department": Counter()}
    for entry in index.entries(session):
        counts["category"][entry.category] += 1
        counts["department"][entry.department] += 1
        counts["life_event"].update(entry.life_events)
    return {name: [Facet(value, count) for value, count in sorted(counter.items())]
            for name, counter in counts.items()}


def all_entries(session: Session) -> list[CatalogueProcedure]:
    return list(session.scalars(select(CatalogueProcedure).order_by(CatalogueProcedure.category,
                                                                    CatalogueProcedure.slug)))
