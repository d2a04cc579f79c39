"""文書番号: a serial per procedure and fiscal year, taken without gaps even under concurrency.

The counter row is bumped with one upsert in the transaction that also records the number
in the register (``issued_documents``): both commit or neither does, so a number is never
lost to a rollback, and two issuers never get the same number (the upsert holds the
counter row until its transaction ends — a few milliseconds, since rendering and sealing
happen outside it).
"""

from __future__ import annotations

import string

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from engine.errors import BadInput
from engine.store.models import DocumentCounter

COUNTERS = DocumentCounter.__table__

#: Used when a procedure's manifest names no format.
DEFAULT_FORMAT = "{procedure}第{nendo}-{serial:06d}号"
_FIELDS = {"procedure", "fiscal_year", "nendo", "nendo_label", "serial"}


def take_serial(session: Session, procedure: str, fiscal_year: int) -> int:
    """The next serial of ``procedure`` in ``fiscal_year`` (1 for the first), in the caller's transaction."""
    connection = session.connection()
    dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
    statement = dialect.insert(COUNTERS).values(procedure=procedure, fiscal_year=fiscal_year, last_serial=1)
    statement = statement.on_conflict_do_update(
        index_elements=[COUNTERS.c.procedure, COUNTERS.c.fiscal_year],
        set_={"last_serial": COUNTERS.c.last_serial + 1},
    ).returning(COUNTERS.c.last_serial)
    return connection.execute(statement).scalar_one()


def check_format(pattern: str) -> None:
    """Refuse a number format with unknown fields, so a typo fails at deploy, not at issuance."""
    try:
        fields = {name.split(".")[0].split("[")[0] for _, name, _, _ in string.Formatter().parse(pattern) if name}
    except ValueError as exc:
        raise BadInput(f"document number format {pattern!r} is malformed ({exc})") from None
    unknown = fields - _FIELDS
    if unknown:
        raise BadInput(f"document number format {pattern!r} uses unknown fields {sorted(unknown)}; "
                       f"use {sorted(_FIELDS)}")
    if "serial" not in fields:
        raise BadInput(f"document number format {pattern!r} must contain {{serial}}")


def format_number(pattern: str | None, *, procedure: str, fiscal_year: int, serial: int) -> str:
    """The printed number, e.g. ``見生衛第8-000123号`` for ``見生衛第{nendo}-{serial:06d}号``.

    ``nendo`` is the 令和 year of the fiscal year (2026 → 8), ``nendo_label`` "令和8年度".
    """
    from engine.issuance.wareki import wareki_fiscal_label

    pattern = pattern or DEFAULT_FORMAT
    check_format(pattern)
    label = wareki_fiscal_label(fiscal_year)
    nendo = "".join(ch for ch in label if ch.isdigit()) or ("1" if "元" in label else "")
    return pattern.format(procedure=procedure, fiscal_year=fiscal_year, nendo=int(nendo or 0),
                          nendo_label=label, serial=serial)
