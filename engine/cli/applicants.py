"""``madoguchi applicants list|add``: applicant accounts of the portal."""

from __future__ import annotations

import sys

import click

from engine.applicants.profile import KINDS, LANGUAGES
from engine.cli.context import CliContext, emit_json, pass_cli
from engine.errors import BadInput


@click.group("applicants")
def applicants_group() -> None:
    """Applicant accounts (residents and businesses) of the portal."""


@applicants_group.command("add")
@click.argument("email")
@click.option("--kind", type=click.Choice(KINDS), default="individual", show_default=True)
@click.option("--name", required=True, help="The person's name (for a business: the contact person).")
@click.option("--kana", "name_kana", default=None, help="The name's reading in katakana.")
@click.option("--birth-date", default=None, help="YYYY-MM-DD.")
@click.option("--postcode", default=None)
@click.option("--address", default=None)
@click.option("--phone", default=None)
@click.option("--company-name", default=None, help="Business: the company's name (法人名).")
@click.option("--company-kana", "company_name_kana", default=None, help="Business: its reading.")
@click.option("--corporate-number", default=None, help="Business: the 13-digit 法人番号.")
@click.option("--representative", default=None, help="Business: the representative (代表者).")
@click.option("--language", type=click.Choice(LANGUAGES), default="ja", show_default=True)
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input (required).")
@click.option("--json", "as_json", is_flag=True)
@pass_cli
def add(cli: CliContext, email: str, kind: str, language: str, password_stdin: bool, as_json: bool,
        **profile) -> None:
    """Create an account whose address counts as confirmed (the operator vouches for it)."""
    if not password_stdin:
        raise BadInput("give the password on standard input with --password-stdin")
    password = sys.stdin.readline().rstrip("\n")
    with cli.database.transaction() as session:
        account = cli.engine.add_applicant(session, email=email, password=password, kind=kind, profile=profile,
                                           language=language, actor="system:cli")
    if as_json:
        emit_json(_row(account))
        return
    click.echo(f"applicant {account.id}: {account.email} ({account.kind}, {account.display_name})")


@applicants_group.command("list")
@click.option("--limit", default=100, show_default=True, type=click.IntRange(1, 10_000))
@click.option("--offset", default=0, type=click.IntRange(0))
@click.option("--json", "as_json", is_flag=True)
@pass_cli
def list_applicants(cli: CliContext, limit: int, offset: int, as_json: bool) -> None:
    """List applicant accounts (oldest first)."""
    with cli.database.transaction() as session:
        rows = [_row(account) for account in cli.engine.applicants(session, limit=limit, offset=offset)]
    if as_json:
        emit_json(rows)
        return
    for row in rows:
        state = "verified" if row["verified"] else "unverified"
        click.echo(f"{row['id']:>6}  {row['email']:<32} {row['kind']:<10} {state:<10} {row['display_name']}")


def _row(account) -> dict:
    """The stable ``--json`` shape (docs/cli.md)."""
    return {"id": account.id, "email": account.email, "kind": account.kind, "verified": account.verified,
            "display_name": account.display_name, "corporate_number": account.corporate_number,
            "language": account.language, "created_at": account.created_at.isoformat(timespec="seconds")}


COMMANDS = [applicants_group]
