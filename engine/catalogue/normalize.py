"""Folding Japanese text so that a search forgives how it was typed.

Residents type the same word many ways: full- or half-width (ＡＢＣ, ｼﾞｭｳﾐﾝ), in hiragana or
katakana, with or without spaces and middle dots, with a long vowel mark or without. Both
the stored text and the query go through :func:`fold`, so they meet in one spelling:
NFKC, case-folded, katakana turned into hiragana, and spaces, middle dots and long vowel
marks dropped.
"""

from __future__ import annotations

import re
import unicodedata

_KATAKANA_FIRST, _KATAKANA_LAST = 0x30A1, 0x30F6  # ァ … ヶ (ヴ included)
_TO_HIRAGANA = 0x60

#: What a search ignores: white space (full-width too, after NFKC), middle dots (・ and the
#: half-width ･ become ・ under NFKC), the long vowel mark and the dashes typed for it, and
#: other punctuation that only separates words.
_IGNORED = re.compile(r"[\s・ー‐‑‒–—―−－~〜・･/／,，、。.．()（）「」『』\[\]【】\-\"'’”]+")


def _to_hiragana(text: str) -> str:
    return "".join(
        chr(ord(char) - _TO_HIRAGANA) if _KATAKANA_FIRST <= ord(char) <= _KATAKANA_LAST else char
        for char in text
    )


def fold(text: str | None) -> str:
    """The searchable spelling of ``text`` (empty for None)."""
    if not text:
        return ""
    text = unicodedata.normalize("NFKC", text).casefold()
    return _IGNORED.sub("", _to_hiragana(text))


def fold_all(texts) -> str:
    """Several texts folded, each preceded by a space so that a match never spans two of them
    and ``" " + query`` finds a prefix of any one."""
    return "".join(" " + folded for folded in (fold(t) for t in texts) if folded)
