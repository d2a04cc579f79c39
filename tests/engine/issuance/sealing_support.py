"""Helpers for the seal tests: dev PKIs in temporary directories, small PDFs, and ways to tamper with them."""

from __future__ import annotations

from io import BytesIO
from pathlib import Path

from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen import canvas

from engine.issuance.pki import DevPki, DevSeal, init_dev_seal
from engine.issuance.seal import Sealer
from engine.issuance.seal_settings import SealSettings

APPLICANT = "Applicant: Taro Mihon"
LINES = ("Certificate of Residence", APPLICANT, "Address: 1-2-3 Sample Town", "Issued by the City of Mihon")


def make_pdf(lines: tuple[str, ...] = LINES) -> bytes:
    """A one-page A4 PDF in Helvetica; uncompressed so tests can find and change its text."""
    buffer = BytesIO()
    page = canvas.Canvas(buffer, pagesize=A4, pageCompression=0)
    page.setFont("Helvetica", 14)
    y = 760
    for line in lines:
        page.drawString(72, y, line)
        y -= 24
    page.showPage()
    page.save()
    return buffer.getvalue()


def make_dev_seal(home: Path, organisation: str = "見本市") -> tuple[DevSeal, SealSettings]:
    """A dev seal under ``home`` and the settings that point at it (no environment involved)."""
    seal = init_dev_seal(home, organisation)
    return seal, SealSettings.from_env(home, {})


def sealer_for(pki: DevPki, *, tsa_url: str | None = None) -> Sealer:
    return Sealer.from_key(pki.seal.key, pki.seal.certificate, pki.chain, tsa_url=tsa_url)


def flip_byte_in(pdf: bytes, needle: bytes) -> bytes:
    """``pdf`` with the last byte of ``needle`` changed (the needle must be inside the signed range)."""
    at = pdf.index(needle) + len(needle) - 1
    return pdf[:at] + bytes([pdf[at] ^ 0x01]) + pdf[at + 1:]


def append_white_box(pdf: bytes, box: tuple[float, float, float, float] = (70, 730, 400, 24)) -> bytes:
    """An incremental update that paints a white rectangle over the applicant line.

    No byte of the original file changes; only a revision is appended, which is how an
    attacker edits a signed PDF without breaking its byte-range digest.
    """
    writer = IncrementalPdfFileWriter(BytesIO(pdf))
    x, y, width, height = box
    paint = f"q 1 1 1 rg {x} {y} {width} {height} re f Q".encode("ascii")
    stream = writer.add_object(generic.StreamObject(stream_data=paint))
    writer.add_stream_to_page(0, stream)
    output = BytesIO()
    writer.write(output)
    return output.getvalue()


def add_document_id(pdf: bytes, document_id: str) -> bytes:
    """``pdf`` with /MadoguchiDocumentId in its Info dictionary, as the renderer leaves it."""
    writer = IncrementalPdfFileWriter(BytesIO(pdf))
    info_ref = writer.trailer.raw_get("/Info")
    info_ref.get_object()[generic.NameObject("/MadoguchiDocumentId")] = generic.TextStringObject(document_id)
    writer.mark_update(info_ref)
    output = BytesIO()
    writer.write(output)
    return output.getvalue()
