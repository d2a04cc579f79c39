"""Whether text keeps to JIS X 0208: the characters the city's back-office systems (resident
records, tax, the printed notices) can hold.

The boundary is the standard itself, read through Python's ``iso2022_jp`` codec: a character
passes when it is ASCII or when the codec writes it in the JIS X 0208 shift (``ESC $ B``). The
codec also knows JIS X 0201 Roman (``¥``, ``‾``), which is not JIS X 0208 and is refused here;
``euc_jp`` and ``cp932`` are not used because they accept extensions (JIS X 0212, the NEC special
row 13 with ①, the IBM extensions with 髙 and 﨑) that the standard does not have.

Two friendly conversions run before the check, and the converted text is what gets stored:

* half-width katakana (ｱｲｳ, JIS X 0201 kana, outside JIS X 0208) become full-width (アイウ)
  by NFKC, voiced marks joined (ｶﾞ → ガ) — the same characters, written the standard's way;
* the characters Windows writes with other code points for the same JIS X 0208 cell
  (～ U+FF5E for 〜, － U+FF0D for −, ∥, ￢, ￠, ￡) become the standard's code point.

Everything else outside is reported with the field, the characters, and a replacement where an
obvious one exists (髙 → 高, 﨑 → 崎, 𠮷 → 吉, ① → 1, ㈱ → (株)).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

#: How iso2022_jp starts a JIS X 0208 character (1983 and 1978 designations).
JIS_X_0208_SHIFTS = (b"\x1b$B", b"\x1b$@")
HALF_WIDTH_KANA = re.compile("[\uff61-\uff9f]+")
#: The same JIS X 0208 cell under the code point Windows (cp932) maps it to.
SAME_CELL = str.maketrans({"\uff5e": "\u301c", "\uff0d": "\u2212", "\u2225": "\u2016", "\uffe2": "\u00ac",
                           "\uffe0": "\u00a2", "\uffe1": "\u00a3"})
#: Variants outside JIS X 0208 and the everyday character written in their place.
REPLACEMENTS = {
    "髙": "高", "﨑": "崎", "𠮷": "吉", "德": "徳", "濵": "浜", "栁": "柳", "桒": "桑", "﨔": "欅",
    "瀨": "瀬", "㐂": "喜", "鷗": "鴎", "俱": "倶", "剝": "剥", "𠮟": "叱", "塡": "填", "頰": "頬",
    "¥": "￥", "‾": "￣", "·": "・",
}


@dataclass(frozen=True)
class Outside:
    """A character of a field that JIS X 0208 does not have, and what to write instead."""

    char: str
    suggestion: str | None

    @property
    def code_point(self) -> str:
        return f"U+{ord(self.char):04X}"


def in_jis_x_0208(char: str) -> bool:
    if ord(char) < 0x80:
        return True
    try:
        encoded = char.encode("iso2022_jp")
    except UnicodeEncodeError:
        return False
    return encoded.startswith(JIS_X_0208_SHIFTS)


def normalized(text: str) -> str:
    """Half-width katakana made full-width, Windows code points of JIS cells made standard."""
    text = HALF_WIDTH_KANA.sub(lambda m: unicodedata.normalize("NFKC", m.group(0)), text)
    return text.translate(SAME_CELL)


def suggestion_for(char: str) -> str | None:
    if char in REPLACEMENTS:
        return REPLACEMENTS[char]
    compatible = unicodedata.normalize("NFKC", char)
    if compatible != char and all(in_jis_x_0208(c) for c in compatible):
        return compatible
    return None


def outside_characters(text: str) -> list[Outside]:
    """The distinct characters of ``text`` (already ``normalized``) outside JIS X 0208, in order."""
    found: dict[str, Outside] = {}
    for char in text:
        if char not in found and not in_jis_x_0208(char):
            found[char] = Outside(char, suggestion_for(char))
    return list(found.values())


@dataclass(frozen=True)
class JisProblem:
    """A text field with characters outside JIS X 0208."""

    field: str
    characters: tuple[Outside, ...]

    def message(self) -> str:
        listed = ", ".join(f"{o.char} ({o.code_point}{' → ' + o.suggestion if o.suggestion else ''})"
                           for o in self.characters)
        return f"{self.field}: characters outside JIS X 0208: {listed}"


def check_data(data: dict, fields: list[str] | None = None) -> tuple[dict, list[JisProblem]]:
    """(data with every text value ``normalized``, the fields still outside JIS X 0208).

    Only top-level text values of ``fields`` (all of them when None) are looked at: a form's
    fields are flat; nested data (the applicant's profile) was checked when it was saved.
    """
    cleaned, problems = dict(data), []
    for name, value in data.items():
        if not isinstance(value, str) or (fields is not None and name not in fields):
            continue
        cleaned[name] = normalized(value)
        outside = outside_characters(cleaned[name])
        if outside:
            problems.append(JisProblem(name, tuple(outside)))
    return cleaned, problems


__all__ = ["Outside", "JisProblem", "in_jis_x_0208", "normalized", "suggestion_for", "outside_characters",
           "check_data"]
