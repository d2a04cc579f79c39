"""法人番号 (corporate number): 13 digits, the first of which is a check digit.

The rule is the National Tax Agency's (法人番号の指定等に関する省令 第2条): for the 12-digit base
number, weight its digits 1, 2, 1, 2 … counting from the rightmost; the check digit is
9 minus the weighted sum modulo 9.
"""

from __future__ import annotations

import unicodedata


def check_digit(base: str) -> int:
    """The check digit of a 12-digit base number."""
    total = sum(int(digit) * (2 if position % 2 == 0 else 1)
                for position, digit in enumerate(reversed(base), start=1))
    return 9 - total % 9


def normalise(value: str) -> str:
    """Full-width digits made half-width; spaces and hyphens people type between groups dropped."""
    text = unicodedata.normalize("NFKC", value or "")
    return "".join(ch for ch in text if ch not in " -")


def is_valid(number: str) -> bool:
    """Whether ``number`` (already normalised) is 13 digits with a correct check digit."""
    return (len(number) == 13 and number.isascii() and number.isdigit()
            and int(number[0]) == check_digit(number[1:]))
