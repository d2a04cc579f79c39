"""Rendering issued documents: one page, embedded font, the text, the QR code, the limits."""

import hashlib
import json
import shutil
import subprocess
from dataclasses import replace
from datetime import UTC, datetime
from io import BytesIO
from pathlib import Path

import pytest
from pyhanko.pdf_utils.reader import PdfFileReader

from engine.issuance.fonts import FontMissing, document_font, mincho_path
from engine.issuance.render import (
    CONTENT_WIDTH,
    TEXT_SIZE,
    RenderError,
    content_digest,
    prepare,
    render_document,
    wrap_text,
)
from engine.issuance.template import MAX_FIELDS, parse_template
from tests.engine.issuance.render_speed import sample_data

PATH = "documents/certificate.toml"
CERTIFICATE = (Path(__file__).parent / "certificate.toml").read_bytes()
ISSUED_AT = datetime(2026, 11, 26, 16, 30, tzinfo=UTC)  # 2026-11-27 01:30 in Tokyo
NUMBER = "見生衛第8-000123号"
DOCUMENT_ID = "R08-000123"
TOOLS = ("pdffonts", "pdftotext", "pdftoppm", "pdfinfo", "zbarimg")

needs_poppler = pytest.mark.skipif(not all(shutil.which(tool) for tool in TOOLS),
                                   reason="poppler-utils and zbar-tools are needed")


def issue(template_bytes: bytes = CERTIFICATE, data: dict | None = None) -> tuple[bytes, object]:
    template = parse_template(template_bytes, PATH)
    prepared = prepare(template, sample_data(1) if data is None else data, number=NUMBER, issued_at=ISSUED_AT,
                       document_id=DOCUMENT_ID)
    url = f"https://verify.example-city.invalid/v/{DOCUMENT_ID}?h={prepared.digest[:16]}"
    return render_document(prepared, prepared.facts(url)), prepared


def run(*command: str, stdin: bytes | None = None) -> str:
    return subprocess.run(command, input=stdin, capture_output=True, check=True).stdout.decode("utf-8")


def text_of(pdf: bytes) -> str:
    """The page text without any whitespace (pdftotext's spacing is not what is checked)."""
    return "".join(run("pdftotext", "-", "-", stdin=pdf).split())


def info_of(pdf: bytes) -> dict[str, str]:
    pairs = (line.split(":", 1) for line in run("pdfinfo", "-", stdin=pdf).splitlines() if ":" in line)
    return {key.strip(): value.strip() for key, value in pairs}


@pytest.fixture(scope="module")
def certificate() -> tuple[bytes, object]:
    return issue()


@needs_poppler
def test_one_page_with_metadata(certificate):
    pdf, _ = certificate
    info = info_of(pdf)
    assert info["Pages"] == "1"
    assert info["Title"] == "住民票の写し"
    assert info["Author"] == "見本市長　見本　太郎"
    assert info["Subject"] == NUMBER
    reader = PdfFileReader(BytesIO(pdf))
    assert str(reader.trailer["/Info"]["/MadoguchiDocumentId"]) == DOCUMENT_ID


@needs_poppler
def test_the_font_is_embedded_and_no_other_font_is_used(certificate):
    pdf, _ = certificate
    lines = run("pdffonts", "-", stdin=pdf).splitlines()[2:]
    assert lines
    for line in lines:
        assert "IPAexMincho" in line.split()[0]
        name_type_encoding, flags = line[:70], line[70:].split()  # emb sub uni object ID
        assert flags[0] == "yes", f"not embedded: {name_type_encoding}"


@needs_poppler
def test_the_text_is_there(certificate):
    pdf, prepared = certificate
    text = text_of(pdf)
    for expected in ("住民票の写し", "（世帯全員）", NUMBER, "令和8年11月27日（2026年11月27日）", sample_data(1)["name"],
                     "見本市長", "住民基本台帳", DOCUMENT_ID, prepared.digest, "300円", "様"):
        assert "".join(expected.split()) in text, expected


@needs_poppler
def test_the_qr_code_decodes_to_the_verification_url(certificate, tmp_path):
    pdf, prepared = certificate
    (tmp_path / "doc.pdf").write_bytes(pdf)
    subprocess.run(["pdftoppm", "-r", "150", "-png", "-singlefile", str(tmp_path / "doc.pdf"),
                    str(tmp_path / "page")], check=True)
    decoded = run("zbarimg", "--raw", "-q", str(tmp_path / "page.png")).strip()
    assert decoded == f"https://verify.example-city.invalid/v/{DOCUMENT_ID}?h={prepared.digest[:16]}"


@needs_poppler
def test_rendering_twice_states_the_same():
    assert text_of(issue()[0]) == text_of(issue()[0])


def test_content_digest_is_the_sha256_of_the_canonical_statement(certificate):
    _, prepared = certificate
    statement = {
        "document_id": DOCUMENT_ID,
        "number": NUMBER,
        "issued_at": "2026-11-27T01:30:00+09:00",
        "title": "住民票の写し",
        "fields": [list(pair) for pair in prepared.fields],
        "body": prepared.body,
        "addressee": prepared.addressee,
    }
    canonical = json.dumps(statement, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()
    assert prepared.digest == hashlib.sha256(canonical).hexdigest()
    assert content_digest(prepared.template, sample_data(1), number=NUMBER, issued_at=ISSUED_AT,
                          document_id=DOCUMENT_ID) == prepared.digest
    assert prepared.fields[2] == ("生年月日", "昭和26年2月2日（1951年2月2日）")
    assert issue()[1].digest == prepared.digest


def test_facts_must_belong_to_the_prepared_document(certificate):
    _, prepared = certificate
    facts = prepared.facts("https://example.invalid/v/x")
    with pytest.raises(ValueError):
        render_document(prepared, replace(facts, content_sha256="0" * 64))


def test_issued_at_must_be_timezone_aware():
    template = parse_template(CERTIFICATE, PATH)
    with pytest.raises(ValueError, match="timezone"):
        prepare(template, sample_data(1), number=NUMBER, issued_at=datetime(2026, 11, 27), document_id="x")


@needs_poppler
def test_long_values_wrap_onto_more_lines():
    data = sample_data(2) | {"address": "見本県見本市中央一丁目" * 12 + "見本ハイツ101号室"}
    pdf, _ = issue(data=data)
    text = text_of(pdf)
    assert "見本ハイツ101号室" in text
    assert info_of(pdf)["Pages"] == "1"


def test_line_breaking_keeps_widths_and_japanese_rules():
    font = document_font()
    text = "上記は、住民基本台帳に記録されている事項と相違ないことを証明します。" * 6
    lines = wrap_text(font, text, TEXT_SIZE, 200)
    assert "".join(lines) == text
    assert len(lines) > 3
    for line in lines:
        assert sum(font.face.charWidths.get(ord(c), 1000) for c in line) * TEXT_SIZE / 1000 <= 200
        assert line[0] not in "、。）"
    assert wrap_text(font, "a\nb", TEXT_SIZE, 200) == ["a", "b"]
    # A Latin word (a URL, an e-mail address) moves down whole when it fits on a line.
    words = wrap_text(font, "連絡先 " + "example-city.jp " * 10, TEXT_SIZE, 120)
    assert all(not line.startswith(("xample", "ity.jp")) for line in words)


def test_too_much_content_is_a_render_error():
    data = sample_data(3) | {"purpose": "説明" * 1500}
    with pytest.raises(RenderError) as info:
        issue(data=data)
    assert "one page" in str(info.value)
    assert info.value.file == PATH


def test_the_largest_table_the_format_allows_fits():
    rows = "".join(f'[[fields]]\nlabel = "項目{i}"\nvalue = "{{{{ v }}}}"\n' for i in range(MAX_FIELDS))
    template = ('title = "証明書"\nsubtitle = "（見本）"\naddressee = "{{ v }}　様"\n'
                'body = """上記のとおり証明します。\n\n以上。"""\n' + rows + '[issuer]\ntitle = "見本市"\n'
                'name = "見本市長　見本　太郎"\nseal_text = "見本市長之印"\n')
    pdf, _ = issue(template.encode(), {"v": "見本" * 10})
    assert pdf.startswith(b"%PDF")


def test_a_character_missing_from_the_font_is_refused():
    with pytest.raises(RenderError, match="not in the font"):
        issue(data=sample_data(4) | {"name": "見本　😀"})


def test_missing_font_names_the_file_and_the_packages(tmp_path, monkeypatch):
    monkeypatch.setenv("MADOGUCHI_FONT_DIR", str(tmp_path))
    with pytest.raises(FontMissing) as info:
        mincho_path()
    message = str(info.value)
    assert str(tmp_path / "ipaexm.ttf") in message
    assert "fonts-ipaexfont-mincho fonts-ipaexfont-gothic" in message
    assert "MADOGUCHI_FONT_DIR" in message


def test_content_width_is_used_by_the_body():
    font = document_font()
    assert wrap_text(font, "あ" * 200, TEXT_SIZE, CONTENT_WIDTH)[0] == "あ" * int(CONTENT_WIDTH // TEXT_SIZE)


@needs_poppler
def test_a_spread_out_title_does_not_spread_the_text_after_it():
    template = CERTIFICATE.replace("住民票の写し".encode(), "証明書".encode())
    raw = run("pdftotext", "-", "-", stdin=issue(template)[0])
    assert "（世帯全員）" in raw
    assert "住民基本台帳" in raw


@needs_poppler
def test_without_qr_code_the_url_is_still_printed(tmp_path):
    pdf, _ = issue(CERTIFICATE.replace(b"enabled = true", b"enabled = false"))
    assert "https://verify.example-city.invalid/v/" in text_of(pdf)
    (tmp_path / "doc.pdf").write_bytes(pdf)
    subprocess.run(["pdftoppm", "-r", "100", "-png", "-singlefile", str(tmp_path / "doc.pdf"),
                    str(tmp_path / "page")], check=True)
    scan = subprocess.run(["zbarimg", "--raw", "-q", str(tmp_path / "page.png")], capture_output=True)
    assert scan.stdout.strip() == b""
