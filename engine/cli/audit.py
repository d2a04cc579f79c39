"""``madoguchi audit verify``."""

import sys

import click

from engine.cli.context import CliContext, emit_json, pass_cli


@click.group("audit")
def audit_group() -> None:
    """The hash-chained audit trail."""


@audit_group.command("verify")
@click.option("--json", "as_json", is_flag=True)
@pass_cli
def verify(cli: CliContext, as_json: bool) -> None:
    """Check every chain; exit 1 and name the first bad row of each damaged chain."""
    with cli.database.transaction() as session:
        findings = cli.engine.verify_audit(session)
    if as_json:
        emit_json({"ok": not findings, "findings": [
            {"chain": f.chain, "event_id": f.event_id, "seq": f.seq, "message": f.message} for f in findings]})
    elif findings:
        for finding in findings:
            click.echo(f"TAMPERED: {finding}", err=True)
    else:
        click.echo("audit trail intact")
    if findings:
        sys.exit(1)


COMMANDS = [audit_group]
