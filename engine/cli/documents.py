"""``verify`` and ``documents list|show|revoke|void|download`` — issued, sealed documents."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import click

from engine.cli.context import CliContext, emit_json, pass_cli
from engine.errors import BadInput
from engine.issuance.documents import document_summary

#: Exit status of ``madoguchi verify`` per verdict: scripts can branch without parsing text.
VERIFY_EXIT = {"valid": 0, "altered": 5, "revoked": 6, "unknown": 7}


@click.command("verify")
@click.argument("pdf", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True)
@pass_cli
def verify(cli: CliContext, pdf: Path, as_json: bool) -> None:
    """Check an issued PDF: valid, altered, revoked or unknown (exit 0, 5, 6, 7)."""
    try:
        content = pdf.read_bytes()
    except OSError as exc:
        raise BadInput(f"cannot read {pdf}: {exc.strerror or exc}") from None
    with cli.database.transaction() as session:
        verdict = cli.engine.verify_document(session, content)
    if as_json:
        emit_json(verdict.as_dict())
    else:
        click.echo(f"{pdf.name}: {verdict.status.upper()}")
        document = verdict.document
        if document:
            click.echo(f"  {document['title']} {document['number']}, issued {document['issued_at'] or '-'}")
        if verdict.signer:
            click.echo(f"  sealed by {verdict.signer} at {verdict.signed_at or '-'}")
        for reason in verdict.reasons:
            click.echo(f"  - {reason}")
    sys.exit(VERIFY_EXIT[verdict.status])


@click.group("documents")
def documents_group() -> None:
    """The register of issued documents (文書番号, status, downloads)."""


@documents_group.command("list")
@click.option("--application", "application_id", type=int, default=None)
@click.option("--json", "as_json", is_flag=True)
@pass_cli
def list_documents(cli: CliContext, application_id, as_json) -> None:
    """Issued documents, oldest first."""
    with cli.database.transaction() as session:
        rows = [document_summary(d, cli.settings.public_url)
                for d in cli.engine.issued_documents(session, application_id=application_id)]
    if as_json:
        emit_json(rows)
        return
    for d in rows:
        click.echo(f"{d['id']}  {d['number']:<24} {d['status']:<8} application {d['application_id']}  {d['title']}")


@documents_group.command("show")
@click.argument("document_id")
@click.option("--json", "as_json", is_flag=True)
@pass_cli
def show_document(cli: CliContext, document_id, as_json) -> None:
    """One document with its downloads."""
    with cli.database.transaction() as session:
        out = document_summary(cli.engine.issued_document(session, document_id), cli.settings.public_url)
        out["downloads"] = [{"at": d.at.isoformat(), "actor": d.actor, "channel": d.channel, "client": d.client}
                            for d in cli.engine.document_downloads(session, document_id)]
    if as_json:
        emit_json(out)
        return
    for key, value in out.items():
        if key != "downloads":
            click.echo(f"{key:>18}: {value if value is not None else '-'}")
    for d in out["downloads"]:
        click.echo(f"  downloaded {d['at']} by {d['actor'] or '-'} ({d['channel']})")


@documents_group.command("revoke")
@click.argument("document_id")
@click.option("--as", "actor", required=True)
@click.option("--reason", required=True, help="Shown to anyone who verifies the document.")
@click.option("--json", "as_json", is_flag=True)
@pass_cli
def revoke(cli: CliContext, document_id, actor, reason, as_json) -> None:
    """Revoke an issued document: verification answers "revoked" from now on."""
    with cli.database.transaction() as session:
        out = document_summary(cli.engine.revoke_document(session, document_id, actor=actor, reason=reason))
    if as_json:
        emit_json(out)
    else:
        click.echo(f"document {out['number']} revoked: {reason}")


@documents_group.command("void")
@click.argument("document_id")
@click.option("--as", "actor", required=True)
@click.option("--reason", required=True)
@pass_cli
def void(cli: CliContext, document_id, actor, reason) -> None:
    """Mark a reserved number whose issuance was abandoned as 欠番 (it stays in the register)."""
    with cli.database.transaction() as session:
        out = document_summary(cli.engine.void_document(session, document_id, actor=actor, reason=reason))
    click.echo(f"number {out['number']} void: {reason}")


@documents_group.command("download")
@click.argument("document_id")
@click.option("--as", "actor", required=True, help="Who receives the document (recorded).")
@click.option("--out", "out_path", type=click.Path(dir_okay=False, path_type=Path), required=True)
@pass_cli
def download(cli: CliContext, document_id, actor, out_path: Path) -> None:
    """Write the sealed PDF to a file; the download is recorded with its time."""
    with cli.database.transaction() as session:
        document, stream = cli.engine.download_document(session, document_id, actor=actor, channel="cli")
        with stream, out_path.open("wb") as target:
            shutil.copyfileobj(stream, target)
        number = document.number
    click.echo(f"{number} written to {out_path}")


COMMANDS = [verify, documents_group]
