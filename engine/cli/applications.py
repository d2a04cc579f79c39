"""``start``, ``tasks``, ``claim``, ``unclaim``, ``complete``, ``show``."""

import click

from engine.cli.context import CliContext, emit_json, parse_data, pass_cli


def step_dict(result) -> dict:
    a = result.application
    return {"id": a.id, "reference": a.reference, "status": a.status,
            "open_tasks": [{"id": t.id, "element_id": t.element_id, "name": t.name} for t in result.opened_tasks]}


def _print_step(result) -> None:
    a = result.application
    click.echo(f"application {a.id} ({a.reference}): {a.status}")
    for task in result.opened_tasks:
        who = ", ".join(task.candidate_groups + task.candidate_users) or "the applicant"
        click.echo(f"  new task {task.id}: {task.name} — for {who}")


@click.command("start")
@click.argument("key")
@click.option("--data", default=None, help="JSON object, or @file.json")
@click.option("--as", "actor", default=None, help="Who starts the application.")
@click.option("--json", "as_json", is_flag=True)
@pass_cli
def start(cli: CliContext, key: str, data: str | None, actor: str | None, as_json: bool) -> None:
    """Start an application of the newest version of procedure KEY."""
    payload = parse_data(data)
    with cli.database.transaction() as session:
        result = cli.engine.start(session, key, data=payload, actor=actor)
        out = step_dict(result)
        if as_json:
            emit_json(out)
        else:
            _print_step(result)


@click.command("tasks")
@click.option("--user", default=None, help="Tasks this user may work on.")
@click.option("--group", default=None, help="Tasks offered to this group.")
@click.option("--application", "application_id", type=int, default=None)
@click.option("--limit", type=int, default=50, show_default=True)
@click.option("--json", "as_json", is_flag=True)
@pass_cli
def tasks(cli: CliContext, user, group, application_id, limit, as_json) -> None:
    """List open tasks."""
    with cli.database.transaction() as session:
        rows = cli.engine.tasks(session, user=user, group=group, application_id=application_id, limit=limit)
    if as_json:
        emit_json([r.as_dict() for r in rows])
        return
    for r in rows:
        who = r.assignee or ", ".join(r.candidate_groups + r.candidate_users) or "-"
        click.echo(f"{r.id}  {r.reference}  {r.name:<30} {who}")


@click.command("claim")
@click.argument("task_id")
@click.option("--as", "actor", required=True)
@pass_cli
def claim(cli: CliContext, task_id: str, actor: str) -> None:
    """Take a task so that others see it is being worked on."""
    with cli.database.transaction() as session:
        task = cli.engine.claim(session, task_id, actor=actor)
    click.echo(f"task {task.id} claimed by {task.assignee}")


@click.command("unclaim")
@click.argument("task_id")
@click.option("--as", "actor", required=True)
@pass_cli
def unclaim(cli: CliContext, task_id: str, actor: str) -> None:
    """Give a claimed task back to its candidates."""
    with cli.database.transaction() as session:
        task = cli.engine.unclaim(session, task_id, actor=actor)
    click.echo(f"task {task.id} released")


@click.command("complete")
@click.argument("task_id")
@click.option("--as", "actor", required=True)
@click.option("--data", default=None, help="JSON object, or @file.json")
@click.option("--json", "as_json", is_flag=True)
@pass_cli
def complete(cli: CliContext, task_id: str, actor: str, data: str | None, as_json: bool) -> None:
    """Complete a task with the submitted data; the application runs on until it waits."""
    payload = parse_data(data)
    with cli.database.transaction() as session:
        result = cli.engine.complete(session, task_id, actor=actor, data=payload)
        if as_json:
            emit_json(step_dict(result))
        else:
            _print_step(result)


@click.command("show")
@click.argument("application_id", type=int)
@click.option("--json", "as_json", is_flag=True)
@pass_cli
def show(cli: CliContext, application_id: int, as_json: bool) -> None:
    """Status, data, open tasks and history of an application."""
    with cli.database.transaction() as session:
        view = cli.engine.show(session, application_id).as_dict()
    if as_json:
        emit_json(view)
        return
    click.echo(f"application {view['id']} ({view['reference']}) — {view['procedure']} v{view['version']}")
    click.echo(f"status: {view['status']}")
    click.echo(f"data: {view['data']}")
    for task in view["open_tasks"]:
        click.echo(f"open task {task['id']}: {task['name']}")
    for incident in view.get("incidents", []):
        if incident["status"] == "open":
            click.echo(f"incident #{incident['id']}: {incident['kind']} {incident['element_id'] or ''} — after "
                       f"{incident['attempts']} attempt(s): {incident['message']}")
    for event in view["history"]:
        click.echo(f"  {event['at']}  {event['action']:<22} {event['actor'] or ''}")


COMMANDS = [start, tasks, claim, unclaim, complete, show]
