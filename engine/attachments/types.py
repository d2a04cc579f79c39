"""Which files are accepted, told by their content and not only by their name.

The allow-list is the national portal's (マイナポータル ぴったりサービス): PDF, Office documents,
images, XML and plain text. A file is accepted only when its extension is on the procedure's
list **and** its bytes are what that extension promises: a renamed program, an HTML page
called ``.pdf`` or a spreadsheet called ``.docx`` is refused. Every check reads a bounded
part of the file (a few header bytes, a ZIP's directory, an OLE2 directory) except the text
checks, which decode the whole file a chunk at a time; nothing is ever held whole in memory.
"""

from __future__ import annotations

import codecs
import re
import struct
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

_READ = 256 * 1024
#: A [Content_Types].xml larger than this is not an Office document's (and may be a ZIP bomb).
_MAX_CONTENT_TYPES = 1024 * 1024
_OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_OOXML = "application/vnd.openxmlformats-officedocument."


@dataclass(frozen=True)
class FileType:
    extension: str
    content_type: str
    #: What the file is, for messages ("PDF", "Word document" …).
    label: str
    check: Callable[[Path], bool]


def _head(path: Path, size: int = 64) -> bytes:
    with path.open("rb") as file:
        return file.read(size)


def _starts(*signatures: bytes) -> Callable[[Path], bool]:
    return lambda path: _head(path).startswith(signatures)


def _bmp(path: Path) -> bool:
    head = _head(path, 18)
    # "BM" alone is too weak (any text may start so): the header also states the file's size.
    return (len(head) >= 18 and head[:2] == b"BM"
            and struct.unpack("<I", head[2:6])[0] == path.stat().st_size
            and struct.unpack("<I", head[14:18])[0] in (12, 40, 52, 56, 64, 108, 124))


def _zip_entry(path: Path, name: str, limit: int) -> bytes | None:
    try:
        with zipfile.ZipFile(path) as archive:
            info = next((i for i in archive.infolist() if i.filename == name), None)
            if info is None or info.file_size > limit:
                return None
            with archive.open(info) as entry:
                return entry.read(limit + 1)[:limit]
    except (zipfile.BadZipFile, OSError, NotImplementedError, EOFError, RuntimeError):
        return None


def _office_open_xml(main_part: str) -> Callable[[Path], bool]:
    """A ZIP whose [Content_Types].xml declares the document's main part of this kind (a
    macro-enabled or template variant declares another type and is refused)."""
    wanted = f'ContentType="{_OOXML}{main_part}.main+xml"'.encode()

    def check(path: Path) -> bool:
        if not _head(path, 4).startswith(b"PK\x03\x04"):
            return False
        types = _zip_entry(path, "[Content_Types].xml", _MAX_CONTENT_TYPES)
        return types is not None and wanted in types.replace(b"'", b'"')

    return check


def _open_document(mimetype: str) -> Callable[[Path], bool]:
    """An OpenDocument file: a ZIP whose ``mimetype`` entry names the kind."""
    def check(path: Path) -> bool:
        return _head(path, 4).startswith(b"PK\x03\x04") and _zip_entry(path, "mimetype", 200) == mimetype.encode()

    return check


def cfb_stream_names(file: BinaryIO, *, max_sectors: int = 4096) -> set[str]:
    """The stream names in an OLE2 compound file's directory (old Word, Excel, PowerPoint).

    Follows the directory's sector chain through the FAT (found through the header's DIFAT and
    its chain); bounded, and loops are cut, so a crafted file cannot make it run for long."""
    header = file.read(512)
    if len(header) < 512 or not header.startswith(_OLE2):
        return set()
    sector_size = 1 << struct.unpack_from("<H", header, 0x1E)[0]
    if sector_size not in (512, 4096):
        return set()
    fat_count, first_directory = struct.unpack_from("<II", header, 0x2C)
    first_difat, difat_count = struct.unpack_from("<II", header, 0x44)
    per_sector = sector_size // 4

    def sector(number: int) -> bytes:
        file.seek((number + 1) * sector_size)
        data = file.read(sector_size)
        if len(data) < sector_size:
            raise ValueError("truncated")
        return data

    fat_sectors = [s for s in struct.unpack_from("<109I", header, 0x4C) if s < 0xFFFFFFFA]
    difat, seen = first_difat, set()
    while difat < 0xFFFFFFFA and len(seen) < min(difat_count, max_sectors) and difat not in seen:
        seen.add(difat)
        entries = struct.unpack(f"<{per_sector}I", sector(difat))
        fat_sectors.extend(s for s in entries[:-1] if s < 0xFFFFFFFA)
        difat = entries[-1]
    fat_sectors = fat_sectors[:fat_count]

    def next_sector(number: int) -> int:
        index = number // per_sector
        if index >= len(fat_sectors):
            return 0xFFFFFFFE
        return struct.unpack_from("<I", sector(fat_sectors[index]), (number % per_sector) * 4)[0]

    names: set[str] = set()
    current, visited = first_directory, set()
    try:
        while current < 0xFFFFFFFA and current not in visited and len(visited) < max_sectors:
            visited.add(current)
            data = sector(current)
            for offset in range(0, sector_size, 128):
                length = struct.unpack_from("<H", data, offset + 64)[0]
                if data[offset + 66] == 2 and 2 <= length <= 64:  # a stream
                    names.add(data[offset:offset + length - 2].decode("utf-16-le", "replace"))
            current = next_sector(current)
    except (ValueError, struct.error):
        return set()
    return names


def _compound(*streams: str) -> Callable[[Path], bool]:
    def check(path: Path) -> bool:
        with path.open("rb") as file:
            return bool(cfb_stream_names(file) & set(streams))

    return check


def _decodes(path: Path, encoding: str) -> bool:
    decoder = codecs.getincrementaldecoder(encoding)()
    with path.open("rb") as file:
        while chunk := file.read(_READ):
            if b"\x00" in chunk:
                return False
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError:
                return False
    try:
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def _text(path: Path) -> bool:
    """UTF-8 (with or without BOM) or Shift_JIS (Windows' cp932) without NUL characters."""
    return _decodes(path, "utf-8-sig") or _decodes(path, "cp932")


_XML_START = re.compile(rb"^(?:\xef\xbb\xbf)?\s*<(?:\?xml[\s?]|!--|[A-Za-z_:])")
_HTML_ROOT = re.compile(rb"<\s*(?:!doctype\s+html|html[\s>])", re.IGNORECASE)


def _xml(path: Path) -> bool:
    head = _head(path, 4096)
    return bool(_XML_START.match(head)) and not _HTML_ROOT.search(head) and _text(path)


TYPES: dict[str, FileType] = {t.extension: t for t in (
    FileType("pdf", "application/pdf", "PDF", _starts(b"%PDF-")),
    FileType("doc", "application/msword", "Word 97-2003", _compound("WordDocument")),
    FileType("docx", f"{_OOXML}wordprocessingml.document", "Word", _office_open_xml("wordprocessingml.document")),
    FileType("xls", "application/vnd.ms-excel", "Excel 97-2003", _compound("Workbook", "Book")),
    FileType("xlsx", f"{_OOXML}spreadsheetml.sheet", "Excel", _office_open_xml("spreadsheetml.sheet")),
    FileType("ppt", "application/vnd.ms-powerpoint", "PowerPoint 97-2003", _compound("PowerPoint Document")),
    FileType("pptx", f"{_OOXML}presentationml.presentation", "PowerPoint",
             _office_open_xml("presentationml.presentation")),
    FileType("odt", "application/vnd.oasis.opendocument.text", "OpenDocument text",
             _open_document("application/vnd.oasis.opendocument.text")),
    FileType("ods", "application/vnd.oasis.opendocument.spreadsheet", "OpenDocument spreadsheet",
             _open_document("application/vnd.oasis.opendocument.spreadsheet")),
    FileType("jpg", "image/jpeg", "JPEG", _starts(b"\xff\xd8\xff")),
    FileType("jpeg", "image/jpeg", "JPEG", _starts(b"\xff\xd8\xff")),
    FileType("png", "image/png", "PNG", _starts(b"\x89PNG\r\n\x1a\n")),
    FileType("gif", "image/gif", "GIF", _starts(b"GIF87a", b"GIF89a")),
    FileType("bmp", "image/bmp", "BMP", _bmp),
    FileType("tif", "image/tiff", "TIFF", _starts(b"II*\x00", b"MM\x00*")),
    FileType("tiff", "image/tiff", "TIFF", _starts(b"II*\x00", b"MM\x00*")),
    FileType("xml", "application/xml", "XML", _xml),
    FileType("txt", "text/plain", "text", _text),
    FileType("csv", "text/csv", "CSV", _text),
)}
#: Accepted when a procedure names no list of its own: everything known.
DEFAULT_TYPES = tuple(TYPES)


def extension_of(name: str) -> str:
    """The lower-case extension of a file name (without the dot), '' when it has none."""
    stem, dot, extension = name.rpartition(".")
    return extension.lower() if dot and stem else ""


def matches(path: Path, extension: str) -> bool:
    """Whether the file at ``path`` is what ``extension`` promises."""
    file_type = TYPES.get(extension)
    return file_type is not None and path.stat().st_size > 0 and file_type.check(path)


__all__ = ["DEFAULT_TYPES", "FileType", "TYPES", "cfb_stream_names", "extension_of", "matches"]
