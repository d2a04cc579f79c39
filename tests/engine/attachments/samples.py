"""Small genuine files of every accepted type, made in the test (no binary fixtures to go stale)."""

from __future__ import annotations

import io
import struct
import zipfile

from PIL import Image
from reportlab.pdfgen import canvas

OOXML = "application/vnd.openxmlformats-officedocument."
OOXML_MAIN = {"docx": ("word/document.xml", "wordprocessingml.document.main+xml"),
              "xlsx": ("xl/workbook.xml", "spreadsheetml.sheet.main+xml"),
              "pptx": ("ppt/presentation.xml", "presentationml.presentation.main+xml")}
CFB_STREAM = {"doc": "WordDocument", "xls": "Workbook", "ppt": "PowerPoint Document"}
ODF = {"odt": "application/vnd.oasis.opendocument.text", "ods": "application/vnd.oasis.opendocument.spreadsheet"}


def pdf() -> bytes:
    out = io.BytesIO()
    page = canvas.Canvas(out)
    page.drawString(72, 720, "Juminhyo")
    page.save()
    return out.getvalue()


def image(kind: str) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (8, 8), (200, 30, 30)).save(out, format=kind)
    return out.getvalue()


def office_open_xml(extension: str, main_type: str | None = None) -> bytes:
    part, kind = OOXML_MAIN[extension]
    content_type = main_type or f"{OOXML}{kind}"
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml",
                         '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
                         '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
                         '<Default Extension="xml" ContentType="application/xml"/>'
                         f'<Override PartName="/{part}" ContentType="{content_type}"/></Types>')
        archive.writestr(part, "<root/>")
    return out.getvalue()


def open_document(extension: str) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr(zipfile.ZipInfo("mimetype"), ODF[extension])
        archive.writestr("content.xml", "<office:document-content/>")
    return out.getvalue()


def compound_file(stream_name: str) -> bytes:
    """An OLE2 compound file (version 3, 512-byte sectors): a FAT sector, a directory sector
    with the root entry and one stream, and the stream's data sector."""
    header = bytearray(512)
    header[0:8] = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
    struct.pack_into("<HHHH", header, 0x18, 0x3E, 3, 0xFFFE, 9)
    struct.pack_into("<H", header, 0x20, 6)
    struct.pack_into("<IIII", header, 0x2C, 1, 1, 0, 0x1000)  # 1 FAT sector, directory at sector 1
    struct.pack_into("<IIII", header, 0x3C, 0xFFFFFFFE, 0, 0xFFFFFFFE, 0)
    difat = [0] + [0xFFFFFFFF] * 108  # the FAT is sector 0
    struct.pack_into("<109I", header, 0x4C, *difat)
    fat = [0xFFFFFFFD, 0xFFFFFFFE, 0xFFFFFFFE] + [0xFFFFFFFF] * 125
    directory = bytearray(512)

    def entry(index: int, name: str, kind: int, start: int, size: int) -> None:
        encoded = (name + "\x00").encode("utf-16-le")
        offset = index * 128
        directory[offset:offset + len(encoded)] = encoded
        struct.pack_into("<HBB", directory, offset + 64, len(encoded), kind, 1)
        struct.pack_into("<III", directory, offset + 68, 0xFFFFFFFF, 0xFFFFFFFF, 1 if kind == 5 else 0xFFFFFFFF)
        struct.pack_into("<II", directory, offset + 116, start, size)

    entry(0, "Root Entry", 5, 0xFFFFFFFE, 0)
    entry(1, stream_name, 2, 2, 4096)
    return bytes(header) + struct.pack("<128I", *fat) + bytes(directory) + b"\x00" * 512


def sample(extension: str) -> bytes:
    """A genuine file of the type ``extension`` names."""
    if extension == "pdf":
        return pdf()
    if extension in ("jpg", "jpeg"):
        return image("JPEG")
    if extension in ("png", "gif", "bmp"):
        return image(extension.upper())
    if extension in ("tif", "tiff"):
        return image("TIFF")
    if extension in OOXML_MAIN:
        return office_open_xml(extension)
    if extension in CFB_STREAM:
        return compound_file(CFB_STREAM[extension])
    if extension in ODF:
        return open_document(extension)
    if extension == "xml":
        return '<?xml version="1.0" encoding="UTF-8"?>\n<申請><氏名>山田 花子</氏名></申請>\n'.encode()
    if extension == "txt":
        return "住民票の写しを添付します。\r\n".encode("cp932")
    if extension == "csv":
        return "氏名,続柄\n山田 花子,本人\n".encode()
    raise ValueError(extension)


#: What a Windows program looks like (the "MZ" header and DOS stub text).
EXECUTABLE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"This program cannot be run in DOS mode." * 4
HTML = b"<!DOCTYPE html><html><body><script>alert(1)</script></body></html>"
