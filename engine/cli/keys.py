"""``madoguchi keys show|rotate`` — the approval key ring that signs decision records."""

from __future__ import annotations

import click

from engine.approvals import keys
from engine.cli.context import CliContext, emit_json, pass_cli


@click.group("keys")
def keys_group() -> None:
    """Approval signing keys (docs/approval-records.md)."""


def _key_rows(session) -> list[dict]:
    return [{"key_id": k.key_id, "algorithm": k.algorithm, "created_at": k.created_at.isoformat(),
             "retired_at": k.retired_at.isoformat() if k.retired_at else None} for k in keys.list_keys(session)]


def _print(current: str | None, rows: list[dict]) -> None:
    click.echo(f"current: {current or '(none yet; made on the first decision)'}")
    for row in rows:
        state = f"retired {row['retired_at']}" if row["retired_at"] else "active"
        mark = "*" if row["key_id"] == current else " "
        click.echo(f"{mark} {row['key_id']}  {row['algorithm']}  created {row['created_at']}  {state}")


@keys_group.command("show")
@click.option("--json", "as_json", is_flag=True)
@pass_cli
def show(cli: CliContext, as_json: bool) -> None:
    """The current key and every key of the ring (retired keys still verify old records)."""
    current = keys.current_key_id(cli.settings)
    with cli.database.transaction() as session:
        rows = _key_rows(session)
    if as_json:
        emit_json({"current": current, "keys": rows})
    else:
        _print(current, rows)


@keys_group.command("rotate")
@click.option("--json", "as_json", is_flag=True)
@pass_cli
def rotate(cli: CliContext, as_json: bool) -> None:
    """Make a new signing key; the old one is retired, kept, and still verifies."""
    with cli.database.transaction() as session:
        identity = keys.rotate(cli.settings, session)
        rows = _key_rows(session)
    if as_json:
        emit_json({"current": identity.key_id, "keys": rows})
    else:
        _print(identity.key_id, rows)


COMMANDS = [keys_group]
