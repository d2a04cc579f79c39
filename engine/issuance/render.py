"""Rendering an issued document (証明書, 決定通知書) to a one-page PDF.

Issuing takes two steps, so that the Jinja text is rendered only once and the document can
print the digest of its own statements::

    prepared = prepare(template, data, number="見生衛第8-000123号", issued_at=now, document_id=public_id)
    url = f"https://verify.example-city.jp/v/{prepared.document_id}?h={prepared.digest}"
    pdf = render_document(prepared, prepared.facts(url))

``prepare(template, data, *, number, issued_at, document_id) -> Prepared``
    Renders every placeholder (raising RenderError with the template file and field on
    missing data or a sandbox violation) and computes ``Prepared.digest``.
``Prepared.digest`` / ``content_digest(template, data, *, number, issued_at, document_id) -> str``
    The SHA-256 (hex) of what the document states: a canonical JSON (UTF-8, sorted keys, no
    spaces) of {"document_id", "number", "issued_at" (ISO 8601 in Asia/Tokyo, seconds),
    "title", "fields": [[label, value], …], "body"}, plus "addressee" when the template has
    one. ``content_digest`` is for a verifier that recomputes it from the stored data.
``render_document(prepared, facts: IssueFacts) -> bytes``
    Draws the page; the facts must agree with the prepared document.

The page is drawn straight on a reportlab canvas (no Platypus) in the embedded IPAex Mincho
font only. What keeps it fast (about a fifth of the time of the obvious Platypus and
``QrCodeWidget`` page; see ``tests/engine/issuance/render_speed.py``):

* the QR code is encoded by ``qr.py`` and written as one path of whole-number rectangles;
* the template's fixed characters are placed in font subsets of their own before anything
  is drawn, so those subsets are identical from one document to the next and come, already
  compressed, from the font's subset cache (``fonts.py``); only the few characters of the
  data are subset per document.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from dataclasses import dataclass
from datetime import datetime
from io import BytesIO

from reportlab.lib.pagesizes import A4
from reportlab.pdfbase import pdfdoc
from reportlab.pdfgen.canvas import Canvas

from engine.issuance.fonts import MINCHO, document_font
from engine.issuance.qr import qr_rows
from engine.issuance.template import TOKYO, DocumentTemplate, RenderError
from engine.issuance.wareki import wareki

__all__ = ["IssueFacts", "Prepared", "RenderError", "content_digest", "prepare", "render_document"]

PAGE_WIDTH, PAGE_HEIGHT = A4
LEFT = RIGHT = 62.0  # ≈ 22 mm, the margin of a typical municipal certificate
TOP = 56.0
BOTTOM = 44.0
CONTENT_WIDTH = PAGE_WIDTH - LEFT - RIGHT

TEXT_SIZE = 10.5
TITLE_SIZE = 22.0
SUBTITLE_SIZE = 12.0
ADDRESSEE_SIZE = 12.0
CELL_PADDING_X = 6.0
CELL_PADDING_Y = 4.0
CELL_LEADING = 14.0
BODY_LEADING = 18.0
ISSUER_TITLE_SIZE = 11.0
ISSUER_NAME_SIZE = 14.0
FOOTER_SIZE = 7.0
FOOTER_LEADING = 9.5
QR_SIZE = 68.0
QR_QUIET_MODULES = 2  # the page margin around the code adds to this quiet zone
SEAL_RADIUS = 27.0
SEAL_RED = (0.82, 0.1, 0.12)
LABEL_SHADE = 0.92

#: Characters that may not begin a line (行頭禁則) and may not end one (行末禁則).
NO_LINE_START = set("、。，．・：；！？）〕］｝〉》」』】〙〗〟’”ゝゞーァィゥェォッャュョヮヵヶぁぃぅぇぉっゃゅょゎゕゖ々,.:;!?)]}%")
NO_LINE_END = set("（〔［｛〈《「『【〘〖〝‘“([{")
PARAGRAPH_BREAK = re.compile(r"\n[ \t\u3000]*\n")
#: Characters every document prints whatever the template: dates, digits, the footer.
ALWAYS_PRINTED = "0123456789年月日令和平成昭大正明治元（）文書番号ID:SHA-256"


@dataclass(frozen=True)
class IssueFacts:
    number: str  # 文書番号 as printed, e.g. "見生衛第8-000123号"
    issued_at: datetime  # timezone-aware; printed in 和暦 and Gregorian, in Asia/Tokyo
    document_id: str  # the public id of the document
    verify_url: str  # the full URL in the QR code
    content_sha256: str  # the hex digest of what the document states (see content_digest)


@dataclass(frozen=True)
class Prepared:
    """A document with its text rendered, ready to be drawn."""

    template: DocumentTemplate
    number: str
    issued_at: datetime
    document_id: str
    addressee: str | None
    fields: tuple[tuple[str, str], ...]
    body: str
    digest: str

    def facts(self, verify_url: str) -> IssueFacts:
        return IssueFacts(self.number, self.issued_at, self.document_id, verify_url, self.digest)


def prepare(template: DocumentTemplate, data: dict, *, number: str, issued_at: datetime,
            document_id: str) -> Prepared:
    """Render the template's text for ``data`` and compute the content digest."""
    if issued_at.tzinfo is None:
        raise ValueError("issued_at must be timezone-aware")
    addressee = template.addressee.render(data, template.path) if template.addressee else None
    fields = tuple((f.label, f.value.render(data, template.path, f.label)) for f in template.fields)
    body = template.body.render(data, template.path) if template.body else ""
    statement = {
        "document_id": document_id,
        "number": number,
        "issued_at": _canonical_time(issued_at),
        "title": template.title,
        "fields": [list(pair) for pair in fields],
        "body": body,
    }
    if template.addressee:
        statement["addressee"] = addressee
    canonical = json.dumps(statement, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    digest = hashlib.sha256(canonical.encode("utf-8")).hexdigest()
    return Prepared(template, number, issued_at, document_id, addressee, fields, body, digest)


def content_digest(template: DocumentTemplate, data: dict, *, number: str, issued_at: datetime,
                   document_id: str) -> str:
    """The digest alone, e.g. for a verifier that recomputes it from the stored data."""
    return prepare(template, data, number=number, issued_at=issued_at, document_id=document_id).digest


def _canonical_time(moment: datetime) -> str:
    return moment.astimezone(TOKYO).isoformat(timespec="seconds")


def render_document(prepared: Prepared, facts: IssueFacts) -> bytes:
    """Draw the one-page PDF; raise RenderError if the content does not fit on the page."""
    if (facts.number, facts.document_id, facts.content_sha256) != (
            prepared.number, prepared.document_id, prepared.digest) or facts.issued_at != prepared.issued_at:
        raise ValueError("the issue facts do not belong to this prepared document")
    font = document_font()
    template = prepared.template
    _refuse_missing_glyphs(prepared, font)
    buffer = BytesIO()
    canvas = Canvas(buffer, pagesize=A4, pageCompression=1, initialFontName=MINCHO, initialFontSize=TEXT_SIZE)
    _reserve_fixed_subsets(canvas, font, template.fixed_characters + ALWAYS_PRINTED)
    _set_metadata(canvas, prepared, facts)
    page = _Page(canvas, font, template.path)
    issuer_bottom = page.footer_top() + 14
    issuer_top = issuer_bottom + page.issuer_height(template)
    y = page.heading(prepared)
    y = page.field_table(prepared.fields, y - 18, floor=issuer_top)
    page.body(prepared.body, y - 16, floor=issuer_top)
    page.issuer(template, issuer_bottom)
    page.footer(template, facts)
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def _refuse_missing_glyphs(prepared: Prepared, font) -> None:
    # A name in a character the font lacks would print as an empty box on an official document.
    known = font.face.charToGlyph
    for element, text in (("number", prepared.number), ("addressee", prepared.addressee or ""),
                          ("body", prepared.body),
                          *((f"fields[{i}].value", value) for i, (_, value) in enumerate(prepared.fields))):
        for char in text:
            if ord(char) not in known and char not in "\n\r\t":
                raise RenderError(
                    prepared.template.path, element,
                    f"the character {char!r} (U+{ord(char):04X}) is not in the font IPAex Mincho",
                    "write it with a standard character, or arrange a 外字 font with the operator")


def _reserve_fixed_subsets(canvas: Canvas, font, fixed: str) -> None:
    """Give the fixed characters the first font subsets, and start the data's in a new one.

    reportlab numbers characters in the order they are first drawn and cuts the numbering
    into subsets of 256. Numbering the fixed characters first, then moving on to a fresh
    subset, keeps those subsets byte-identical across documents of one template, so the
    font's subset cache serves them. This uses reportlab's per-document font state
    (``nextCode``, ``subsets``); if that ever changes shape, only the speed-up is lost.
    """
    doc = canvas._doc
    font.splitString(fixed, doc)
    state = font.state.get(doc)
    if state is None or not hasattr(state, "nextCode") or not hasattr(state, "subsets"):
        return
    if state.nextCode & 0xFF:
        state.nextCode = len(state.subsets) * 256


class _DocumentInfo(pdfdoc.PDFInfo):
    """The PDF info dictionary, with the document id for verifiers (/MadoguchiDocumentId)."""

    document_id = ""

    def format(self, document):
        info = {
            "Title": pdfdoc.PDFString(self.title),
            "Author": pdfdoc.PDFString(self.author),
            "Subject": pdfdoc.PDFString(self.subject),
            "Creator": pdfdoc.PDFString(self.creator),
            "Producer": pdfdoc.PDFString(self.producer),
            "Keywords": pdfdoc.PDFString(self.keywords),
            "CreationDate": pdfdoc.PDFDate(ts=document._timeStamp, dateFormatter=self._dateFormatter),
            "ModDate": pdfdoc.PDFDate(ts=document._timeStamp, dateFormatter=self._dateFormatter),
            "Trapped": pdfdoc.PDFName(self.trapped),
            "MadoguchiDocumentId": pdfdoc.PDFString(self.document_id),
        }
        return pdfdoc.PDFDictionary(info).format(document)


def _set_metadata(canvas: Canvas, prepared: Prepared, facts: IssueFacts) -> None:
    info = _DocumentInfo()
    info.document_id = facts.document_id
    canvas._doc.info = info
    canvas.setTitle(prepared.template.title)
    canvas.setAuthor(prepared.template.issuer.name)
    canvas.setSubject(facts.number)
    canvas.setCreator("Madoguchi")
    canvas.setKeywords(f"document_id={facts.document_id} sha256={facts.content_sha256}")


# ---------------------------------------------------------------------------- line breaking


def char_width(font, char: str, size: float) -> float:
    return font.face.charWidths.get(ord(char), font.face.defaultWidth) * size / 1000.0


def _is_word_char(char: str) -> bool:
    return char.isascii() and (char.isalnum() or char in "-_.@/")


def wrap_text(font, text: str, size: float, width: float) -> list[str]:
    """Break text into lines no wider than ``width``, the Japanese way.

    Any two CJK characters may be split; Latin words stay whole unless longer than a line;
    a line never starts with a closing mark or small kana, nor ends with an opening
    bracket (the character before is carried to the next line instead). Newlines are kept.
    """
    lines: list[str] = []
    for paragraph in text.split("\n"):
        line: list[str] = []
        used = 0.0
        for char in paragraph:
            advance = char_width(font, char, size)
            if line and used + advance > width:
                carried = _carry_over(line, char)
                lines.append("".join(line[: len(line) - len(carried)]))
                line = carried
                used = sum(char_width(font, c, size) for c in line)
            line.append(char)
            used += advance
        lines.append("".join(line))
    return lines


def _carry_over(line: list[str], next_char: str) -> list[str]:
    """The tail of a full line that must move down with ``next_char``."""
    cut = len(line)
    if next_char in NO_LINE_START and cut > 1:
        cut -= 1
    while cut > 1 and line[cut - 1] in NO_LINE_END:
        cut -= 1
    if _is_word_char(next_char):
        start = cut
        while start > 0 and _is_word_char(line[start - 1]):
            start -= 1
        if start > 0:  # a word longer than the line is broken where it must be
            cut = start
    return line[cut:]


# ---------------------------------------------------------------------------- the page


class _Page:
    def __init__(self, canvas: Canvas, font, path: str):
        self.canvas = canvas
        self.font = font
        self.path = path

    def width(self, text: str, size: float) -> float:
        return sum(char_width(self.font, c, size) for c in text)

    def text(self, x: float, y: float, text: str, size: float, *,
             align: str = "left", space: float = 0.0) -> None:
        if align != "left":
            width = self.width(text, size) + space * max(len(text) - 1, 0)
            x -= width if align == "right" else width / 2
        line = self.canvas.beginText(x, y)
        line.setFont(MINCHO, size)
        if space:
            line.setCharSpace(space)
        line.textOut(text)
        if space:
            line.setCharSpace(0)  # character spacing is graphics state: it outlives the text object
        self.canvas.drawText(line)

    def overflow(self, what: str) -> RenderError:
        return RenderError(self.path, what, "the document does not fit on one page",
                           "shorten the values or the body text, or move rows to another document")

    # -- top of the page

    def heading(self, prepared: Prepared) -> float:
        template = prepared.template
        right = PAGE_WIDTH - RIGHT
        y = PAGE_HEIGHT - TOP
        number = f"{template.number_label}　{prepared.number}" if template.number_label else prepared.number
        self.text(right, y, number, TEXT_SIZE, align="right")
        issued = prepared.issued_at.astimezone(TOKYO).date()
        y -= 16
        self.text(right, y, f"{wareki(issued)}（{issued.year}年{issued.month}月{issued.day}日）", TEXT_SIZE,
                  align="right")
        if prepared.addressee:
            y -= 28
            for line in wrap_text(self.font, prepared.addressee, ADDRESSEE_SIZE, CONTENT_WIDTH * 0.6):
                self.text(LEFT, y, line, ADDRESSEE_SIZE)
                y -= ADDRESSEE_SIZE + 4
            y += ADDRESSEE_SIZE + 4
        y -= 44
        size = TITLE_SIZE
        # A short title is spread out (証　明　書), as on printed certificates.
        space = size * 0.6 if len(template.title) <= 5 else 0.0
        gaps = len(template.title) - 1
        while size > 12 and self.width(template.title, size) + space * gaps > CONTENT_WIDTH:
            size -= 1
            space = 0.0
        self.text(PAGE_WIDTH / 2, y, template.title, size, align="center", space=space)
        if template.subtitle:
            y -= 22
            self.text(PAGE_WIDTH / 2, y, template.subtitle, SUBTITLE_SIZE, align="center")
        return y - 6

    # -- the table of fields

    def field_table(self, fields: tuple[tuple[str, str], ...], top: float, floor: float) -> float:
        canvas = self.canvas
        widest_label = max((self.width(label, TEXT_SIZE) for label, _ in fields), default=0)
        label_width = widest_label + 2 * CELL_PADDING_X
        label_width = min(max(label_width, 90.0), CONTENT_WIDTH * 0.35)
        value_width = CONTENT_WIDTH - label_width
        rows = []
        for index, (label, value) in enumerate(fields):
            label_lines = wrap_text(self.font, label, TEXT_SIZE, label_width - 2 * CELL_PADDING_X)
            value_lines = wrap_text(self.font, value, TEXT_SIZE, value_width - 2 * CELL_PADDING_X)
            lines = max(len(label_lines), len(value_lines))
            height = (lines - 1) * CELL_LEADING + TEXT_SIZE + 2 * CELL_PADDING_Y + 4
            rows.append((index, label_lines, value_lines, height))
        bottom = top - sum(row[3] for row in rows)
        if bottom < floor:
            raise self.overflow("fields")
        canvas.setFillGray(LABEL_SHADE)
        canvas.rect(LEFT, bottom, label_width, top - bottom, stroke=0, fill=1)
        canvas.setFillGray(0)
        y = top
        for _, label_lines, value_lines, height in rows:
            for column_x, lines in ((LEFT, label_lines), (LEFT + label_width, value_lines)):
                block = (len(lines) - 1) * CELL_LEADING + TEXT_SIZE
                baseline = y - (height - block) / 2 - TEXT_SIZE * 0.86
                for line in lines:
                    self.text(column_x + CELL_PADDING_X, baseline, line, TEXT_SIZE)
                    baseline -= CELL_LEADING
            y -= height
        grid = canvas.beginPath()
        y = top
        for *_, height in rows[:-1]:
            y -= height
            grid.moveTo(LEFT, y)
            grid.lineTo(LEFT + CONTENT_WIDTH, y)
        grid.moveTo(LEFT + label_width, top)
        grid.lineTo(LEFT + label_width, bottom)
        canvas.setLineWidth(0.5)
        canvas.drawPath(grid, stroke=1, fill=0)
        canvas.setLineWidth(1.0)
        canvas.rect(LEFT, bottom, CONTENT_WIDTH, top - bottom, stroke=1, fill=0)
        return bottom

    # -- body paragraphs

    def body(self, text: str, top: float, floor: float) -> float:
        y = top
        for paragraph in PARAGRAPH_BREAK.split(text):
            paragraph = paragraph.strip("\n")
            if not paragraph.strip():
                continue
            for line in wrap_text(self.font, paragraph, TEXT_SIZE, CONTENT_WIDTH):
                y -= BODY_LEADING
                if y < floor:
                    raise self.overflow("body")
                self.text(LEFT, y + BODY_LEADING - TEXT_SIZE, line, TEXT_SIZE)
            y -= 6
        return y

    # -- issuer and seal, lower right

    def issuer_height(self, template: DocumentTemplate) -> float:
        return ISSUER_NAME_SIZE + (ISSUER_TITLE_SIZE + 8 if template.issuer.title else 0) + SEAL_RADIUS

    def issuer(self, template: DocumentTemplate, bottom: float) -> None:
        issuer = template.issuer
        # The seal should cover the last character of the name, as a stamped 公印 does.
        overlap = ISSUER_NAME_SIZE * 0.7
        name_end = PAGE_WIDTH - RIGHT - 2 * SEAL_RADIUS + overlap
        name_y = bottom + SEAL_RADIUS * 0.7
        size = ISSUER_NAME_SIZE
        while size > 9 and self.width(issuer.name, size) > name_end - LEFT:
            size -= 0.5
        self.text(name_end, name_y, issuer.name, size, align="right")
        if issuer.title:
            title_x = max(name_end - self.width(issuer.name, size), LEFT)
            self.text(title_x, name_y + size + 8, issuer.title, ISSUER_TITLE_SIZE)
        if issuer.seal and issuer.seal_text:
            self.seal(name_end - overlap + SEAL_RADIUS, name_y + ISSUER_NAME_SIZE * 0.35, issuer.seal_text)

    def seal(self, cx: float, cy: float, text: str) -> None:
        """A red round 公印: a double ring with the characters in columns read right to left."""
        canvas = self.canvas
        canvas.saveState()
        canvas.setStrokeColorRGB(*SEAL_RED)
        canvas.setFillColorRGB(*SEAL_RED)
        canvas.setLineWidth(2.2)
        canvas.circle(cx, cy, SEAL_RADIUS, stroke=1, fill=0)
        canvas.setLineWidth(0.7)
        canvas.circle(cx, cy, SEAL_RADIUS - 3.6, stroke=1, fill=0)
        count = len(text)
        rows = 1 if count == 1 else 2 if count <= 4 else 3
        columns = math.ceil(count / rows)
        box = (SEAL_RADIUS - 6.5) * 2 * 0.80  # the square the characters fill, inside the inner ring
        cell_height = box / rows
        cell_width = box / columns
        size = cell_height * 0.92
        for index, char in enumerate(text):
            column, row = divmod(index, rows)
            x = cx + box / 2 - (column + 0.5) * cell_width
            y = cy + box / 2 - (row + 1) * cell_height + (cell_height - size) / 2 + size * 0.14
            scale = min(cell_width / size, 1.6) * 100
            glyph = canvas.beginText()
            glyph.setFont(MINCHO, size)
            glyph.setHorizScale(scale)
            glyph.setTextRenderMode(2)  # fill and stroke: the heavier strokes of seal lettering
            glyph.setTextOrigin(x - char_width(self.font, char, size) * scale / 200, y)
            glyph.textOut(char)
            canvas.setLineWidth(0.35)
            canvas.drawText(glyph)
        canvas.restoreState()

    # -- verification footer, bottom left

    def footer_top(self) -> float:
        return BOTTOM + QR_SIZE

    def footer(self, template: DocumentTemplate, facts: IssueFacts) -> None:
        canvas = self.canvas
        top = self.footer_top()
        canvas.setLineWidth(0.4)
        canvas.setStrokeGray(0.55)
        canvas.line(LEFT, top + 6, PAGE_WIDTH - RIGHT, top + 6)
        canvas.setStrokeGray(0)
        text_x = LEFT
        if template.qr_enabled:
            self.qr_code(LEFT, BOTTOM, facts.verify_url)
            text_x = LEFT + QR_SIZE + 8
        width = PAGE_WIDTH - RIGHT - text_x
        lines = [template.qr_note if template.qr_enabled else "この文書の真正性は次のURLで確認できます。"]
        lines += wrap_text(self.font, facts.verify_url, FOOTER_SIZE, width)
        lines.append(f"文書ID: {facts.document_id}")
        digest = f"SHA-256: {facts.content_sha256}"
        if self.width(digest, FOOTER_SIZE) > width:
            digest = f"SHA-256: {facts.content_sha256[:16]}…{facts.content_sha256[-16:]}"
        lines.append(digest)
        y = top - FOOTER_SIZE - 4
        for line in lines:
            self.text(text_x, y, line, FOOTER_SIZE)
            y -= FOOTER_LEADING
        if y < BOTTOM - FOOTER_LEADING:
            raise RenderError(self.path, "qr", "the verification URL is too long for the footer",
                              "use a shorter verification URL")

    def qr_code(self, x: float, y: float, url: str) -> None:
        """The QR code as one filled path: one rectangle per horizontal run of dark modules.

        A symbol has several hundred such runs. They are written as PDF path operators in
        module units (whole numbers) and scaled into place by the graphics state, which is
        far cheaper than going through reportlab's path object number by number.
        """
        rows = qr_rows(url)
        count = len(rows)
        module = QR_SIZE / (count + 2 * QR_QUIET_MODULES)
        rectangles = []
        for r, bits in enumerate(rows):
            pattern = format(bits, f"0{count}b")
            start = pattern.find("1")
            while start != -1:
                end = pattern.find("0", start)
                end = count if end == -1 else end
                rectangles.append(f"{start} {r} {end - start} 1 re")
                start = pattern.find("1", end)
        canvas = self.canvas
        canvas.saveState()
        canvas.setFillGray(0)
        canvas.translate(x + QR_QUIET_MODULES * module, y + QR_SIZE - QR_QUIET_MODULES * module)
        canvas.scale(module, -module)  # row 0 at the top
        canvas.addLiteral("\n".join(rectangles) + "\nf")
        canvas.restoreState()
