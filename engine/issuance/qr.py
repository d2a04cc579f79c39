"""QR codes for the verification link printed on issued documents.

reportlab's encoder (``reportlab.graphics.barcode.qrencoder``) supplies the symbol layout:
the version tables, function patterns and module placement. Two of its steps are slow
enough to matter when documents are issued by the thousand, so they are done here:

* the error correction codewords, computed with a table-driven Reed–Solomon division
  instead of reportlab's recursive polynomial objects;
* the choice of mask pattern: reportlab builds the whole symbol eight times and scores
  each in pure Python. Here everything that does not depend on the data (fixed patterns,
  where data goes, the masks) is built once per version and kept as integer rows; a
  document's symbol is then a few bit operations per row and mask, scored with the
  penalty rules of ISO/IEC 18004 §7.8.3.

``qr_rows(text)`` returns the finished symbol as a list of rows, each an int whose most
significant of ``size`` bits is the leftmost module (1 = dark).
"""

from __future__ import annotations

from functools import lru_cache
from itertools import zip_longest
from typing import NamedTuple

from reportlab.graphics.barcode.qrencoder import (
    EXP_TABLE,
    LOG_TABLE,
    QR8bitByte,
    QRCode,
    QRErrorCorrectLevel,
    QRRSBlock,
)

#: Level M (15% recovery) is the usual choice for a code printed on paper.
ERROR_CORRECTION = QRErrorCorrectLevel.M
_BYTE_MODE = 0b0100
_PADDING = (0xEC, 0x11)
_FINDER_LIKE = ("10111010000", "00001011101")


def qr_rows(text: str) -> list[int]:
    """Encode ``text`` (its UTF-8 bytes, byte mode) and return the rows of the symbol."""
    payload = text.encode("utf-8")
    probe = QRCode(None, ERROR_CORRECTION)
    probe.addData(QR8bitByte(payload))
    layout = _layout(probe.calculate_version())
    data_rows = [0] * layout.size
    bits = "".join(f"{value:08b}" for value in codewords(layout.version, payload))
    for (row, bit), dark in zip(layout.placement, bits, strict=False):
        if dark == "1":
            data_rows[row] |= bit
    best: tuple[int, list[int]] | None = None
    for mask in range(8):
        layers = zip(layout.function_rows[mask], data_rows, layout.mask_rows[mask], layout.data_positions,
                     strict=True)
        rows = [fixed | ((data ^ flip) & where) for fixed, data, flip, where in layers]
        score = _penalty(rows, layout.size)
        if best is None or score < best[0]:
            best = (score, rows)
    return best[1]


class _Layout(NamedTuple):
    """Everything about a symbol of one version that does not depend on the data."""

    version: int
    size: int
    placement: tuple[tuple[int, int], ...]  # (row, bit of that row) of each data bit, in order
    data_positions: tuple[int, ...]  # per row: the modules that hold data
    mask_rows: tuple[tuple[int, ...], ...]  # per mask, per row: the modules the mask flips
    function_rows: tuple[tuple[int, ...], ...]  # per mask, per row: finder, timing, format … patterns


@lru_cache(maxsize=16)
def _layout(version: int) -> _Layout:
    # reportlab lays out the symbol; an all-zero data area leaves only the fixed patterns
    # and, on the data modules, the mask itself.
    code = QRCode(version, ERROR_CORRECTION)
    code.dataCache = [0] * sum(block.totalCount for block in QRRSBlock.getRSBlocks(version, ERROR_CORRECTION))
    code.makeImpl(False, 0)
    size = code.moduleCount
    placement = tuple((row, 1 << (size - 1 - col)) for col, row in code.dataPosIterator())
    data_positions = [0] * size
    for row, bit in placement:
        data_positions[row] |= bit
    mask_rows, function_rows = [], []
    for mask in range(8):
        code.makeImpl(False, mask)
        rows = _rows_of(code.modules)
        mask_rows.append(tuple(row & where for row, where in zip(rows, data_positions, strict=True)))
        function_rows.append(tuple(row & ~where for row, where in zip(rows, data_positions, strict=True)))
    return _Layout(version, size, placement, tuple(data_positions), tuple(mask_rows), tuple(function_rows))


def codewords(version: int, payload: bytes) -> list[int]:
    """The final codeword sequence: data and error correction, interleaved by block."""
    blocks = QRRSBlock.getRSBlocks(version, ERROR_CORRECTION)
    capacity = sum(block.dataCount for block in blocks)
    length_bits = 8 if version < 10 else 16
    bits = f"{_BYTE_MODE:04b}{len(payload):0{length_bits}b}" + "".join(f"{b:08b}" for b in payload)
    if len(bits) > capacity * 8:
        raise ValueError(f"{len(payload)} bytes do not fit in a version {version} QR code")
    bits += "0" * min(4, capacity * 8 - len(bits))  # terminator
    bits += "0" * (-len(bits) % 8)
    data = [int(bits[i:i + 8], 2) for i in range(0, len(bits), 8)]
    data += [_PADDING[i % 2] for i in range(capacity - len(data))]
    data_blocks, ecc_blocks = [], []
    offset = 0
    for block in blocks:
        chunk = data[offset:offset + block.dataCount]
        offset += block.dataCount
        data_blocks.append(chunk)
        ecc_blocks.append(_error_correction(chunk, block.totalCount - block.dataCount))
    return [value for group in (data_blocks, ecc_blocks)
            for column in zip_longest(*group) for value in column if value is not None]


@lru_cache(maxsize=32)
def _generator_logs(degree: int) -> tuple[int, ...]:
    """log₂ of the coefficients (after the leading 1) of ∏(x − 2^i), i < degree, over GF(256)."""
    poly = [1]
    for i in range(degree):
        factor = EXP_TABLE[i]
        shifted = poly + [0]
        for j, coefficient in enumerate(poly):
            if coefficient:
                shifted[j + 1] ^= EXP_TABLE[(LOG_TABLE[coefficient] + LOG_TABLE[factor]) % 255]
        poly = shifted
    return tuple(LOG_TABLE[c] for c in poly[1:])


def _error_correction(data: list[int], degree: int) -> list[int]:
    """The remainder of data·x^degree divided by the generator: the error correction codewords."""
    generator = _generator_logs(degree)
    remainder = [0] * degree
    for value in data:
        factor = value ^ remainder[0]
        remainder = remainder[1:] + [0]
        if factor:
            log_factor = LOG_TABLE[factor]
            for i, log_coefficient in enumerate(generator):
                remainder[i] ^= EXP_TABLE[(log_coefficient + log_factor) % 255]
    return remainder


def _rows_of(modules: list[list[bool | None]]) -> list[int]:
    return [int("".join("1" if cell else "0" for cell in row), 2) for row in modules]


def _penalty(rows: list[int], size: int) -> int:
    """ISO/IEC 18004 mask penalty: runs, 2×2 blocks, finder-like patterns, dark balance."""
    lines = [format(row, f"0{size}b") for row in rows]
    column_lines = ["".join(column) for column in zip(*lines, strict=True)]
    columns = [int(line, 2) for line in column_lines]
    full = (1 << size) - 1
    score = 0
    # Rule 1: a run of n ≥ 5 same-coloured modules costs n − 2, i.e. one per window of
    # five inside it, plus two per run.
    windows = (1 << (size - 4)) - 1
    for line in (*rows, *columns):
        inverse = ~line & full
        dark = line & line >> 1 & line >> 2 & line >> 3 & line >> 4 & windows
        light = inverse & inverse >> 1 & inverse >> 2 & inverse >> 3 & inverse >> 4 & windows
        for found in (dark, light):
            if found:
                score += found.bit_count() + 2 * (found & ~(found << 1)).bit_count()
    # Rule 3: 1:1:3:1:1 finder-like patterns with four light modules on one side.
    text = "|".join(lines) + "|" + "|".join(column_lines)
    score += 40 * sum(text.count(pattern) for pattern in _FINDER_LIKE)
    # Rule 2: each 2×2 block of one colour.
    pairs = (1 << (size - 1)) - 1
    for upper, lower in zip(rows, rows[1:], strict=False):
        dark = upper & lower & (upper >> 1) & (lower >> 1) & pairs
        light = ~(upper | lower | (upper >> 1) | (lower >> 1)) & pairs & full
        score += 3 * (dark.bit_count() + light.bit_count())
    # Rule 4: distance of the dark share from one half, in steps of 5%.
    dark_share = sum(row.bit_count() for row in rows) * 100 // (size * size)
    score += 10 * (abs(dark_share - 50) // 5)
    return score
