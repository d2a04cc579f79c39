"""Which strings we treat as mail addresses we can send to."""

from __future__ import annotations

from email.headerregistry import Address


def valid_address(value: object) -> str | None:
    """``value`` as a plain ``user@domain.tld`` address, or None.

    Deliberately strict: an address typed wrongly into a form would otherwise fail at the
    SMTP server five times and end as an incident, for a mail that can never be delivered.
    Non-ASCII local parts are refused too (they need SMTPUTF8, which relays rarely offer).
    """
    if not isinstance(value, str):
        return None
    value = value.strip()
    if value.count("@") != 1 or any(c.isspace() for c in value):
        return None
    try:
        address = Address(addr_spec=value)
    except Exception:  # the parser raises several unrelated types; all mean "not an address"
        return None
    return value if address.username and address.domain and "." in address.domain else None
