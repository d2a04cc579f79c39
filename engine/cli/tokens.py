"""``madoguchi tokens`` — API tokens for integrators: create, list, revoke (docs/api.md)."""

import click

from engine.api_tokens import SCOPES, token_dict
from engine.cli.context import CliContext, emit_json, pass_cli


@click.group("tokens")
def tokens_group() -> None:
    """Bearer tokens for /api/v1, each acting as one staff user within its scopes."""


@tokens_group.command("create")
@click.option("--name", required=True, help="A unique name that says who uses the token.")
@click.option("--user", required=True, help="The staff user the token acts as (its actions are audited as them).")
@click.option("--scope", "scopes", multiple=True, required=True, type=click.Choice(list(SCOPES)),
              help="What the token may do; repeat for several.")
@click.option("--expires", default=None, help="Lifetime such as 90d, 12h or 2w (default: until revoked).")
@click.option("--as", "actor", default=None, help="Who creates it (for the audit trail).")
@click.option("--json", "as_json", is_flag=True)
@pass_cli
def create(cli: CliContext, name: str, user: str, scopes: tuple[str, ...], expires: str | None,
           actor: str | None, as_json: bool) -> None:
    """Create a token and print its secret — shown this once, then only its hash is kept."""
    with cli.database.transaction() as session:
        row, secret = cli.engine.create_api_token(session, name=name, user=user, scopes=list(scopes),
                                                  expires=expires, actor=actor)
        described = token_dict(row)
    if as_json:
        emit_json({**described, "token": secret})
        return
    click.echo(secret)
    until = described["expires_at"] or "until revoked"
    click.echo(f"token {name!r} for {user} ({', '.join(described['scopes'])}), valid {until}. "
               "Keep it now: it cannot be shown again.", err=True)


@tokens_group.command("list")
@click.option("--json", "as_json", is_flag=True)
@pass_cli
def list_tokens(cli: CliContext, as_json: bool) -> None:
    """Every token: name, prefix, user, scopes, status, last use."""
    with cli.database.transaction() as session:
        rows = [token_dict(row) for row in cli.engine.api_tokens(session)]
    if as_json:
        emit_json(rows)
        return
    for row in rows:
        click.echo(f"{row['name']:<24} {row['prefix']}…  {row['user']:<16} {row['status']:<8} "
                   f"last used {row['last_used_at'] or 'never'}  {' '.join(row['scopes'])}")


@tokens_group.command("revoke")
@click.argument("name")
@click.option("--as", "actor", default=None)
@pass_cli
def revoke(cli: CliContext, name: str, actor: str | None) -> None:
    """Stop a token from working (at once, for every request that follows)."""
    with cli.database.transaction() as session:
        cli.engine.revoke_api_token(session, name, actor=actor)
    click.echo(f"token {name!r} revoked")


COMMANDS = [tokens_group]
