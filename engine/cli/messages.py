"""``madoguchi message send``."""

import click

from engine.cli.context import CliContext, emit_json, parse_data, pass_cli


@click.group("message")
def message_group() -> None:
    """Messages to applications (payment confirmed, documents resubmitted, …)."""


@message_group.command("send")
@click.argument("name")
@click.option("--key", default=None, help="Correlation key: payment reference, 受付番号 (application reference) …")
@click.option("--data", default=None, help="Message data: JSON object or @file.json")
@click.option("--as", "sender", default=None, help="Who sends it (recorded).")
@click.option("--json", "as_json", is_flag=True)
@pass_cli
def send(cli: CliContext, name: str, key: str | None, data: str | None, sender: str | None, as_json: bool) -> None:
    """Deliver message NAME to the application waiting for it, start one, or buffer it."""
    with cli.database.transaction() as session:
        result = cli.engine.send_message(session, name, key=key, data=parse_data(data), sender=sender)
    if as_json:
        emit_json(result.as_dict())
    elif result.status == "buffered":
        click.echo(f"message {result.message_id}: nobody waits yet; kept until {result.expires_at.isoformat()}")
    else:
        click.echo(f"message {result.message_id}: {result.status} → application {result.application_id}")


COMMANDS = [message_group]
