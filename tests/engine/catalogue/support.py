"""Catalogue entries for tests, built from the sample import file's columns."""

from __future__ import annotations

from engine.catalogue.entry import check_entry

BASE = {"category": "戸籍・住民票", "department": "市民課", "identity_level": "none", "channel": "counter",
        "counter": "市役所本庁舎 1階 市民課"}


def entry(slug: str, name_ja: str, **values):
    made, problems = check_entry({**BASE, "slug": slug, "name_ja": name_ja, **values})
    assert not problems, problems
    return made


def save(engine, db, *entries):
    with db.transaction() as session:
        engine.catalogue_save(session, list(entries))
