"""One catalogue entry, checked: what a manifest's ``[catalogue]`` section or a row of an
import file must say about a procedure.

Checking returns every problem at once as ``(field, message)`` pairs; the callers add where
the entry came from (the manifest file, or the row of the import file).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, fields

IDENTITY_LEVELS = ("none", "account", "jpki")
CHANNELS = ("online", "elsewhere", "counter")
SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,99}$")
LIST_FIELDS = ("keywords", "life_events", "documents", "fees", "related")
TEXT_FIELDS = ("slug", "name_ja", "name_en", "reading", "category", "department", "summary_ja", "summary_en",
               "identity_level", "channel", "definition_key", "external_url", "external_name", "counter")
REQUIRED = ("slug", "name_ja", "category", "department", "identity_level", "channel")
#: The longest text each column holds (engine/store/models_catalogue.py).
MAX_LENGTH = {"slug": 100, "name_ja": 300, "name_en": 300, "reading": 300, "category": 100, "department": 200,
              "identity_level": 12, "channel": 12, "definition_key": 100, "external_url": 1000,
              "external_name": 200}
MAX_ITEM_LENGTH = 100 + 200  # one keyword, document or fee line


@dataclass
class CatalogueEntry:
    slug: str
    name_ja: str
    category: str
    department: str
    identity_level: str
    channel: str
    name_en: str | None = None
    reading: str | None = None
    summary_ja: str | None = None
    summary_en: str | None = None
    definition_key: str | None = None
    external_url: str | None = None
    external_name: str | None = None
    counter: str | None = None
    keywords: list[str] = field(default_factory=list)
    life_events: list[str] = field(default_factory=list)
    documents: list[str] = field(default_factory=list)
    fees: list[str] = field(default_factory=list)
    related: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {f.name: getattr(self, f.name) for f in fields(self)}


KNOWN_FIELDS = frozenset(f.name for f in fields(CatalogueEntry))


def check_entry(values: dict) -> tuple[CatalogueEntry | None, list[tuple[str, str]]]:
    """``(entry, [])`` when ``values`` make a valid entry, else ``(None, problems)``.

    Text fields are stripped (empty means absent); list fields take a list of texts.
    """
    problems: list[tuple[str, str]] = []
    clean: dict = {}
    for name in sorted(set(values) - KNOWN_FIELDS):
        problems.append((name, f"unknown field; use one of: {', '.join(sorted(KNOWN_FIELDS))}"))
    for name in TEXT_FIELDS:
        value = values.get(name)
        if value is None:
            continue
        if not isinstance(value, str):
            problems.append((name, "must be text"))
            continue
        value = value.strip()
        if len(value) > MAX_LENGTH.get(name, 4000):
            problems.append((name, f"is longer than {MAX_LENGTH.get(name, 4000)} characters"))
        if value:
            clean[name] = value
    for name in LIST_FIELDS:
        value = values.get(name)
        if value is None:
            continue
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            problems.append((name, "must be a list of texts"))
            continue
        items = [item.strip() for item in value if item.strip()]
        if any(len(item) > MAX_ITEM_LENGTH for item in items):
            problems.append((name, f"has an item longer than {MAX_ITEM_LENGTH} characters"))
        clean[name] = list(dict.fromkeys(items))
    for name in REQUIRED:
        if name not in clean and not any(f == name for f, _ in problems):
            problems.append((name, "is required"))
    problems.extend(_check_choices(clean))
    if problems:
        return None, problems
    return CatalogueEntry(**clean), []


def _check_choices(clean: dict) -> list[tuple[str, str]]:
    problems = []
    slug = clean.get("slug")
    if slug is not None and not SLUG.match(slug):
        problems.append(("slug", f"{slug!r} is not a slug: use lower-case letters, digits and hyphens"))
    level = clean.get("identity_level")
    if level is not None and level not in IDENTITY_LEVELS:
        problems.append(("identity_level", f"{level!r} is not one of {', '.join(IDENTITY_LEVELS)}"))
    channel = clean.get("channel")
    if channel is not None and channel not in CHANNELS:
        problems.append(("channel", f"{channel!r} is not one of {', '.join(CHANNELS)}"))
    if channel == "online" and not clean.get("definition_key"):
        problems.append(("definition_key", "is required when channel is online (the deployed procedure's key)"))
    if channel == "elsewhere" and not clean.get("external_url"):
        problems.append(("external_url", "is required when channel is elsewhere (where the resident applies)"))
    if channel == "counter" and not clean.get("counter"):
        problems.append(("counter", "is required when channel is counter (where to go and when)"))
    url = clean.get("external_url")
    if url is not None and not url.startswith(("https://", "http://")):
        problems.append(("external_url", f"{url!r} must start with https:// or http://"))
    for slug_ in clean.get("related", []):
        if not SLUG.match(slug_):
            problems.append(("related", f"{slug_!r} is not a slug of another procedure"))
    return problems
