"""The portal's procedure catalogue and its search.

Mixed into :class:`engine.facade.Engine`; methods follow the façade's rules (the caller's
session and transaction, nothing committed here).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.audit import append_event
from engine.catalogue import store
from engine.catalogue.entry import CatalogueEntry
from engine.catalogue.importer import read_import_file
from engine.catalogue.manifest import entry_from_manifest
from engine.catalogue.search_index import SearchIndex
from engine.catalogue.store import Facet, SearchResult
from engine.errors import NotFound
from engine.store.models import Definition
from engine.store.models_catalogue import CatalogueProcedure


@dataclass(frozen=True)
class ImportResult:
    saved: list[CatalogueProcedure]
    #: Slugs left as their deployed bundle's manifest describes them.
    kept: list[str]


#: The most results one search page returns.
MAX_PAGE_SIZE = 100


class CatalogueFacade:
    """The portal's procedure catalogue and its search."""

    def catalogue_search(self, session: Session, query: str = "", *, category: str | None = None,
                         life_event: str | None = None, department: str | None = None, limit: int = 20,
                         offset: int = 0) -> SearchResult:
        """Procedures matching ``query`` and the filters, best match first (engine/catalogue/store.py)."""
        return store.search(session, self._catalogue_index(), query, category=category, life_event=life_event, department=department,
                            limit=max(1, min(limit, MAX_PAGE_SIZE)), offset=max(0, offset))

    def _catalogue_index(self) -> SearchIndex:
        # One per engine (per process); the mixin has no __init__ of its own.
        index = self.__dict__.get("_catalogue_search_index")
        if index is None:
            index = self.__dict__.setdefault("_catalogue_search_index", SearchIndex())
        return index

    def catalogue_facets(self, session: Session) -> dict[str, list[Facet]]:
        """Categories, life events and departments, each with its number of procedures."""
        return store.facets(session, self._catalogue_index())

    def catalogue_procedure(self, session: Session, slug: str) -> CatalogueProcedure:
        procedure = store.by_slug(session, slug)
        if procedure is None:
            raise NotFound(f"no procedure {slug!r} in the catalogue")
        return procedure

    def catalogue_related(self, session: Session, procedure: CatalogueProcedure) -> list[CatalogueProcedure]:
        return store.related(session, procedure)

    def catalogue_entries(self, session: Session) -> list[CatalogueProcedure]:
        return store.all_entries(session)

    def catalogue_is_deployed(self, session: Session, procedure: CatalogueProcedure) -> bool:
        """Whether an on-line procedure's definition is deployed here (so it can be started)."""
        if procedure.channel != "online" or not procedure.definition_key:
            return False
        return session.scalar(select(Definition.id).where(Definition.key == procedure.definition_key)
                              .limit(1)) is not None

    def catalogue_save(self, session: Session, entries: list[CatalogueEntry], *, source: str = "import",
                       actor: str | None = None) -> list[CatalogueProcedure]:
        saved = store.save_entries(session, entries, source=source)
        append_event(session, action="catalogue_updated", actor=actor,
                     details={"source": source, "slugs": [row.slug for row in saved][:50], "count": len(saved)})
        return saved

    def catalogue_import(self, session: Session, path: Path | str, *, actor: str | None = None) -> ImportResult:
        """Create or update the entries of an import file (``.csv`` / ``.toml``): all or none.

        Entries that a deployed bundle's manifest describes are kept as the manifest says
        (the bundle is their source of truth) and reported in ``kept``."""
        entries = read_import_file(Path(path))
        owned = store.manifest_slugs(session, [entry.slug for entry in entries])
        saved = self.catalogue_save(session, [e for e in entries if e.slug not in owned], source="import",
                                    actor=actor)
        return ImportResult(saved=saved, kept=sorted(owned))

    def _catalogue_after_deploy(self, session: Session, definition: Definition) -> None:
        """A new version whose manifest has a ``[catalogue]`` section updates its entry."""
        entry = entry_from_manifest(definition.manifest or {}, definition.key)
        if entry is not None:
            self.catalogue_save(session, [entry], source="manifest", actor=definition.deployed_by)
