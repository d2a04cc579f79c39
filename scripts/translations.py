"""Build the web UI's Japanese catalogue: extract every string, fill it from the part files,
write messages.po and compile messages.mo.

    python scripts/translations.py          build (make translations)
    python scripts/translations.py --check  exit 1 listing strings without a translation

The Japanese lives in ``webui/translations/ja/parts/*.po``, one file per area of the UI, so
that areas are translated side by side without editing one shared file. One English string
has one Japanese: when two part files translate the same msgid differently, both commands
stop (exit 2) naming the files — give one side a more specific msgid (e.g. "Field name"). ``messages.po`` and
``messages.mo`` are generated from them and committed (the app reads the .mo).
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from io import BytesIO
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

REPO = Path(__file__).resolve().parent.parent
WEBUI = REPO / "webui"
JA = WEBUI / "translations" / "ja" / "LC_MESSAGES"
PARTS = WEBUI / "translations" / "ja" / "parts"
METHODS = [("**.py", "python"), ("templates/**.html", "jinja2")]
OPTIONS = {"templates/**.html": {"extensions": "jinja2.ext.i18n"}}


def extracted() -> dict[str, list[str]]:
    """msgid → where it is used."""
    found: dict[str, list[str]] = {}
    for filename, lineno, message, _comments, _context in extract_from_dir(
            str(WEBUI), METHODS, options_map=OPTIONS, keywords={"_": None, "gettext": None, "lazy_gettext": None}):
        if isinstance(message, tuple):
            message = message[0]
        found.setdefault(message, []).append(f"webui/{filename}:{lineno}")
    return found


class ConflictingTranslations(Exception):
    """Part files disagree on the Japanese of a msgid; the catalogue can hold only one."""

    def __init__(self, clashes: list[tuple[str, list[tuple[str, str]]]]):
        self.clashes = clashes
        lines = [f"{msgid!r} is translated differently: " + "; ".join(f"{where}: {text!r}" for where, text in found)
                 for msgid, found in clashes]
        super().__init__("\n".join(lines) + "\nKeep one translation per msgid: give one side a more specific "
                         "msgid (and its own translation), or make the translations agree.")


def translations(parts: Path | None = None) -> dict[str, str]:
    """msgid → Japanese from every part file; ConflictingTranslations when two files disagree."""
    found: dict[str, list[tuple[str, str]]] = {}
    for part in sorted((parts or PARTS).glob("*.po")):
        with part.open("rb") as handle:
            for message in read_po(handle, locale="ja"):
                if message.id and message.string:
                    where = f"{part.relative_to(REPO) if part.is_relative_to(REPO) else part}:{message.lineno}"
                    found.setdefault(str(message.id), []).append((where, str(message.string)))
    clashes = [(msgid, places) for msgid, places in sorted(found.items())
               if len({text for _where, text in places}) > 1]
    if clashes:
        raise ConflictingTranslations(clashes)
    return {msgid: places[0][1] for msgid, places in found.items()}


def build() -> tuple[Catalog, list[tuple[str, list[str]]]]:
    used, known = extracted(), translations()
    # Fixed dates: the compiled catalogue must depend only on the strings (a test compares it).
    fixed = datetime(2026, 1, 1, tzinfo=UTC)
    catalog = Catalog(locale="ja", project="Madoguchi", fuzzy=False, creation_date=fixed, revision_date=fixed)
    missing = []
    for msgid, places in sorted(used.items()):
        text = known.get(msgid)
        if text is None:
            missing.append((msgid, places))
        catalog.add(msgid, text or "", locations=[(p.rsplit(":", 1)[0], int(p.rsplit(":", 1)[1])) for p in places])
    return catalog, missing


def main(argv: list[str]) -> int:
    try:
        catalog, missing = build()
    except ConflictingTranslations as clash:
        print(clash, file=sys.stderr)
        return 2
    if "--check" in argv:
        for msgid, places in missing:
            print(f"{places[0]}: no Japanese for {msgid!r} — add it to webui/translations/ja/parts/*.po")
        return 1 if missing else 0
    JA.mkdir(parents=True, exist_ok=True)
    with (JA / "messages.po").open("wb") as handle:
        write_po(handle, catalog, omit_header=True, sort_output=True)
    compiled = BytesIO()
    write_mo(compiled, catalog)
    (JA / "messages.mo").write_bytes(compiled.getvalue())
    for msgid, places in missing:
        print(f"{places[0]}: no Japanese for {msgid!r}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
