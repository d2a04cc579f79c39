"""Guards for the operators and literals that can build big values in one step.

The compiler routes ``*``, ``+``, ``**``, ``<<``, ``%``, augmented assignment, slice
assignment, ``[*a, *b]`` literals and f-strings through these functions. Each checks the size
of the result *before* computing it where that is possible (``'a' * 10**10`` never allocates),
otherwise right after, which bounds a single step to a small multiple of the limit and stops
a value from doubling in a loop.
"""

from __future__ import annotations

import operator
import re
from typing import Any

from RestrictedPython.Guards import full_write_guard

from .limits import check_bits, check_length, check_written_size

_SEQUENCES = (str, bytes, list, tuple)


def _check_mul(a: Any, b: Any) -> None:
    if isinstance(a, int) and isinstance(b, int):
        check_bits(a.bit_length() + b.bit_length())
    elif isinstance(a, _SEQUENCES) and isinstance(b, int):
        check_length(len(a) * b)
    elif isinstance(b, _SEQUENCES) and isinstance(a, int):
        check_length(len(b) * a)


def _check_add(a: Any, b: Any) -> None:
    if isinstance(a, _SEQUENCES) and isinstance(b, _SEQUENCES):
        check_length(len(a) + len(b))


def _check_pow(base: Any, exponent: Any) -> None:
    # |base| <= 1 never grows; a < 2**k implies a**e < 2**(k*e).
    if isinstance(base, int) and isinstance(exponent, int) and exponent > 1 and abs(base) > 1:
        check_bits(base.bit_length() * exponent)


def _check_lshift(a: Any, b: Any) -> None:
    if isinstance(a, int) and isinstance(b, int) and a:
        check_bits(a.bit_length() + b)


def mul(a: Any, b: Any) -> Any:
    _check_mul(a, b)
    return a * b


def add(a: Any, b: Any) -> Any:
    _check_add(a, b)
    return a + b


def power(base: Any, exp: Any) -> Any:
    """``**`` and the ``pow`` builtin (two arguments only: modular pow has no size bound)."""
    _check_pow(base, exp)
    return base**exp


def lshift(a: Any, b: Any) -> Any:
    _check_lshift(a, b)
    return a << b


# One %-conversion: mapping key, flags, width, precision. Digits and '*' are what can blow up.
_PERCENT_SPEC = re.compile(r"%(?:\([^)]*\))?[-#0 +]*(\*|\d+)?(?:\.(\*|\d+))?")


def _sum_of(numbers: list[str]) -> int:
    """Widths and precisions asked for; each adds up to that many characters."""
    return sum(int(number) if len(number) < 10 else 10**10 for number in numbers)


def mod(a: Any, b: Any) -> Any:
    """``%``: numbers as usual; for %-formatting, estimate the text before building it."""
    if not isinstance(a, (str, bytes)):
        return a % b
    template = a.decode("latin-1") if isinstance(a, bytes) else a
    numbers = [number for match in _PERCENT_SPEC.finditer(template) for number in match.groups() if number]
    if "*" in numbers:
        raise TypeError("'*' widths are not supported in %-formatting; write the number")
    check_length(len(template) + _sum_of(numbers))
    check_written_size(b)
    result = a % b
    check_length(len(result))
    return result


_INPLACE = {
    "+=": (_check_add, operator.iadd),
    "*=": (_check_mul, operator.imul),
    "**=": (_check_pow, operator.ipow),
    "<<=": (_check_lshift, operator.ilshift),
    "-=": (None, operator.isub),
    "/=": (None, operator.itruediv),
    "//=": (None, operator.ifloordiv),
    ">>=": (None, operator.irshift),
    "|=": (None, operator.ior),
    "&=": (None, operator.iand),
    "^=": (None, operator.ixor),
    "@=": (None, operator.imatmul),
}


def inplace(op: str, target: Any, value: Any) -> Any:
    """``x op= y`` (RestrictedPython's ``_inplacevar_``); keeps in-place semantics for lists."""
    if op == "%=":
        return mod(target, value)
    check, apply = _INPLACE[op]
    if check is not None:
        check(target, value)
    return apply(target, value)


def augmented_item(container: Any, key: Any, op: str, value: Any) -> None:
    """``container[key] op= value`` (RestrictedPython refuses it; scripts need ``totals[k] += 1``)."""
    full_write_guard(container)[key] = inplace(op, container[key], value)


class _SliceAssignment:
    """Target of ``items[a:b] = value``: the one item assignment that can grow a list."""

    __slots__ = ("_items",)

    def __init__(self, items: list):
        self._items = items

    def __setitem__(self, key: slice, value: Any) -> None:
        if not hasattr(value, "__len__"):
            value = list(value)
        check_length(len(self._items) + len(value))
        self._items[key] = value


def write_slice(target: Any) -> Any:
    return _SliceAssignment(target) if type(target) is list else full_write_guard(target)


def collect(literal: Any) -> Any:
    """``[*a, *b]`` / ``(*a, *b)`` / ``{*a, *b}`` literals: each part is bounded, the sum too."""
    check_length(len(literal))
    return literal


def call(function: Any, *args: Any, **kwargs: Any) -> Any:
    """Calls with ``*args`` / ``**kwargs`` (RestrictedPython's ``_apply_``)."""
    check_length(len(args) + len(kwargs))
    return function(*args, **kwargs)


_CONVERSIONS = {-1: None, 115: str, 114: repr, 97: ascii}


def format_value(value: Any, conversion: int, spec: str) -> str:
    """One ``{value!conversion:spec}`` of an f-string, with width/precision bounded.

    A Decimal's digits (``f'{d:f}'`` of ``Decimal('1e999999999')``) are bounded by
    ``check_written_size``, which counts them."""
    check_written_size(value)
    convert = _CONVERSIONS[conversion]
    if convert is not None:
        value = convert(value)
    check_length(len(spec) + _sum_of(re.findall(r"\d+", spec)))
    return format(value, spec)


def joined(text: str) -> str:
    """A whole f-string: its parts are bounded one by one, this bounds their sum."""
    check_length(len(text))
    return text
