"""The exact bytes an applicant signs: the JSON Canonicalization Scheme (RFC 8785, "JCS").

A signature covers bytes, but submitted data travels as JSON and is re-serialised on the
way (key order, spaces, escapes). Signer and verifier therefore both turn the data into one
canonical byte string and sign / verify that:

- a ``str`` is taken as the exact text that was signed: its UTF-8 bytes, unchanged;
- ``bytes`` are used as they are;
- anything else (a dict, list, number …) is serialised as RFC 8785 JCS: UTF-8, no
  whitespace, object keys sorted by their UTF-16 code units, strings with only the escapes
  JSON requires, numbers as ECMAScript prints them (``1.0`` → ``1``, ``1e21`` → ``1e+21``).

JCS was chosen over "Python's json.dumps with sort_keys" because a browser or smartphone
signer can produce the same bytes with any JCS library (or ``JSON.stringify`` on data with
sorted keys), without knowing anything about Python. Unicode is not normalised (neither
side must change the text); numbers beyond ±2^53 are refused because JavaScript cannot
represent them exactly — send them as strings.
"""

from __future__ import annotations

import json
import math
from decimal import Decimal

#: Integers a JavaScript signer can represent exactly.
_MAX_SAFE_INTEGER = 2 ** 53


class CanonicalFormError(ValueError):
    """The data cannot be put into canonical form (NaN, a huge integer, a non-JSON value)."""


def canonical_bytes(data) -> bytes:
    """The bytes a signature over ``data`` covers (see the module docstring)."""
    if isinstance(data, bytes):
        return data
    if isinstance(data, str):
        return data.encode("utf-8")
    return _serialise(data).encode("utf-8")


def _serialise(value) -> str:
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, str):
        # ensure_ascii=False: only '"', '\\' and control characters are escaped (lower-case
        # \u00xx), exactly RFC 8785 §3.2.2.2.
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, int):
        if abs(value) > _MAX_SAFE_INTEGER:
            raise CanonicalFormError(f"the number {value} is too large to be signed exactly; send it as a string")
        return str(value)
    if isinstance(value, float):
        return _number(value)
    if isinstance(value, dict):
        for key in value:
            if not isinstance(key, str):
                raise CanonicalFormError(f"object keys must be strings, not {type(key).__name__} ({key!r})")
        keys = sorted(value, key=lambda k: k.encode("utf-16-be"))
        return "{" + ",".join(f"{_serialise(k)}:{_serialise(value[k])}" for k in keys) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ",".join(_serialise(v) for v in value) + "]"
    raise CanonicalFormError(f"a {type(value).__name__} is not JSON data")


def _number(value: float) -> str:
    """ECMAScript's Number.prototype.toString (ECMA-262 §6.1.6.1.20), which JCS mandates.

    Python's repr already finds the shortest digits that round-trip, as ECMAScript does;
    only where the decimal point and exponent go differs.
    """
    if math.isnan(value) or math.isinf(value):
        raise CanonicalFormError(f"{value} is not a JSON number")
    if value == 0:
        return "0"  # -0 too
    sign = "-" if value < 0 else ""
    digits_tuple, exponent = Decimal(repr(abs(value))).as_tuple()[1:]
    digits = "".join(map(str, digits_tuple)).rstrip("0")
    exponent += len("".join(map(str, digits_tuple))) - len(digits)  # trailing zeros moved into it
    k = len(digits)
    n = exponent + k  # value = 0.digits × 10^n
    if k <= n <= 21:
        text = digits + "0" * (n - k)
    elif 0 < n <= 21:
        text = digits[:n] + "." + digits[n:]
    elif -6 < n <= 0:
        text = "0." + "0" * -n + digits
    else:
        mantissa = digits if k == 1 else digits[0] + "." + digits[1:]
        text = f"{mantissa}e{'+' if n - 1 >= 0 else '-'}{abs(n - 1)}"
    return sign + text
