"""Attribute, item and iteration guards (RestrictedPython's ``_getattr_`` and friends)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from RestrictedPython.transformer import INSPECT_ATTRIBUTES

from .errors import ForbiddenCode
from .limits import check_length, counted, current

# Refused by the compiler, and again here so the guard is safe on its own. Value: why.
_FORMAT = "format strings can reach object internals; use an f-string such as f'{name} 様'"
REFUSED_ATTRIBUTES = {
    "format": _FORMAT,  # CVE-2023-41039
    "format_map": _FORMAT,  # GHSA-hp3v-5vw7-fx9w (string.Formatter) is the same family
    "mro": "class internals are not reachable from scripts",
    "to_bytes": "it allocates whatever size it is given",
    "from_bytes": "it builds integers far beyond max_int_bits; use int(text)",
    "as_integer_ratio": "on a Decimal it can build an integer with billions of digits",
}


def _width_method(name: str) -> Callable:
    def method(self, width, *args):
        owner = _owner(self, name)
        check_length(width)
        return getattr(owner, name)(self, width, *args)
    return method


def _expandtabs(self, tabsize=8):
    owner = _owner(self, "expandtabs")
    check_length(len(self) + self.count("\t" if owner is str else b"\t") * max(tabsize, 0))
    return owner.expandtabs(self, tabsize)


def _replace(self, old, new, count=-1):
    owner = _owner(self, "replace")
    hits = self.count(old) if old else len(self) + 1
    if count >= 0:
        hits = min(hits, count)
    check_length(len(self) + hits * (len(new) - len(old)))
    return owner.replace(self, old, new, count)


def _translate(self, table):
    owner = _owner(self, "translate")
    longest = 1
    if isinstance(table, dict):
        longest = max((len(v) for v in table.values() if isinstance(v, (str, bytes))), default=1)
    check_length(len(self) * longest)
    return owner.translate(self, table)


def _join(self, iterable):
    owner = _owner(self, "join")
    parts = iterable if type(iterable) in (list, tuple) else list(iterable)
    try:
        total = sum(map(len, parts)) + len(self) * max(len(parts) - 1, 0)
    except TypeError:
        total = 0  # not all strings: the real join raises the usual error
    check_length(total)
    return owner.join(self, parts)


def _extend(self, iterable):
    _owner(self, "extend", (list,))
    if not hasattr(iterable, "__len__"):
        iterable = list(iterable)
    check_length(len(self) + len(iterable))
    return list.extend(self, iterable)


def _owner(obj: Any, name: str, owners: tuple = (str, bytes)) -> type:
    # The wrappers are also reachable unbound (``str.ljust(x, n)``), so check what x is.
    if type(obj) not in owners:
        raise TypeError(f"{name}() needs a {' or '.join(t.__name__ for t in owners)}")
    return type(obj)


# Methods whose result size is set by an argument rather than by the object itself.
_SIZED_METHODS: dict[str, tuple[Callable, tuple]] = {
    "ljust": (_width_method("ljust"), (str, bytes)),
    "rjust": (_width_method("rjust"), (str, bytes)),
    "center": (_width_method("center"), (str, bytes)),
    "zfill": (_width_method("zfill"), (str, bytes)),
    "expandtabs": (_expandtabs, (str, bytes)),
    "replace": (_replace, (str, bytes)),
    "translate": (_translate, (str, bytes)),
    "join": (_join, (str, bytes)),
    "extend": (_extend, (list,)),
}


def guarded_getattr(obj: Any, name: str) -> Any:
    """``obj.name`` in a script."""
    if name[:1] == "_" or name in REFUSED_ATTRIBUTES or name in INSPECT_ATTRIBUTES:
        raise current().refuse(ForbiddenCode(f"'.{name}' is not available in scripts"))
    value = getattr(obj, name)
    sized = _SIZED_METHODS.get(name)
    if sized is None:
        return value
    method, owners = sized
    if type(obj) in owners:
        return lambda *args, **kwargs: method(obj, *args, **kwargs)
    if obj in owners or (isinstance(obj, GuardedType) and obj._real in owners):
        return method  # unbound, e.g. str.join(sep, items)
    return value


class GuardedType(type):
    """Stands in for a built-in type (see ``guarded_type``)."""

    def __instancecheck__(cls, obj: Any) -> bool:
        return isinstance(obj, cls._real)

    def __call__(cls, *args: Any, **kwargs: Any) -> Any:
        cls._check(*args, **kwargs)
        return cls._real(*args, **kwargs)

    def __getattr__(cls, name: str) -> Any:
        return getattr(cls._real, name)

    def __repr__(cls) -> str:
        return repr(cls._real)


def guarded_type(real: type, check: Callable[..., None]) -> GuardedType:
    """A stand-in for ``real`` whose calls run ``check(*args, **kwargs)`` first, while
    ``isinstance(x, stand_in)`` and class attributes (``str.upper``, ``int.from_bytes``) keep
    working. Its own attributes start with "_", so scripts cannot reach them."""
    return GuardedType(real.__name__, (), {"_real": real, "_check": staticmethod(check)})


def guarded_getitem(obj: Any, key: Any) -> Any:
    return obj[key]


def guarded_iter(iterable: Any) -> Any:
    """Every ``for`` loop and comprehension iterates through here: one tick per item."""
    return counted(iterable)


def unpack(value: Any, spec: dict, getiter: Any) -> Any:
    """``a, b = value``: Python unpacks natively. Every iterable a script can reach is bounded
    by its size or counts its own items, so there is nothing left to guard here."""
    return value


def unpack_each(iterable: Any, spec: dict, getiter: Any) -> Any:
    """``for a, b in iterable``: count the items, unpack natively (see ``unpack``)."""
    return getiter(iterable)


class DiscardedPrint:
    """``print()`` in a script: accepted and discarded (there is no console to read it).

    RestrictedPython compiles ``print(x)`` to ``_print._call_print(x)`` and ``printed`` to
    ``_print()``; scripts cannot reach the object itself.
    """

    def __init__(self, getattr_: Any = None):
        pass

    def _call_print(self, *objects: Any, **kwargs: Any) -> None:
        pass

    def __call__(self) -> str:
        return ""
