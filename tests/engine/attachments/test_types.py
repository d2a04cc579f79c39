"""Files are told by their content: each allowed type passes, impostors are refused."""

from __future__ import annotations

import pytest

from engine.attachments.types import DEFAULT_TYPES, TYPES, extension_of, matches
from tests.engine.attachments.samples import EXECUTABLE, HTML, compound_file, office_open_xml, sample


def check(tmp_path, name: str, content: bytes) -> bool:
    path = tmp_path / "upload.part"
    path.write_bytes(content)
    return matches(path, extension_of(name))


@pytest.mark.parametrize("extension", DEFAULT_TYPES)
def test_each_allowed_type_is_accepted(tmp_path, extension):
    assert check(tmp_path, f"書類.{extension.upper()}", sample(extension))


def test_the_list_is_the_national_portals():
    assert set(TYPES) == {"pdf", "doc", "docx", "xls", "xlsx", "ppt", "pptx", "odt", "ods", "jpg", "jpeg", "png",
                          "gif", "bmp", "tif", "tiff", "xml", "txt", "csv"}


@pytest.mark.parametrize(("name", "content"), [
    ("申請書.pdf", EXECUTABLE),
    ("申請書.pdf", HTML),
    ("data.xml", HTML),
    ("写真.jpg", sample("png")),
    ("写真.png", sample("jpg")),
    ("scan.tif", sample("bmp")),
    ("scan.bmp", b"BM this is only text that starts like a bitmap"),
    ("表.xlsx", sample("docx")),
    ("文書.docx", sample("xlsx")),
    ("文書.docx", office_open_xml("docx", "application/vnd.ms-word.document.macroEnabled.main+xml")),
    ("発表.pptx", sample("odt")),
    ("表.xls", compound_file("WordDocument")),
    ("文書.doc", compound_file("Workbook")),
    ("文書.doc", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100),
    ("表.ods", sample("odt")),
    ("memo.txt", b"text\x00with a NUL"),
    ("memo.txt", EXECUTABLE),
    ("list.csv", b"\xff\xfe\x00\x00broken"),
    ("空.pdf", b""),
])
def test_content_that_is_not_what_the_name_says_is_refused(tmp_path, name, content):
    assert not check(tmp_path, name, content)


def test_unknown_or_missing_extensions_match_nothing(tmp_path):
    assert not check(tmp_path, "setup.exe", EXECUTABLE)
    assert not check(tmp_path, "README", b"plain text")
    assert extension_of(".pdf") == "" and extension_of("a.tar.GZ") == "gz"
