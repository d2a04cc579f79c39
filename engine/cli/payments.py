"""``madoguchi payment`` — list and show payments, apply a provider callback by hand, queue a refund."""

from __future__ import annotations

import uuid
from pathlib import Path

import click

from engine import payments
from engine.cli.context import CliContext, emit_json, pass_cli
from engine.errors import BadInput


@click.group("payment")
def payment_group() -> None:
    """Fee payments through payment providers (docs/plugins/payment.md)."""


@payment_group.command("list")
@click.option("--application", "application_id", type=int, default=None)
@click.option("--status", type=click.Choice(["created", "paid", "failed", "cancelled", "refunded"]), default=None)
@click.option("--limit", type=click.IntRange(1, 1000), default=100, show_default=True)
@click.option("--json", "as_json", is_flag=True)
@pass_cli
def list_payments(cli: CliContext, application_id: int | None, status: str | None, limit: int,
                  as_json: bool) -> None:
    """Payments, newest first."""
    with cli.database.transaction() as session:
        rows = [payments.payment_as_dict(p) for p in payments.list_payments(
            session, application_id=application_id, status=status, limit=limit)]
    if as_json:
        emit_json(rows)
        return
    for row in rows:
        where = f"application {row['application_id']}" if row["application_id"] else "-"
        refunded = f" (refunded {row['refunded_amount']})" if row["refunded_amount"] else ""
        click.echo(f"{row['reference']:<20} {row['status']:<9} {row['amount']:>8} {row['currency']}{refunded:<18} "
                   f"{row['provider']:<10} {where}")


@payment_group.command("show")
@click.argument("reference")
@click.option("--json", "as_json", is_flag=True)
@pass_cli
def show(cli: CliContext, reference: str, as_json: bool) -> None:
    """One payment with its details (refunds, callbacks seen)."""
    with cli.database.transaction() as session:
        row = payments.payment_as_dict(payments.require_payment(session, reference))
    if as_json:
        emit_json(row)
        return
    for key in ("reference", "status", "amount", "currency", "refunded_amount", "provider", "application_id",
                "created_at", "updated_at"):
        click.echo(f"{key + ':':<23} {row[key]}")
    for key, value in row["details"].items():
        click.echo(f"{key + ':':<23} {value}")


@payment_group.command("callback")
@click.argument("provider")
@click.option("--body", required=True, help="The callback's body exactly as received: text or @file.")
@click.option("--header", "headers", multiple=True, metavar="NAME=VALUE",
              help="A header of the callback (repeat); the signature header is required.")
@click.option("--json", "as_json", is_flag=True)
@pass_cli
def callback(cli: CliContext, provider: str, body: str, headers: tuple[str, ...], as_json: bool) -> None:
    """Apply a provider callback by hand (e.g. one the web endpoint could not take).

    The provider's signature is checked as for a callback over HTTP.
    """
    with cli.database.transaction() as session:
        event = payments.handle_callback(cli.engine, session, provider, _body(body), _headers(headers))
    answer = {"reference": event.reference, "status": event.status, "outcome": event.outcome}
    if as_json:
        emit_json(answer)
    else:
        click.echo(f"payment {event.reference}: {event.status} ({event.outcome})")


@payment_group.command("refund")
@click.argument("reference")
@click.option("--amount", type=click.IntRange(min=1), default=None, help="Default: all that is left to refund.")
@click.option("--json", "as_json", is_flag=True)
@pass_cli
def refund(cli: CliContext, reference: str, amount: int | None, as_json: bool) -> None:
    """Queue a refund; a worker asks the provider (kind payment.refund)."""
    with cli.database.transaction() as session:
        payment = payments.require_payment(session, reference)
        # The request id names this refund for the provider; the job's retries keep it.
        payload = {"reference": reference, "request_id": f"refund-{uuid.uuid4()}"}
        if amount is not None:
            payload["amount"] = amount
        job = cli.engine.enqueue_job(session, "payment.refund", payload, application_id=payment.application_id)
        job_id = job.id
    if as_json:
        emit_json({"job_id": job_id, **payload})
    else:
        click.echo(f"refund of payment {reference} queued as job {job_id}; a worker carries it out")


def _body(raw: str) -> bytes:
    if raw.startswith("@"):
        path = Path(raw[1:])
        if not path.is_file():
            raise BadInput(f"--body {raw}: no such file")
        return path.read_bytes()  # the bytes as signed: never re-encoded
    return raw.encode()


def _headers(pairs: tuple[str, ...]) -> dict[str, str]:
    headers = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name.strip():
            raise BadInput(f"--header {pair!r}: write NAME=VALUE")
        headers[name.strip()] = value.strip()
    return headers


COMMANDS = [payment_group]
