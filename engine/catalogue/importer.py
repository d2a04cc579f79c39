"""Reading a catalogue import file (``.csv`` or ``.toml``) into checked entries.

CSV: a header row naming the columns (the fields of :class:`CatalogueEntry`); list columns
(keywords, life_events, documents, fees, related) separate their items with ``;``.
TOML: an array of tables ``[[procedure]]`` with the same keys, lists as TOML arrays.
All rows are checked before anything is written, and every problem is reported, each with
its row (the line of the CSV file, or the n-th ``[[procedure]]``) and column.
"""

from __future__ import annotations

import csv
import io
import tomllib
from pathlib import Path

from engine.catalogue.entry import KNOWN_FIELDS, LIST_FIELDS, CatalogueEntry, check_entry
from engine.errors import BadInput

LIST_SEPARATORS = (";", "；")


class CatalogueImportRefused(BadInput):
    """An import file has problems; ``problems`` lists all of them, nothing was written."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("\n".join(problems) + f"\nimport refused: {len(problems)} problem(s), nothing was imported")


def read_import_file(path: Path) -> list[CatalogueEntry]:
    path = Path(path)
    if not path.is_file():
        raise CatalogueImportRefused([f"{path}: no such file — give a .csv or .toml catalogue file"])
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".toml"):
        raise CatalogueImportRefused([f"{path.name}: unknown kind of file — give a .csv or .toml catalogue file"])
    try:
        text = path.read_bytes().decode("utf-8-sig")  # spreadsheets often write a BOM
    except UnicodeDecodeError as exc:
        raise CatalogueImportRefused([f"{path.name}: not UTF-8 text ({exc.reason} at byte {exc.start}) — "
                                      "save the file as UTF-8"]) from None
    rows = _csv_rows(text, path.name) if suffix == ".csv" else _toml_rows(text, path.name)
    return check_rows(rows, path.name)


def _split(value: str) -> list[str]:
    for separator in LIST_SEPARATORS[1:]:
        value = value.replace(separator, LIST_SEPARATORS[0])
    return [item.strip() for item in value.split(LIST_SEPARATORS[0]) if item.strip()]


def _csv_rows(text: str, label: str) -> list[tuple[str, dict]]:
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header = reader.fieldnames or []
    unknown = [name for name in header if name not in KNOWN_FIELDS]
    if not header or unknown:
        what = ", ".join(repr(name) for name in unknown) if unknown else "(none)"
        raise CatalogueImportRefused([f"{label}: row 1: unknown column(s) {what} — the columns are: "
                                      f"{', '.join(sorted(KNOWN_FIELDS))}"])
    rows = []
    for record in reader:
        if None in record:
            rows.append((f"row {reader.line_num}", {"": None}))
            continue
        values = {name: (_split(value or "") if name in LIST_FIELDS else value) for name, value in record.items()}
        if any(v for v in values.values()):
            rows.append((f"row {reader.line_num}", values))
    return rows


def _toml_rows(text: str, label: str) -> list[tuple[str, dict]]:
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise CatalogueImportRefused([f"{label}: cannot be read as TOML ({exc})"]) from None
    unknown = sorted(set(document) - {"procedure"})
    procedures = document.get("procedure", [])
    if unknown or not isinstance(procedures, list):
        raise CatalogueImportRefused([f"{label}: write each procedure as a [[procedure]] table "
                                      f"(found {', '.join(unknown) or 'procedure = …'})"])
    return [(f"procedure {number}", values) for number, values in enumerate(procedures, start=1)]


def check_rows(rows: list[tuple[str, dict]], label: str) -> list[CatalogueEntry]:
    """Entries for ``rows`` (``(where, values)``), or CatalogueImportRefused naming row and column."""
    problems: list[str] = []
    entries: list[CatalogueEntry] = []
    first_row_of: dict[str, str] = {}
    for where, values in rows:
        if "" in values:
            problems.append(f"{label}: {where}: more cells than columns — quote cells that contain commas")
            continue
        entry, found = check_entry(values)
        problems.extend(f"{label}: {where}, column {column}: {message}" for column, message in found)
        if entry is None:
            continue
        if entry.slug in first_row_of:
            problems.append(f"{label}: {where}, column slug: {entry.slug!r} is already used in "
                            f"{first_row_of[entry.slug]} — give each procedure its own slug")
            continue
        first_row_of[entry.slug] = where
        entries.append(entry)
    if not rows:
        problems.append(f"{label}: holds no procedures")
    if problems:
        raise CatalogueImportRefused(problems)
    return entries
