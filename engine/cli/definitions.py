"""``madoguchi deploy`` and ``madoguchi definitions``."""

from pathlib import Path

import click

from engine.bpmn.bundle import MANIFEST
from engine.cli.context import CliContext, emit_json, pass_cli
from engine.errors import DeployRefused


def _deploy_targets(path: Path) -> list[Path]:
    """A folder of bundles (like workflows/) deploys each bundle and loose .bpmn in it."""
    if not path.is_dir() or (path / MANIFEST).exists() or any(path.glob("*.bpmn")):
        return [path]
    children = [p for p in sorted(path.iterdir()) if not p.name.startswith(".")
                and (p.is_dir() and (p / MANIFEST).exists() or p.suffix.lower() in (".bpmn", ".zip"))]
    return children or [path]


def definition_dict(definition, created: bool | None = None) -> dict:
    out = {"id": definition.id, "key": definition.key, "version": definition.version,
           "process_id": definition.process_id, "title": definition.title,
           "content_hash": definition.content_hash, "created_at": definition.created_at.isoformat()}
    if created is not None:
        out["created"] = created
    return out


@click.command("deploy")
@click.argument("path", type=click.Path(path_type=Path))
@click.option("--as", "actor", default=None, help="Who deploys (recorded in the audit trail).")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@pass_cli
def deploy(cli: CliContext, path: Path, actor: str | None, as_json: bool) -> None:
    """Deploy a .bpmn file, a bundle folder or zip, or a folder of bundles."""
    results, problems = [], []
    for target in _deploy_targets(path):
        try:
            with cli.database.transaction() as session:
                result = cli.engine.deploy(session, target, actor=actor)
                results.append(definition_dict(result.definition, result.created))
        except DeployRefused as exc:
            problems.extend(exc.problems)
    if as_json:
        emit_json({"deployed": results, "problems": [p.as_dict() for p in problems]})
    else:
        for r in results:
            verb = "deployed" if r["created"] else "unchanged"
            click.echo(f"{verb}: {r['key']} version {r['version']} (process {r['process_id']})")
    if problems:
        raise DeployRefused(problems)


@click.command("definitions")
@click.option("--json", "as_json", is_flag=True)
@pass_cli
def definitions(cli: CliContext, as_json: bool) -> None:
    """List deployed definitions and their versions."""
    with cli.database.transaction() as session:
        rows = [definition_dict(d) for d in cli.engine.definitions(session)]
    if as_json:
        emit_json(rows)
        return
    for r in rows:
        click.echo(f"{r['key']:<30} v{r['version']:<4} {r['process_id']:<30} {r['title'] or ''}")


COMMANDS = [deploy, definitions]
