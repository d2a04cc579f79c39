"""Field mapping between the core system's records and a procedure's data: configuration.

Every core system names its fields differently (and vendors rename them between versions),
so which core field becomes which procedure field is the ``mapping`` setting, not code. The
same table is used in both directions: records coming back are turned into procedure fields,
and search criteria and notified changes are turned into core fields.

A mapping is a JSON object::

    {
      "date_format": "iso",                      # how the core system writes dates
      "fields": {                                # core field → procedure field
        "SHIMEI_KANJI": "name",
        "SEINENGAPPI": {"field": "birth_date", "type": "date"},
        "SEIBETSU": {"field": "sex", "values": {"1": "male", "2": "female"}},
        "KATAGAKI": {"field": "address_detail", "required": false}
      },
      "change_kinds": {"address_change": "TENKYO"}  # procedure's kind → core's 異動事由
    }

A section left out keeps the built-in default; a section given replaces it whole (so a field
can be dropped). Procedure dates are always ISO ``YYYY-MM-DD``; ``date_format`` may be
``iso``, ``wareki`` (``昭和60年4月12日``) or ``wareki_code`` (``3600412``: 元号コード + YYMMDD).
"""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from plugins.resident_records.client import InvalidParameters, UnexpectedAnswer

DEFAULT_MAPPING: dict = {
    "date_format": "iso",
    "fields": {
        "ATENA_BANGO": "resident_id",            # 宛名番号: the municipality's own number, not the 個人番号
        "SETAI_BANGO": "household_id",           # 世帯番号
        "SHIMEI_KANJI": "name",                  # 氏名
        "SHIMEI_KANA": "name_kana",              # 氏名カナ
        "SEINENGAPPI": {"field": "birth_date", "type": "date"},
        "SEIBETSU": {"field": "sex", "values": {"1": "male", "2": "female"}},
        "JUSHO": "address",                      # 住所
        "KATAGAKI": {"field": "address_detail", "required": False},   # 方書 (building, room)
        "JUMIN_JOTAI": {"field": "status", "values": {"1": "resident", "2": "moved_out", "3": "deceased"}},
    },
    "change_kinds": {
        "address_change": "TENKYO",              # 転居 (within the municipality)
        "name_change": "SHIMEI_HENKO",           # 氏名変更
        "household_change": "SETAI_HENKO",       # 世帯変更
        "move_out": "TENSHUTSU",                 # 転出
    },
}

DATE_FORMATS = ("iso", "wareki", "wareki_code")
FIELD_TYPES = ("text", "date")
#: Procedure fields the operations cannot work without.
NEEDED_FIELDS = {"resident_id": "notify_change", "name": "lookup", "birth_date": "lookup", "address": "lookup"}
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class MappingError(ValueError):
    """The ``mapping`` setting cannot be used; the message says where and why."""


# -- dates ---------------------------------------------------------------------------------------

#: name, 元号コード, first day — newest first, so the first era that began on or before a date is its era.
ERAS = (("令和", 5, date(2019, 5, 1)), ("平成", 4, date(1989, 1, 8)), ("昭和", 3, date(1926, 12, 25)),
        ("大正", 2, date(1912, 7, 30)), ("明治", 1, date(1868, 10, 23)))
_ISO = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_WAREKI = re.compile(r"^(明治|大正|昭和|平成|令和)(元|\d{1,2})年(\d{1,2})月(\d{1,2})日$")
_WAREKI_CODE = re.compile(r"^([1-5])(\d{2})(\d{2})(\d{2})$")


def parse_iso(text: object) -> date:
    if not isinstance(text, str) or not _ISO.match(text):
        raise ValueError("not a date written YYYY-MM-DD")
    return date.fromisoformat(text)


def to_wareki(day: date, *, code: bool = False) -> str:
    for name, number, first in ERAS:
        if day >= first:
            year = day.year - first.year + 1
            if code:
                return f"{number}{year:02d}{day.month:02d}{day.day:02d}"
            return f"{name}{'元' if year == 1 else year}年{day.month}月{day.day}日"
    raise ValueError("before the Meiji era")


def from_wareki(text: object) -> date:
    """``昭和60年4月12日``/``平成元年1月8日`` or ``3600412`` → a date, checked against the era's span."""
    if not isinstance(text, str):
        raise ValueError("not a 和暦 date")
    text = unicodedata.normalize("NFKC", text).strip()
    if match := _WAREKI.match(text):
        name, year, month, day = match.groups()
        era = next(i for i, e in enumerate(ERAS) if e[0] == name)
        year = 1 if year == "元" else int(year)
    elif match := _WAREKI_CODE.match(text):
        number, year, month, day = (int(g) for g in match.groups())
        era = next(i for i, e in enumerate(ERAS) if e[1] == number)
    else:
        raise ValueError("not a 和暦 date")
    first = ERAS[era][2]
    result = date(first.year + int(year) - 1, int(month), int(day))  # ValueError for 2月30日
    end = ERAS[era - 1][2] if era > 0 else None
    if result < first or (end is not None and result >= end) or int(year) < 1:
        raise ValueError(f"not a day of the {ERAS[era][0]} era")
    return result


# -- the mapping ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class FieldRule:
    core: str
    field: str
    type: str = "text"
    #: core code → procedure value (e.g. SEIBETSU "1" → "male"); None: the value as it is.
    values: dict[str, str] | None = None
    required: bool = True


@dataclass(frozen=True)
class Mapping:
    rules: tuple[FieldRule, ...]
    change_kinds: dict[str, str]
    date_format: str = "iso"

    def rule(self, procedure_field: str) -> FieldRule | None:
        return next((r for r in self.rules if r.field == procedure_field), None)

    # -- core → procedure -----------------------------------------------------------------

    def record(self, record: dict, where: str) -> dict:
        """One core record as procedure fields; unmapped core fields are left out.

        ``where`` names the record in messages ("POST /residents/search, record 2"); values
        never appear in them.
        """
        result = {}
        for rule in self.rules:
            value = record.get(rule.core)
            if value is None or value == "":
                if rule.required:
                    raise UnexpectedAnswer(f"{where}: the record has no {rule.core} (mapped to '{rule.field}')")
                result[rule.field] = None
                continue
            result[rule.field] = self._from_core(rule, value, where)
        return result

    def _from_core(self, rule: FieldRule, value: object, where: str) -> str:
        if isinstance(value, bool) or not isinstance(value, (str, int)):
            raise UnexpectedAnswer(f"{where}: {rule.core} is a {type(value).__name__}, not text")
        value = str(value)
        if rule.type == "date":
            try:
                return self._parse_date(value).isoformat()
            except ValueError:
                raise UnexpectedAnswer(f"{where}: {rule.core} is not a date in the configured format "
                                       f"'{self.date_format}'") from None
        if rule.values is not None:
            if value not in rule.values:
                raise UnexpectedAnswer(f"{where}: {rule.core} has a code the mapping does not know; add it to "
                                       f"the 'values' of {rule.core} (known: {', '.join(sorted(rule.values))})")
            return rule.values[value]
        return value

    # -- procedure → core -----------------------------------------------------------------

    def to_core(self, values: dict, what: str) -> dict:
        """Procedure fields (search criteria, changed fields) as core fields."""
        core = {}
        for name, value in values.items():
            rule = self.rule(name)
            if rule is None:
                known = ", ".join(sorted(r.field for r in self.rules))
                raise InvalidParameters(f"{what}: '{name}' is not a field of the mapping (known: {known})")
            core[rule.core] = self._to_core(rule, value, what)
        return core

    def _to_core(self, rule: FieldRule, value: object, what: str) -> str | None:
        if value is None:
            return None
        if rule.type == "date":
            try:
                return self.core_date(parse_iso(value))
            except ValueError:
                raise InvalidParameters(f"{what}: '{rule.field}' must be a date written YYYY-MM-DD") from None
        if rule.values is not None:
            codes = {v: k for k, v in rule.values.items()}
            if value not in codes:
                raise InvalidParameters(f"{what}: '{rule.field}' must be one of {', '.join(sorted(codes))}")
            return codes[value]
        if isinstance(value, bool) or not isinstance(value, (str, int)):
            raise InvalidParameters(f"{what}: '{rule.field}' must be text")
        return str(value)

    def core_date(self, day: date) -> str:
        if self.date_format == "wareki":
            return to_wareki(day)
        if self.date_format == "wareki_code":
            return to_wareki(day, code=True)
        return day.isoformat()

    def _parse_date(self, text: str) -> date:
        return parse_iso(text) if self.date_format == "iso" else from_wareki(text)

    def change_kind(self, kind: object) -> str:
        if not isinstance(kind, str) or kind not in self.change_kinds:
            raise InvalidParameters(f"notify_change: 'kind' must be one of {', '.join(sorted(self.change_kinds))}")
        return self.change_kinds[kind]


# -- reading the setting -------------------------------------------------------------------------

def load_mapping(setting: str | None) -> Mapping:
    """The mapping from the setting: empty → the default; ``{…}`` → JSON text; else a file path."""
    text = (setting or "").strip()
    if not text:
        return parse_mapping(DEFAULT_MAPPING)
    if text.startswith("{"):
        source = "the JSON text"
    else:
        path = Path(text).expanduser()
        source = f"the file {path}"
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise MappingError(f"cannot read {source}: {exc.strerror or exc}") from None
    try:
        raw = json.loads(text)
    except ValueError as exc:
        raise MappingError(f"{source} is not JSON: {exc}") from None
    try:
        return parse_mapping(raw)
    except MappingError as exc:
        raise MappingError(f"{source}: {exc}") from None


def parse_mapping(raw: object) -> Mapping:
    if not isinstance(raw, dict):
        raise MappingError("the mapping must be a JSON object with 'fields', 'change_kinds' and/or 'date_format'")
    unknown = set(raw) - {"fields", "change_kinds", "date_format"}
    if unknown:
        raise MappingError(f"unknown key(s) {', '.join(sorted(unknown))}; expected 'fields', 'change_kinds', "
                           "'date_format'")
    date_format = raw.get("date_format", DEFAULT_MAPPING["date_format"])
    if date_format not in DATE_FORMATS:
        raise MappingError(f"'date_format' must be one of {', '.join(DATE_FORMATS)}")
    fields = raw.get("fields", DEFAULT_MAPPING["fields"])
    if not isinstance(fields, dict) or not fields:
        raise MappingError("'fields' must be an object of core field → procedure field")
    rules = tuple(_rule(core, entry) for core, entry in fields.items())
    seen: set[str] = set()
    for rule in rules:
        if rule.field in seen:
            raise MappingError(f"two core fields are mapped to '{rule.field}'")
        seen.add(rule.field)
    missing = [f"'{name}' (needed by {needed_by})" for name, needed_by in NEEDED_FIELDS.items() if name not in seen]
    if missing:
        raise MappingError(f"'fields' maps no core field to {', '.join(missing)}")
    kinds = raw.get("change_kinds", DEFAULT_MAPPING["change_kinds"])
    if (not isinstance(kinds, dict) or not kinds
            or not all(isinstance(k, str) and isinstance(v, str) and v for k, v in kinds.items())):
        raise MappingError("'change_kinds' must be an object of procedure kind → core code")
    return Mapping(rules=rules, change_kinds=dict(kinds), date_format=date_format)


def _rule(core: str, entry: object) -> FieldRule:
    if isinstance(entry, str):
        entry = {"field": entry}
    if not isinstance(entry, dict):
        raise MappingError(f"fields.{core}: expected a procedure field name or an object with 'field'")
    unknown = set(entry) - {"field", "type", "values", "required"}
    if unknown:
        raise MappingError(f"fields.{core}: unknown key(s) {', '.join(sorted(unknown))}")
    field, kind = entry.get("field"), entry.get("type", "text")
    values, required = entry.get("values"), entry.get("required", True)
    if not isinstance(field, str) or not _IDENTIFIER.match(field):
        raise MappingError(f"fields.{core}: 'field' must be a name like resident_id")
    if kind not in FIELD_TYPES:
        raise MappingError(f"fields.{core}: 'type' must be one of {', '.join(FIELD_TYPES)}")
    if not isinstance(required, bool):
        raise MappingError(f"fields.{core}: 'required' must be true or false")
    if values is not None:
        if kind == "date":
            raise MappingError(f"fields.{core}: a date field cannot have 'values'")
        if (not isinstance(values, dict) or not values
                or not all(isinstance(k, str) and isinstance(v, str) for k, v in values.items())):
            raise MappingError(f"fields.{core}: 'values' must be an object of core code → procedure value")
        if len(set(values.values())) != len(values):
            # Changes are sent back as codes: two codes for one value would be a guess.
            raise MappingError(f"fields.{core}: two codes in 'values' have the same procedure value")
    return FieldRule(core=core, field=field, type=kind, values=dict(values) if values else None,
                     required=required)
