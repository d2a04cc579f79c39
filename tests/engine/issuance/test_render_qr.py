"""The QR encoder: the same symbols as reportlab's, found faster."""

import pytest
from reportlab.graphics.barcode.qrencoder import QR8bitByte, QRCode, QRErrorCorrectLevel

from engine.issuance.qr import codewords, qr_rows


def reportlab_symbol(text: str, mask: int) -> list[int]:
    code = QRCode(None, QRErrorCorrectLevel.M)
    code.addData(QR8bitByte(text.encode()))
    code.version = code.calculate_version()
    code.makeImpl(False, mask)
    return [int("".join("1" if cell else "0" for cell in row), 2) for row in code.modules]


TEXTS = ["a", "https://verify.example-city.invalid/v/R08-000123?h=0123456789abcdef",
         "https://verify.example.jp/v/" + "x" * 200, "https://verify.example.jp/v/" + "検証" * 60]


@pytest.mark.parametrize("text", TEXTS)
def test_codewords_match_reportlab(text):
    code = QRCode(None, QRErrorCorrectLevel.M)
    code.addData(QR8bitByte(text.encode()))
    version = code.calculate_version()
    expected = QRCode.createData(version, QRErrorCorrectLevel.M, code.dataList)
    assert codewords(version, text.encode()) == expected


@pytest.mark.parametrize("text", TEXTS)
def test_the_symbol_is_reportlabs_symbol_for_one_of_the_masks(text):
    rows = qr_rows(text)
    assert any(reportlab_symbol(text, mask) == rows for mask in range(8))
