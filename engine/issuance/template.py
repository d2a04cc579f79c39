"""Document templates: the TOML files under ``documents/`` in a procedure bundle.

A template says what an issued document (証明書, 決定通知書) states and where: a title, a
table of labelled fields, body paragraphs and the issuer with the city's seal. Values are
small Jinja templates over the application data. The format is described for admins in
``docs/documents.md``.

Templates are untrusted admin input. ``template_problems`` lists everything wrong with one
(file, line, the key concerned and how to fix it) so a deployment can be refused whole;
``parse_template`` returns the checked, compiled template. Every Jinja expression is
compiled once, when the template is parsed, and parsed templates are cached by content,
so rendering a document never parses anything. The Jinja environment is sandboxed and
trimmed: no access to Python internals, no functions that can allocate without bound.
"""

from __future__ import annotations

import hashlib
import re
import tomllib
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from jinja2 import StrictUndefined, TemplateError, TemplateSyntaxError, UndefinedError, nodes
from jinja2.sandbox import ImmutableSandboxedEnvironment, SecurityError

from engine.errors import DeployRefused, MadoguchiError, Problem
from engine.issuance.wareki import wareki, wareki_year

MAX_TEMPLATE_BYTES = 64 * 1024
#: Rows the page has room for when every value fits on one line (see render.py's layout).
MAX_FIELDS = 16
MAX_TEXT_CHARS = 2_000
MAX_TITLE_CHARS = 30
MAX_SEAL_CHARS = 9
#: Longest text a single value, or the whole body, may render to.
MAX_RENDERED_CHARS = 4_000
#: Largest number a template may pass to a function (range, str.center …) or use as an exponent.
MAX_CALL_NUMBER = 10_000
PAGES = ("A4",)
TOKYO = ZoneInfo("Asia/Tokyo")

TOP_KEYS = ("title", "subtitle", "page", "number_label", "addressee", "fields", "body", "issuer", "qr")
FIELD_KEYS = ("label", "value")
ISSUER_KEYS = ("name", "title", "seal_text", "seal")
QR_KEYS = ("enabled", "note")
DEFAULT_QR_NOTE = "この文書の真正性は右記のURLで確認できます。"

#: Filters kept from Jinja's defaults: each is bounded by the size of its input.
#: Left out: HTML helpers, ``random`` (documents must be reproducible) and padding filters
#: (``center``, ``indent``, ``wordwrap``, ``format``) whose output size the template controls.
SAFE_JINJA_FILTERS = (
    "abs", "capitalize", "count", "d", "default", "dictsort", "first", "float", "int", "items", "join",
    "last", "length", "list", "lower", "map", "max", "min", "reject", "rejectattr", "replace", "reverse",
    "round", "select", "selectattr", "sort", "string", "sum", "title", "trim", "truncate", "unique", "upper",
    "wordcount",
)


class RenderError(MadoguchiError):
    """A document cannot be produced from this template and data (missing data, too long …)."""

    def __init__(self, file: str, element_id: str | None, message: str, fix: str):
        self.file = file
        self.element_id = element_id
        self.detail = message
        self.fix = fix
        where = f"{file}: {element_id}" if element_id else file
        super().__init__(f"{where}: {message} — {fix}")


# ---------------------------------------------------------------------------- filters


def _as_date(value: Any) -> date:
    if isinstance(value, datetime):
        return value.astimezone(TOKYO).date() if value.tzinfo else value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        text = value.strip()
        try:
            if "T" in text or " " in text:
                return _as_date(datetime.fromisoformat(text))
            return date.fromisoformat(text)
        except ValueError:
            pass
    raise ValueError(f"{value!r} is not a date (give a date or an ISO string such as 2026-11-27)")


def wareki_filter(value: Any) -> str:
    """``{{ birth_date | wareki }}`` → 平成2年4月1日."""
    return wareki(_as_date(value))


def wareki_year_filter(value: Any) -> str:
    """``{{ d | wareki_year }}`` → 令和8年."""
    return wareki_year(_as_date(value))


def date_filter(value: Any) -> str:
    """``{{ d | date }}`` → 2026年11月27日."""
    d = _as_date(value)
    return f"{d.year}年{d.month}月{d.day}日"


def yen_filter(value: Any) -> str:
    """``{{ fee | yen }}`` → 3,000円 (whole yen; fractions are refused, not rounded)."""
    try:
        amount = Decimal(str(value).replace(",", "").strip())
    except InvalidOperation:
        raise ValueError(f"{value!r} is not an amount of yen") from None
    if amount != amount.to_integral_value():
        raise ValueError(f"{value!r} is not a whole number of yen")
    return f"{int(amount):,}円"


DOCUMENT_FILTERS = {
    "wareki": wareki_filter,
    "wareki_year": wareki_year_filter,
    "date": date_filter,
    "yen": yen_filter,
}


class DocumentEnvironment(ImmutableSandboxedEnvironment):
    """The sandbox that document text is rendered in.

    On top of Jinja's sandbox (no ``_`` attributes, no mutation) it bounds the numbers a
    template may hand to functions and to ``*``/``**``, so that neither ``'x' * 10**9`` nor
    ``'x'.center(10**9)`` nor a long ``range`` can exhaust the worker's memory or time.
    """

    intercepted_binops = frozenset({"*", "**"})

    def call_binop(self, context, operator, left, right):  # type: ignore[override]
        if operator == "**" and isinstance(right, int | float) and abs(right) > 64:
            raise SecurityError("an exponent above 64 is not allowed in a document template")
        if operator == "*":
            for sequence, count in ((left, right), (right, left)):
                if isinstance(sequence, str | list | tuple) and isinstance(count, int) \
                        and len(sequence) * count > MAX_RENDERED_CHARS:
                    raise SecurityError("repeating a text or list this often is not allowed in a template")
        return super().call_binop(context, operator, left, right)

    def call(__self, __context, __obj, *args, **kwargs):  # noqa: N805 - Jinja's own signature
        for argument in (*args, *kwargs.values()):
            is_number = isinstance(argument, int) and not isinstance(argument, bool)
            if is_number and abs(argument) > MAX_CALL_NUMBER:
                raise SecurityError(f"numbers above {MAX_CALL_NUMBER:,} may not be passed to functions here")
        return super().call(__context, __obj, *args, **kwargs)


@lru_cache(maxsize=1)
def document_environment() -> DocumentEnvironment:
    env = DocumentEnvironment(
        autoescape=False,  # the output is PDF text, not HTML
        undefined=StrictUndefined,
        finalize=lambda value: "" if value is None else value,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters = {name: env.filters[name] for name in SAFE_JINJA_FILTERS} | DOCUMENT_FILTERS
    env.globals = {name: env.globals[name] for name in ("range", "dict")}
    return env


# ---------------------------------------------------------------------------- the template


@dataclass(frozen=True)
class DocumentText:
    """One piece of text that may hold Jinja placeholders, compiled once."""

    source: str
    element_id: str
    compiled: Any = None  # a jinja2.Template, or None for plain text

    def render(self, data: dict, file: str, label: str | None = None) -> str:
        if self.compiled is None:
            return self.source
        what = f"「{label}」" if label else self.element_id
        try:
            pieces: list[str] = []
            size = 0
            for piece in self.compiled.generate(data):
                size += len(piece)
                if size > MAX_RENDERED_CHARS:
                    raise RenderError(file, self.element_id, f"{what} renders to more than "
                                      f"{MAX_RENDERED_CHARS:,} characters", "shorten the text or the data")
                pieces.append(piece)
        except UndefinedError as exc:
            raise RenderError(file, self.element_id, f"{what} needs data the application does not have "
                              f"({exc.message})", "add the data to the application, or use "
                              "`| default('')` for a value that may be missing") from None
        except SecurityError as exc:
            raise RenderError(file, self.element_id, f"{what} does something a document template may not "
                              f"({exc})", "use only the application data and the documented filters",
                              ) from None
        except (TemplateError, TypeError, ValueError, ArithmeticError, RecursionError) as exc:
            raise RenderError(file, self.element_id, f"{what} cannot be rendered ({exc})",
                              "check the data type the placeholder expects") from None
        return "".join(pieces).strip()


@dataclass(frozen=True)
class Field:
    label: str
    value: DocumentText


@dataclass(frozen=True)
class Issuer:
    name: str
    title: str | None
    seal_text: str | None
    seal: bool


@dataclass(frozen=True)
class DocumentTemplate:
    path: str
    digest: str  # SHA-256 of the file, so issued documents can name the exact template
    title: str
    subtitle: str | None
    page: str
    number_label: str | None
    addressee: DocumentText | None
    fields: tuple[Field, ...]
    body: DocumentText | None
    issuer: Issuer
    qr_enabled: bool
    qr_note: str
    #: Every character the template prints whatever the data; the renderer embeds these
    #: in font subsets of their own, which stay the same from one document to the next.
    fixed_characters: str


def template_problems(content: bytes, path: str) -> list[Problem]:
    """Everything wrong with a template file; an empty list means it can be deployed."""
    return list(_compile(content, path)[1])


def parse_template(content: bytes, path: str) -> DocumentTemplate:
    """The compiled template; raises DeployRefused listing every problem."""
    template, problems = _compile(content, path)
    if problems:
        raise DeployRefused(problems)
    assert template is not None
    return template


def _compile(content: bytes, path: str) -> tuple[DocumentTemplate | None, list[Problem]]:
    return _compile_cached(hashlib.sha256(content).hexdigest(), path, content)


@lru_cache(maxsize=256)
def _compile_cached(digest: str, path: str, content: bytes) -> tuple[DocumentTemplate | None, list[Problem]]:
    # The digest leads the key so equal files hit the cache; content rides along to be read.
    if len(content) > MAX_TEMPLATE_BYTES:
        return None, [Problem(path, None, None, f"the template is {len(content):,} bytes, more than "
                              f"{MAX_TEMPLATE_BYTES:,}", "shorten it; a one-page document needs far less")]
    try:
        text = content.decode("utf-8")
    except UnicodeDecodeError as exc:
        return None, [Problem(path, None, None, f"the file is not UTF-8 ({exc.reason} at byte {exc.start})",
                              "save the file as UTF-8")]
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        return None, [Problem(path, _toml_error_line(exc), None, f"the TOML cannot be read ({exc})",
                              "fix the TOML syntax at that line")]
    return _Checker(path, text, digest).check(raw)


# ---------------------------------------------------------------------------- checking


def _toml_error_line(exc: tomllib.TOMLDecodeError) -> int | None:
    # Python 3.14 gives ``lineno``; before that the line is only in the message.
    line = getattr(exc, "lineno", None)
    if line is None:
        found = re.search(r"at line (\d+)", str(exc))
        line = int(found.group(1)) if found else None
    return line


_HEADER = re.compile(r"^\s*(\[\[?)\s*([A-Za-z0-9_.\"' -]+?)\s*\]\]?\s*(#.*)?$")
_KEY = re.compile(r"^\s*(\"[^\"]+\"|'[^']+'|[A-Za-z0-9_-]+)\s*=")


def key_lines(text: str) -> dict[str, int]:
    """Where each key is set: {"title": 1, "fields[2].value": 14, "issuer.name": 30, "issuer": 29}.

    A light scan of the lines that is good enough to point an admin at the right place; it
    understands table headers, arrays of tables and multi-line strings, not inline tables.
    """
    found: dict[str, int] = {}
    table = ""
    counts: dict[str, int] = {}
    open_quote: str | None = None
    for number, line in enumerate(text.splitlines(), start=1):
        if open_quote:
            if line.count(open_quote) % 2 == 1:
                open_quote = None
            continue
        header = _HEADER.match(line)
        if header:
            name = header.group(2).strip().strip("\"'")
            if header.group(1) == "[[":
                counts[name] = counts.get(name, 0) + 1
                table = f"{name}[{counts[name] - 1}]"
            else:
                table = name
            found.setdefault(table, number)
            continue
        key = _KEY.match(line)
        if key:
            name = key.group(1).strip("\"'")
            found.setdefault(f"{table}.{name}" if table else name, number)
            for quote in ('"""', "'''"):
                if line.count(quote) % 2 == 1:
                    open_quote = quote
    return found


class _Checker:
    def __init__(self, path: str, text: str, digest: str):
        self.path = path
        self.text = text
        self.digest = digest
        self.lines = key_lines(text)
        self.problems: list[Problem] = []
        self.fixed: set[str] = set()

    def problem(self, where: str | None, message: str, fix: str, line: int | None = None) -> None:
        if line is None and where is not None:
            line = self.lines.get(where)
        self.problems.append(Problem(self.path, line, where, message, fix))

    def check(self, raw: dict) -> tuple[DocumentTemplate | None, list[Problem]]:
        self.unknown_keys(raw, TOP_KEYS, "")
        title = self.string(raw, "title", "", required=True, limit=MAX_TITLE_CHARS)
        subtitle = self.string(raw, "subtitle", "", limit=MAX_TITLE_CHARS * 2)
        page = self.string(raw, "page", "") or "A4"
        if page not in PAGES:
            self.problem("page", f"the page size {page!r} is not supported", 'use page = "A4"')
        number_label = self.string(raw, "number_label", "", limit=20)
        addressee = self.text_template(raw, "addressee", "")
        fields = self.fields(raw.get("fields"))
        body = self.text_template(raw, "body", "")
        issuer = self.issuer(raw.get("issuer"))
        qr = raw.get("qr", {})
        qr_enabled, qr_note = True, DEFAULT_QR_NOTE
        if not isinstance(qr, dict):
            self.problem("qr", "[qr] must be a table", "write a [qr] section with enabled = true")
        else:
            self.unknown_keys(qr, QR_KEYS, "qr")
            qr_enabled = self.boolean(qr, "enabled", "qr", default=True)
            qr_note = self.string(qr, "note", "qr", limit=200) or DEFAULT_QR_NOTE
        if self.problems:
            return None, self.problems
        for static in (title, subtitle, number_label, issuer.name, issuer.title, issuer.seal_text, qr_note,
                       *(f.label for f in fields)):
            self.fixed.update(static or "")
        return DocumentTemplate(
            path=self.path, digest=self.digest, title=title, subtitle=subtitle, page=page,
            number_label=number_label, addressee=addressee, fields=tuple(fields), body=body, issuer=issuer,
            qr_enabled=qr_enabled, qr_note=qr_note, fixed_characters="".join(sorted(self.fixed)),
        ), []

    def unknown_keys(self, table: dict, known: tuple[str, ...], prefix: str) -> None:
        for key in table:
            if key not in known:
                where = f"{prefix}.{key}" if prefix else key
                fix = f"use one of: {', '.join(known)}"
                if prefix and key in TOP_KEYS:
                    # TOML puts every key after a [table] header into that table.
                    fix = (f"move {key} above the first [[fields]] or [issuer] header; "
                           "keys below a header belong to it")
                self.problem(where, f"unknown key {key!r}" + (f" in [{prefix}]" if prefix else ""), fix)

    def string(self, table: dict, key: str, prefix: str, *, required: bool = False,
               limit: int = MAX_TEXT_CHARS) -> str | None:
        where = f"{prefix}.{key}" if prefix else key
        value = table.get(key)
        if value is None:
            if required:
                line = self.lines.get(prefix) if prefix else None
                self.problem(where, f"{key} is missing", f'add {key} = "…"', line=line)
            return None
        if not isinstance(value, str):
            self.problem(where, f"{key} must be a text, not {type(value).__name__}",
                         f'write {key} = "…" in quotes')
            return None
        if required and not value.strip():
            self.problem(where, f"{key} is empty", f"give {key} a text")
            return None
        if len(value) > limit:
            self.problem(where, f"{key} has {len(value):,} characters, more than {limit:,}", "shorten it")
            return None
        return value

    def boolean(self, table: dict, key: str, prefix: str, *, default: bool) -> bool:
        value = table.get(key, default)
        if not isinstance(value, bool):
            self.problem(f"{prefix}.{key}", f"{key} must be true or false",
                         f"write {key} = true or {key} = false")
            return default
        return value

    def text_template(self, table: dict, key: str, prefix: str, *,
                      required: bool = False) -> DocumentText | None:
        where = f"{prefix}.{key}" if prefix else key
        source = self.string(table, key, prefix, required=required)
        if source is None:
            return None
        if not any(mark in source for mark in ("{{", "{%", "{#")):
            self.fixed.update(source)
            return DocumentText(source.strip(), where)
        env = document_environment()
        try:
            tree = env.parse(source)
            for node in tree.find_all((nodes.Getattr, nodes.Getitem)):
                name = node.attr if isinstance(node, nodes.Getattr) else getattr(node.arg, "value", None)
                if isinstance(name, str) and name.startswith("_"):
                    raise TemplateSyntaxError(f"{name!r} reaches into Python internals", node.lineno)
            for node in tree.find_all(nodes.TemplateData):
                self.fixed.update(node.data)
            compiled = env.from_string(tree)
        except TemplateSyntaxError as exc:
            self.problem(where, f"the placeholder cannot be used: {exc.message}",
                         "write placeholders as {{ name }} or {{ name | filter }} with the documented "
                         "filters, and only names from the application data",
                         line=self.line_in_value(where, exc.lineno))
            return None
        return DocumentText(source, where, compiled)

    def line_in_value(self, where: str, lineno: int | None) -> int | None:
        """The file line of a line inside a (possibly multi-line) string value."""
        start = self.lines.get(where)
        if start is None or not lineno:
            return start
        opening = self.text.splitlines()[start - 1].split("=", 1)[1].strip()
        # TOML drops the newline right after an opening triple quote, so text starts one line down.
        shift = 1 if opening in ('"""', "'''") else 0
        return start + shift + lineno - 1

    def fields(self, raw: Any) -> list[Field]:
        if raw is None:
            self.problem(None, "there are no [[fields]]", 'add at least one [[fields]] with label and value')
            return []
        if not isinstance(raw, list) or not all(isinstance(f, dict) for f in raw):
            self.problem("fields", "fields must be written as [[fields]] tables",
                         'write each row as [[fields]] with label = "…" and value = "…"')
            return []
        if len(raw) > MAX_FIELDS:
            self.problem("fields", f"there are {len(raw)} fields; at most {MAX_FIELDS} fit on one page",
                         "combine rows, or move details to the body text",
                         line=self.lines.get(f"fields[{MAX_FIELDS}]"))
            return []
        fields = []
        for index, item in enumerate(raw):
            prefix = f"fields[{index}]"
            self.unknown_keys(item, FIELD_KEYS, prefix)
            label = self.string(item, "label", prefix, required=True, limit=40)
            value = self.text_template(item, "value", prefix, required=True)
            if label is not None and value is not None:
                fields.append(Field(label, value))
        return fields

    def issuer(self, raw: Any) -> Issuer:
        fallback = Issuer("", None, None, False)
        if raw is None:
            self.problem(None, "there is no [issuer]", 'add [issuer] with name = "見本市長　見本　太郎"')
            return fallback
        if not isinstance(raw, dict):
            self.problem("issuer", "issuer must be a table", "write it as an [issuer] section")
            return fallback
        self.unknown_keys(raw, ISSUER_KEYS, "issuer")
        name = self.string(raw, "name", "issuer", required=True, limit=40)
        title = self.string(raw, "title", "issuer", limit=60)
        seal_text = self.string(raw, "seal_text", "issuer", limit=MAX_SEAL_CHARS)
        seal = self.boolean(raw, "seal", "issuer", default=seal_text is not None)
        if seal_text is not None and (not seal_text.strip() or any(c.isspace() for c in seal_text)):
            self.problem("issuer.seal_text", "seal_text may not contain spaces", 'write it as "見本市長之印"')
        if seal and not seal_text:
            self.problem("issuer.seal", "seal = true needs the characters of the seal",
                         f'add seal_text = "見本市長之印" (1 to {MAX_SEAL_CHARS} characters)',
                         line=self.lines.get("issuer.seal") or self.lines.get("issuer"))
        return Issuer(name or "", title, seal_text, seal)
