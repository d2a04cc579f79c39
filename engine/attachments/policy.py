"""What a procedure accepts as attachments: the ``[attachments]`` section of its manifest.

```toml
[attachments]
max_bytes = "2GB"              # or a number of bytes; default: the setting attachment_max_bytes
types = ["pdf", "jpg", "png"]  # extensions from the allow-list; default: the whole list
```

Sizes are written as bytes or with a unit: KB, MB, GB (powers of 1024, as people read them
in file managers), optionally with a space (``"100 MB"``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from engine.attachments.types import DEFAULT_TYPES, TYPES
from engine.errors import BadInput, Problem

SECTION = "attachments"
#: The largest limit a manifest may set: beyond this, a file is better delivered another way.
CEILING_BYTES = 20 * 1024 ** 3
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([KMGT]?i?B)?\s*$", re.IGNORECASE)
_UNITS = {"": 1, "B": 1, "KB": 1024, "MB": 1024 ** 2, "GB": 1024 ** 3, "TB": 1024 ** 4}


@dataclass(frozen=True)
class AttachmentPolicy:
    max_bytes: int
    types: tuple[str, ...]


def parse_size(value) -> int:
    """``"2GB"``, ``"100 MB"`` or ``104857600`` → bytes (ValueError naming the format otherwise)."""
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    else:
        match = _SIZE.match(str(value)) if isinstance(value, str) else None
        if not match:
            raise ValueError(f"{value!r} is not a size: write bytes or a number with KB, MB or GB, like \"2GB\"")
        unit = (match.group(2) or "").upper().replace("IB", "B")
        number = int(float(match.group(1)) * _UNITS[unit])
    if number <= 0:
        raise ValueError(f"{value!r}: a size limit must be more than 0 bytes")
    return number


def human_size(size: int) -> str:
    """1073741824 → "1 GB"; 1536 → "1.5 KB" (for messages)."""
    for unit, factor in (("GB", 1024 ** 3), ("MB", 1024 ** 2), ("KB", 1024)):
        if size >= factor:
            return f"{size / factor:.1f}".removesuffix(".0") + f" {unit}"
    return f"{size} bytes"


def section_problems(manifest: dict, path: str) -> list[Problem]:
    """What is wrong with the manifest's ``[attachments]`` section (none when it has none)."""
    section = manifest.get(SECTION)
    if section is None:
        return []
    if not isinstance(section, dict):
        return [Problem(path, None, SECTION, "[attachments] must be a table",
                        'write it as an [attachments] section with max_bytes = "100MB" and types = ["pdf", …]')]
    problems = []
    unknown = sorted(set(section) - {"max_bytes", "types"})
    if unknown:
        problems.append(Problem(path, None, SECTION, f"unknown keys {', '.join(unknown)}",
                                "[attachments] takes max_bytes and types only"))
    if "max_bytes" in section:
        try:
            size = parse_size(section["max_bytes"])
        except ValueError as error:
            problems.append(Problem(path, None, f"{SECTION}.max_bytes", str(error), 'write max_bytes = "2GB"'))
        else:
            if size > CEILING_BYTES:
                problems.append(Problem(path, None, f"{SECTION}.max_bytes",
                                        f"{human_size(size)} is above the ceiling of {human_size(CEILING_BYTES)}",
                                        "lower max_bytes"))
    if "types" in section:
        types = section["types"]
        if not isinstance(types, list) or not types or not all(isinstance(t, str) for t in types):
            problems.append(Problem(path, None, f"{SECTION}.types", "must be a non-empty list of extensions",
                                    'write types = ["pdf", "jpg"]'))
        else:
            unknown = [t for t in types if t.lower().lstrip(".") not in TYPES]
            if unknown:
                problems.append(Problem(path, None, f"{SECTION}.types", f"not on the allow-list: {', '.join(unknown)}",
                                        "use only " + ", ".join(DEFAULT_TYPES)))
    return problems


def policy_from(manifest: dict | None, default_max_bytes: int) -> AttachmentPolicy:
    """The procedure's policy (the defaults when its manifest has no ``[attachments]``)."""
    section = (manifest or {}).get(SECTION)
    if not isinstance(section, dict):
        return AttachmentPolicy(default_max_bytes, DEFAULT_TYPES)
    problems = section_problems(manifest, "procedure.toml")
    if problems:  # deployment refuses these; a definition stored before that check may still hold one
        raise BadInput("the procedure's [attachments] section is invalid: "
                       + "; ".join(f"{p.element_id}: {p.message}" for p in problems))
    max_bytes = parse_size(section["max_bytes"]) if "max_bytes" in section else default_max_bytes
    types = tuple(dict.fromkeys(t.lower().lstrip(".") for t in section.get("types", DEFAULT_TYPES)))
    return AttachmentPolicy(max_bytes, types)


__all__ = ["AttachmentPolicy", "CEILING_BYTES", "human_size", "parse_size", "policy_from", "section_problems"]
