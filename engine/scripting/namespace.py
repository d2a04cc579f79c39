"""What a script can name: the allowed builtins, and the guards the compiled code calls."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Iterable
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from itertools import chain
from typing import Any

from RestrictedPython.Guards import full_write_guard

from .guards import (
    DiscardedPrint,
    guarded_getattr,
    guarded_getitem,
    guarded_iter,
    guarded_type,
    unpack,
    unpack_each,
)
from .limits import check_bits, check_length, check_written_size, counted, tick
from .operators import (
    add,
    augmented_item,
    call,
    collect,
    format_value,
    inplace,
    joined,
    lshift,
    mod,
    mul,
    power,
    write_slice,
)


def _check_str(*args: Any, **kwargs: Any) -> None:
    # str(x) of a list holding itself 40 levels deep writes out 2**40 items.
    for value in (*args, *kwargs.values()):
        check_written_size(value)


def _check_decimal_to_int(number: Any) -> None:
    if isinstance(number, Decimal) and number.is_finite():
        check_bits((number.adjusted() + 1) * 3322 // 1000)  # log2(10) bits per digit


def _check_int(*args: Any, **kwargs: Any) -> None:
    if args:
        _check_decimal_to_int(args[0])
        if isinstance(args[0], (str, bytes)):
            # Base 10 has Python's 4300-digit limit; int('f' * 10**6, 16) has none, and
            # dividing such numbers takes quadratic time. Up to 6 bits per character (base 36).
            check_bits(len(args[0]) * 6)


def _round(number: Any, ndigits: int | None = None) -> Any:
    if ndigits is None:
        _check_decimal_to_int(number)
    elif isinstance(number, int) and isinstance(ndigits, int) and ndigits < 0:
        check_bits(-ndigits * 3322 // 1000)  # round(123, -n) computes 10 ** n first
    return round(number, ndigits)


def _range(*args: int) -> range:
    numbers = range(*args)
    try:
        length = len(numbers)
    except OverflowError:
        length = sys.maxsize
    check_length(length)
    return numbers


def _sum(iterable: Iterable, /, start: Any = 0) -> Any:
    if not isinstance(start, (list, tuple)):
        return sum(iterable, start)
    # sum(lists, []) copies the growing result once per list (quadratic): join them in one go.
    parts = [start, *iterable]
    check_length(sum(map(len, parts)))
    return type(start)(chain.from_iterable(parts))


# Lazy iterators count what they hand out; map and zip take one item per input per step.
def _map(function: Any, *iterables: Iterable) -> Any:
    return counted(map(function, *iterables), len(iterables))


def _zip(*iterables: Iterable, strict: bool = False) -> Any:
    return counted(zip(*iterables, strict=strict), len(iterables))


def _filter(function: Any, iterable: Iterable) -> Any:
    return counted(filter(function, iterable))


def _enumerate(iterable: Iterable, start: int = 0) -> Any:
    return counted(enumerate(iterable, start))


def _reversed(sequence: Any) -> Any:
    return counted(reversed(sequence))


#: Japan's time zone: "today" in a Japanese procedure is the date in Japan, whatever the server's zone.
JST = timezone(timedelta(hours=9), "JST")


def today() -> str:
    """Today's date in Japan as ``YYYY-MM-DD`` — for decision tables with effective dates."""
    return datetime.now(JST).date().isoformat()


SAFE_BUILTINS: dict[str, Any] = {
    "abs": abs, "all": all, "any": any, "bool": bool, "chr": chr, "dict": dict, "divmod": divmod,
    "enumerate": _enumerate, "filter": _filter, "float": float, "isinstance": isinstance,
    "int": guarded_type(int, _check_int), "len": len, "list": list, "map": _map, "max": max,
    "min": min, "ord": ord, "pow": power, "range": _range, "reversed": _reversed,
    "round": _round, "set": set, "sorted": sorted, "str": guarded_type(str, _check_str),
    "sum": _sum, "tuple": tuple, "zip": _zip,
    "Decimal": Decimal, "date": date, "datetime": datetime, "timedelta": timedelta,
    "timezone": timezone, "today": today,
    # For try/except and raise in scripts.
    "Exception": Exception, "ArithmeticError": ArithmeticError, "LookupError": LookupError,
    "ValueError": ValueError, "TypeError": TypeError, "KeyError": KeyError,
    "IndexError": IndexError, "ZeroDivisionError": ZeroDivisionError,
}

# Names the compiled code calls; RestrictedPython's transformer emits the first ten, our
# policy the rest. They go into the globals after the task data, so data cannot shadow them.
GUARDS: dict[str, Any] = {
    "_getattr_": guarded_getattr,
    "_getitem_": guarded_getitem,
    "_getiter_": guarded_iter,
    "_iter_unpack_sequence_": unpack_each,
    "_unpack_sequence_": unpack,
    "_write_": full_write_guard,
    "_inplacevar_": inplace,
    "_print_": DiscardedPrint,
    "_apply_": call,
    "_tick_": tick,
    "_mul_": mul,
    "_add_": add,
    "_pow_": power,
    "_lshift_": lshift,
    "_mod_": mod,
    "_augitem_": augmented_item,
    "_write_slice_": write_slice,
    "_collect_": collect,
    "_format_value_": format_value,
    "_joined_": joined,
}


# CPython's date.today() and datetime.strptime() import these through the *calling code's*
# builtins. Scripts cannot call __import__ themselves: the name starts with "_" and import
# statements are refused at compile time.
_IMPORTED_BY_C_CODE = frozenset({"time", "_strptime"})


def _import_for_c_code(name: str, globals: Any = None, locals: Any = None, fromlist: Any = (),
                       level: int = 0) -> Any:
    if level == 0 and name in _IMPORTED_BY_C_CODE:
        return importlib.import_module(name)
    raise ImportError(f"importing {name!r} is not available in scripts")


def builtins_with(helpers: dict[str, Any]) -> dict[str, Any]:
    """The builtins of one environment: the allow-list plus the integrator's helpers."""
    for name in helpers:
        if not name.isidentifier() or name.startswith("_"):
            raise ValueError(f"helper name {name!r} must be an identifier not starting with '_'")
    return {**SAFE_BUILTINS, **helpers, "__import__": _import_for_c_code}
