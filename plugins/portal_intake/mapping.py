"""Which national procedure becomes which Madoguchi procedure, and which form item which field.

The mapping is a JSON file (setting ``mapping_file``; docs/plugins/portal-intake.md)::

    {"procedures": {
        "<national procedure code>": {
            "procedure": "<Madoguchi procedure key>",
            "fields": {"申請者.氏名": "applicant.name", "児童[].氏名": "children[].name"},
            "required": ["申請者.氏名", "児童[]"]
        }}}

A path names a form item by its group and item names joined with ``.``; ``[]`` after a name
marks a repeated group (児童 — one entry per child), mapped element by element onto a list
field, so ``児童[].氏名`` and ``児童[].生年月日`` fill the same ``children[i]``. Form items the
mapping does not name are not copied into the application's data (the whole original is kept
as a stored file): data minimisation, and no surprise fields in a clerk's form.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from engine.errors import MadoguchiError

#: The data key the plugin itself fills (receipt number, attachments …); no mapping may use it.
RESERVED_FIELD = "portal"


class MappingError(MadoguchiError):
    """The mapping configuration is broken; the message names the file and the entry."""


class UnmappedProcedure(MadoguchiError):
    """An application of a national procedure the mapping does not list."""


class FormError(MadoguchiError):
    """An application's form does not fit its mapping (a required item missing, a wrong shape)."""


@dataclass(frozen=True)
class ItemPath:
    text: str
    parts: tuple[str, ...]
    #: Index of the part that is a repeated group (``児童[]``), if any.
    repeated: int | None

    @classmethod
    def parse(cls, text: str, where: str) -> ItemPath:
        if not isinstance(text, str) or not text.strip():
            raise MappingError(f"{where}: a path must be a non-empty string, got {text!r}")
        parts, repeated = [], None
        for index, part in enumerate(text.split(".")):
            name = part[:-2] if part.endswith("[]") else part
            if not name or "[" in name or "]" in name:
                raise MappingError(f"{where}: {text!r} is not a path like '申請者.氏名' or '児童[].氏名'")
            if part.endswith("[]"):
                if repeated is not None:
                    raise MappingError(f"{where}: {text!r} has more than one '[]' (nested repeats are not supported)")
                repeated = index
            parts.append(name)
        return cls(text, tuple(parts), repeated)

    @property
    def head(self) -> tuple[str, ...]:
        """The parts up to and including the repeated group."""
        return self.parts if self.repeated is None else self.parts[: self.repeated + 1]

    @property
    def tail(self) -> tuple[str, ...]:
        """The parts inside each element of the repeated group."""
        return () if self.repeated is None else self.parts[self.repeated + 1:]


_MISSING = object()


def _get(value, parts: tuple[str, ...]):
    for part in parts:
        if not isinstance(value, dict) or part not in value:
            return _MISSING
        value = value[part]
    return value


def _set(target: dict, parts: tuple[str, ...], value) -> None:
    for part in parts[:-1]:
        target = target.setdefault(part, {})
    target[parts[-1]] = value


def _empty(value) -> bool:
    return value is _MISSING or value is None or value == "" or value == [] or value == {}


@dataclass(frozen=True)
class ProcedureRule:
    code: str
    procedure: str
    fields: tuple[tuple[ItemPath, ItemPath], ...]
    required: tuple[ItemPath, ...]

    def apply(self, form: dict, receipt_number: str) -> dict:
        """The procedure's data from a national form (FormError if it does not fit)."""
        if not isinstance(form, dict):
            raise FormError(f"受付番号 {receipt_number}: the form is not an object of items")
        for path in self.required:
            self._check_required(form, path, receipt_number)
        data: dict = {}
        for source, target in self.fields:
            if source.repeated is None:
                value = _get(form, source.parts)
                if value is not _MISSING:
                    _set(data, target.parts, value)
                continue
            elements = _get(form, source.head)
            if elements is _MISSING:
                continue
            if not isinstance(elements, list):
                raise FormError(f"受付番号 {receipt_number}: form item {'.'.join(source.head)} should be a "
                                f"repeated group (a list) for mapping {source.text!r}")
            rows = _get(data, target.head)
            if rows is _MISSING:
                rows = []
                _set(data, target.head, rows)
            for index, element in enumerate(elements):
                value = _get(element, source.tail) if source.tail else element
                while len(rows) <= index:
                    rows.append({})
                if value is _MISSING:
                    continue
                if target.tail:
                    _set(rows[index], target.tail, value)
                else:
                    rows[index] = value
        return data

    def _check_required(self, form: dict, path: ItemPath, receipt_number: str) -> None:
        if path.repeated is None or not path.tail:
            if _empty(_get(form, path.head)):
                raise FormError(f"受付番号 {receipt_number}: required form item {path.text!r} is missing or empty "
                                f"(procedure code {self.code})")
            return
        elements = _get(form, path.head)
        if not isinstance(elements, list):
            raise FormError(f"受付番号 {receipt_number}: required repeated group {'.'.join(path.head)!r} is missing")
        for index, element in enumerate(elements, start=1):
            if _empty(_get(element, path.tail)):
                raise FormError(f"受付番号 {receipt_number}: required form item {path.text!r} is missing or empty "
                                f"in entry {index} (procedure code {self.code})")


@dataclass(frozen=True)
class Mapping:
    procedures: dict[str, ProcedureRule]
    #: Where the mapping came from and how to change it, for error messages.
    origin: str

    def rule_for(self, code: str, receipt_number: str, procedure_name: str | None = None) -> ProcedureRule:
        rule = self.procedures.get(code)
        if rule is None:
            named = f" ({procedure_name})" if procedure_name else ""
            raise UnmappedProcedure(
                f"受付番号 {receipt_number}: national procedure code {code!r}{named} is not in the mapping; "
                f"add it under \"procedures\" in {self.origin}")
        return rule


def parse_mapping(document, origin: str) -> Mapping:
    """A Mapping from a decoded JSON document; MappingError names ``origin`` and the entry."""
    if not isinstance(document, dict) or not isinstance(document.get("procedures"), dict):
        raise MappingError(f"{origin}: expected an object with \"procedures\": {{national code: rule}}")
    procedures = {}
    for code, entry in document["procedures"].items():
        where = f"{origin}: procedures[{code!r}]"
        if not isinstance(entry, dict):
            raise MappingError(f"{where}: expected an object with \"procedure\" and \"fields\"")
        unknown = set(entry) - {"procedure", "name", "fields", "required"}
        if unknown:
            raise MappingError(f"{where}: unknown keys {sorted(unknown)} (allowed: procedure, name, fields, required)")
        procedure = entry.get("procedure")
        if not isinstance(procedure, str) or not procedure:
            raise MappingError(f"{where}: \"procedure\" must name a Madoguchi procedure key")
        fields = entry.get("fields", {})
        if not isinstance(fields, dict):
            raise MappingError(f"{where}: \"fields\" must map form item paths to procedure field paths")
        pairs, targets = [], {}
        for source_text, target_text in fields.items():
            source = ItemPath.parse(source_text, f"{where}.fields")
            target = ItemPath.parse(target_text, f"{where}.fields[{source_text!r}]")
            if (source.repeated is None) != (target.repeated is None):
                raise MappingError(f"{where}: {source_text!r} → {target_text!r}: a repeated group ('[]') must map "
                                   "onto a list field ('[]') and a single item onto a single field")
            if target.parts[0] == RESERVED_FIELD:
                raise MappingError(f"{where}: field {target_text!r}: {RESERVED_FIELD!r} is filled by the plugin itself")
            if target.text in targets:
                raise MappingError(f"{where}: {source_text!r} and {targets[target.text]!r} both map to {target.text!r}")
            targets[target.text] = source_text
            pairs.append((source, target))
        _check_no_overlap(where, [target for _, target in pairs])
        required = entry.get("required", [])
        if not isinstance(required, list):
            raise MappingError(f"{where}: \"required\" must be a list of form item paths")
        procedures[str(code)] = ProcedureRule(
            code=str(code), procedure=procedure, fields=tuple(pairs),
            required=tuple(ItemPath.parse(text, f"{where}.required") for text in required))
    return Mapping(procedures, origin)


def _check_no_overlap(where: str, targets: list[ItemPath]) -> None:
    """One target inside another (``applicant`` and ``applicant.name``) would overwrite it."""
    keys = {target.parts: target for target in targets}
    for target in targets:
        for size in range(1, len(target.parts)):
            outer = keys.get(target.parts[:size])
            if outer is not None:
                raise MappingError(f"{where}: field {target.text!r} lies inside field {outer.text!r}")
    lists = {target.head: target for target in targets if target.repeated is not None}
    for target in targets:
        for head, listed in lists.items():
            inside = target.parts[:len(head)] == head
            if inside and (target.repeated is None or target.head != head):
                raise MappingError(f"{where}: field {target.text!r} clashes with the list field {listed.text!r}")


def load_mapping(path: Path, how_to_change: str) -> Mapping:
    """Read and check the mapping file; ``how_to_change`` (the setting) goes into messages."""
    origin = f"{path} (setting {how_to_change})"
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise MappingError(f"cannot read the portal mapping {origin}: {exc.strerror or exc}") from None
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise MappingError(f"{origin} is not valid JSON: line {exc.lineno} column {exc.colno}: {exc.msg}") from None
    return parse_mapping(document, origin)
