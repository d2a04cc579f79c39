"""``decide``, ``recall``, ``decisions`` and ``absences`` — electronic approval (docs/approval.md)."""

from __future__ import annotations

from datetime import datetime

import click

from engine.cli.applications import _print_step, step_dict
from engine.cli.context import CliContext, emit_json, parse_data, pass_cli
from engine.errors import BadInput
from engine.views import decision_summary

DECISIONS = ["approve", "return", "reject", "return_to_applicant", "agree", "object", "resubmit", "withdraw",
             "acknowledge"]


def _step_to(value: str | None):
    if value is None or value == "drafter":
        return value
    try:
        return int(value)
    except ValueError:
        raise BadInput(f"--to {value!r}: give a step number of the route or 'drafter'") from None


@click.command("decide")
@click.argument("task_id")
@click.argument("decision", type=click.Choice(DECISIONS))
@click.option("--as", "actor", required=True, help="Who decides.")
@click.option("--comment", default=None, help="Reason or opinion (needed to return, reject, object, withdraw).")
@click.option("--to", "to", default=None, help="With return: the step number to return to, or 'drafter'.")
@click.option("--deadline", default=None, metavar="YYYY-MM-DD",
              help="With a return: the day by which it should be answered (needed for return_to_applicant).")
@click.option("--data", default=None, help="With resubmit: changed data, a JSON object or @file.json.")
@click.option("--json", "as_json", is_flag=True)
@pass_cli
def decide(cli: CliContext, task_id, decision, actor, comment, to, deadline, data, as_json) -> None:
    """Act on a task of an approval route (回議・合議・決裁・供覧・後閲)."""
    with cli.database.transaction() as session:
        result = cli.engine.decide(session, task_id, actor=actor, decision=decision, comment=comment,
                                   to=_step_to(to), data=parse_data(data), deadline=deadline)
        if as_json:
            emit_json(step_dict(result))
        else:
            _print_step(result)


@click.command("recall")
@click.argument("application_id", type=int)
@click.option("--as", "actor", required=True, help="The approver who sent the case on.")
@click.option("--json", "as_json", is_flag=True)
@pass_cli
def recall(cli: CliContext, application_id, actor, as_json) -> None:
    """引戻し: take a case back before the next approver acts on it."""
    with cli.database.transaction() as session:
        result = cli.engine.recall(session, application_id, actor=actor)
        if as_json:
            emit_json(step_dict(result))
        else:
            _print_step(result)


@click.command("decisions")
@click.argument("application_id", type=int)
@click.option("--json", "as_json", is_flag=True)
@pass_cli
def decisions(cli: CliContext, application_id, as_json) -> None:
    """The signed decision records of an application, in order."""
    with cli.database.transaction() as session:
        records = [decision_summary(r) for r in cli.engine.decisions(session, application_id)]
    if as_json:
        emit_json(records)
        return
    for r in records:
        behalf = f" (for {r['on_behalf_of']})" if r["on_behalf_of"] else ""
        comment = f" — {r['comment']}" if r["comment"] else ""
        click.echo(f"{r['seq']:>3} {r['at'][:19]} {r['step']}: {r['actor']}{behalf} {r['decision']}{comment}")


@click.group("absences")
def absences_group() -> None:
    """Absence periods of staff and their substitutes (代決者)."""


def _absence_dict(a) -> dict:
    return {"id": a.id, "user": a.user, "starts_at": a.starts_at.isoformat(), "ends_at": a.ends_at.isoformat(),
            "substitute": a.substitute, "reason": a.reason}


def _when(value: str, option: str) -> datetime:
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise BadInput(f"{option} {value!r} is not an ISO date or date-time (2026-12-01 or "
                       "2026-12-01T09:00+09:00)") from None
    if moment.tzinfo is None:
        moment = moment.astimezone()  # local time of this machine, as a person typing it means
    return moment


@absences_group.command("add")
@click.argument("user")
@click.option("--from", "starts", required=True, help="Start (ISO date or date-time).")
@click.option("--until", "ends", required=True, help="End, exclusive (ISO date or date-time).")
@click.option("--substitute", default=None, help="Who decides in the meantime (代決者).")
@click.option("--reason", default=None)
@click.option("--json", "as_json", is_flag=True)
@pass_cli
def add_absence(cli: CliContext, user, starts, ends, substitute, reason, as_json) -> None:
    """Record that USER is away, and who decides for them."""
    with cli.database.transaction() as session:
        absence = cli.engine.add_absence(session, user, _when(starts, "--from"), _when(ends, "--until"),
                                         substitute=substitute, reason=reason)
        out = _absence_dict(absence)
    if as_json:
        emit_json(out)
    else:
        click.echo(f"absence {out['id']}: {user} away {out['starts_at']} – {out['ends_at']}, "
                   f"substitute {substitute or '-'}")


@absences_group.command("list")
@click.option("--user", default=None)
@click.option("--all", "include_past", is_flag=True, help="Include absences that have ended.")
@click.option("--json", "as_json", is_flag=True)
@pass_cli
def list_absences(cli: CliContext, user, include_past, as_json) -> None:
    """Current and future absences (with --all, past ones too), by start."""
    current_at = None if include_past else datetime.now().astimezone()
    with cli.database.transaction() as session:
        rows = [_absence_dict(a) for a in cli.engine.absences(session, user=user, current_at=current_at)]
    if as_json:
        emit_json(rows)
        return
    for a in rows:
        click.echo(f"{a['id']:>4} {a['user']:<12} {a['starts_at']} – {a['ends_at']}  substitute "
                   f"{a['substitute'] or '-'}  {a['reason'] or ''}")


@absences_group.command("remove")
@click.argument("absence_id", type=int)
@pass_cli
def remove_absence(cli: CliContext, absence_id) -> None:
    """Delete an absence (e.g. a trip that was cancelled)."""
    with cli.database.transaction() as session:
        cli.engine.remove_absence(session, absence_id)
    click.echo(f"absence {absence_id} removed")


COMMANDS = [decide, recall, decisions, absences_group]
