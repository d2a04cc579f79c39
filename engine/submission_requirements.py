"""What a procedure asks of the applicant when they submit: an identity level and a fee.

The identity level comes from the procedure's catalogue entry (``identity_level``: none,
account or jpki); a procedure without an entry falls back to its manifest's ``[catalogue]
identity_level``, else "none". The fee comes from the manifest's ``[payment]`` section::

    [payment]
    amount = 300              # whole yen; may be left out when the office fixes it later
    when = "submission"       # or "after_review" (事後決済: the office fixes the fee in review)

The diagram does the paying (a ``payment.create`` service task, docs/plugins/payment.md);
this section tells the portal what to show and whether to send the applicant to the pay
page straight after filing.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.catalogue.entry import IDENTITY_LEVELS
from engine.errors import BadInput
from engine.store.models_catalogue import CatalogueProcedure

FEE_TIMES = ("submission", "after_review")
SECTION = "payment"


def submission_requirements(session: Session, catalog, key: str) -> dict:
    """``{"identity": "none"|"account"|"jpki", "fee": {"amount": int|None, "when": …|None}}``
    for the newest version of procedure ``key`` (NotFound if it is not deployed)."""
    manifest = catalog.latest(session, key).manifest or {}
    return {"identity": _identity(session, key, manifest), "fee": fee_of(manifest, key)}


def _identity(session: Session, key: str, manifest: dict) -> str:
    level = session.scalar(select(CatalogueProcedure.identity_level)
                           .where(CatalogueProcedure.definition_key == key).limit(1))
    if level is None:
        section = manifest.get("catalogue")
        level = section.get("identity_level") if isinstance(section, dict) else None
    return level if level in IDENTITY_LEVELS else "none"


def fee_of(manifest: dict, key: str) -> dict:
    """The manifest's ``[payment]`` section, checked; ``{"amount": None, "when": None}`` without one."""
    section = manifest.get(SECTION)
    if section is None:
        return {"amount": None, "when": None}
    where = f"procedure {key}, manifest [{SECTION}]"
    if not isinstance(section, dict):
        raise BadInput(f"{where}: must be a table with amount and when")
    when = section.get("when", "submission")
    if when not in FEE_TIMES:
        raise BadInput(f"{where}: when = {when!r} is not one of {', '.join(FEE_TIMES)}")
    amount = section.get("amount")
    if amount is not None and (not isinstance(amount, int) or isinstance(amount, bool) or amount <= 0):
        raise BadInput(f"{where}: amount = {amount!r} must be a whole number of yen above 0")
    if amount is None and when == "submission":
        raise BadInput(f"{where}: a fee paid at submission needs amount (whole yen)")
    return {"amount": amount, "when": when}
