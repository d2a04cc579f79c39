"""Approval routes (電子決裁): 回議, 合議, 供覧, 差戻し, 引戻し, 代決 with 後閲, 引上げ, 却下, 取下げ.

A diagram asks for a route with a service task whose operation is ``approval_route``. The
engine does not queue a job for it: when the step that reaches the task ends, the route
starts (its plan is in ``engine.approvals.plan``) and the task waits. The route's tasks
are rows of the task lists like any other, with a ``kind`` saying what they ask for; each
action on them is one step of the application (locked, audited, one transaction) and
one signed decision record. When the route ends (approved, rejected, withdrawn or
returned to the applicant) the waiting task completes with the outcome and the process
runs on — usually into a gateway on ``approval["outcome"]``.

Circulation (供覧) and review afterwards (後閲) are tasks of the route that block nothing:
they may be acknowledged before or after the route (or the application) has ended.
"""

from __future__ import annotations

from uuid import UUID, uuid4

from SpiffWorkflow.util.task import TaskState
from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from engine.approvals import people
from engine.approvals.deadline import parse_deadline, passes_at
from engine.approvals.plan import (
    CONSULT,
    DECIDE,
    DRAFT,
    ROUTE_OPERATION,
    SINGLE,
    build_plan,
    candidates_of,
    parse_targets,
    step_name,
)
from engine.approvals.records import record_decision
from engine.errors import BadInput, Conflict, ExecutionFailed, NotFound, PermissionRefused
from engine.runtime.runner import run_until_waiting, translated_errors
from engine.runtime.service import CALL_KEY, pending_calls
from engine.store import rows
from engine.store.models import ApprovalRoute, HumanTask, User, utcnow

ROUTES = ApprovalRoute.__table__
TASKS = HumanTask.__table__

#: Task kinds that hold the route up; the others (供覧, 後閲) block nothing.
BLOCKING = ("approve", "consult", "resubmit")
#: What each kind of route task accepts as ``decision``.
DECISIONS = {
    "approve": ("approve", "return", "reject", "return_to_applicant"),
    "consult": ("agree", "object"),
    "resubmit": ("resubmit", "withdraw"),
    "circulate": ("acknowledge",),
    "review_after": ("acknowledge",),
}
#: Decisions that need a reason in ``comment``.
NEED_REASON = ("return", "reject", "return_to_applicant", "object", "withdraw")
#: Keys of a submission that steer the route rather than change the application's data.
CONTROL_KEYS = ("decision", "comment", "to")


class RouteService:
    """Runs approval routes for an ``ApplicationService`` (which calls in from its steps)."""

    def __init__(self, applications, settings):
        self.applications = applications
        self.settings = settings

    # -- from a step: start and cancel ---------------------------------------------------------

    def start_pending(self, step, workflow) -> None:
        """Start a route for every ``approval_route`` task the run just reached."""
        for task in pending_calls(workflow):
            call = task.internal_data[CALL_KEY]
            if call["operation"] != ROUTE_OPERATION:
                continue
            call["enqueued"] = True  # runs here, never as a job
            try:
                self._start(step, task, call["params"])
            except BadInput as exc:
                raise ExecutionFailed(str(exc), application_id=step.application.id,
                                      element_id=task.task_spec.bpmn_id) from exc

    def cancel(self, step, task_ids: set[str]) -> None:
        """Routes whose waiting task was cancelled (an interrupting timer, a message) end too."""
        connection = step.connection
        for route in step.session.scalars(select(ApprovalRoute).where(
                ApprovalRoute.application_id == step.application.id, ApprovalRoute.status == "running",
                ApprovalRoute.task_id.in_(task_ids))):
            self._close_blocking(step, route, "cancelled")
            connection.execute(update(ROUTES).where(ROUTES.c.id == route.id).values(
                status="cancelled", finished_at=step.now))
            step.record("approval_route_cancelled", None, details={"route_id": route.id})

    def _start(self, step, task, params: dict) -> None:
        session, spec = step.session, task.task_spec
        drafter = step.actor if _is_staff(session, step.actor) else None
        levels = parse_targets(params.get("levels"), "levels")
        drafter_targets = [f"user:{drafter}"] if drafter else levels[:1]
        plan = build_plan(params, drafter_targets)
        title = str(params.get("title") or spec.bpmn_name or spec.bpmn_id)[:300]
        circulate = parse_targets(params.get("circulate"), "circulate")
        route_id = step.connection.execute(insert(ROUTES).values(
            application_id=step.application.id, task_id=str(task.id), element_id=spec.bpmn_id, title=title,
            plan=plan, position=1, status="running", drafter=drafter, last_sender=drafter,
            last_sender_step=0 if drafter else None, outcome=None, created_at=step.now,
            finished_at=None).returning(ROUTES.c.id)).scalar_one()
        route = step.session.get(ApprovalRoute, route_id)
        step.record("approval_route_started", drafter, details={"route_id": route_id, "title": title, "plan": plan})
        if drafter:
            self._decide(step, route, task, 0, drafter, "draft")
        self._open_step(step, route, 1)
        for target in circulate:
            groups, users = candidates_of([target])
            self._open_task(step, route, "circulate", None, f"{title} — 供覧", groups, users)

    # -- acting on a route task ------------------------------------------------------------------

    def act(self, session: Session, human, application, candidate: bool, actor: str, data: dict):
        """One person's action on one route task (the application row is locked)."""
        decision = data.get("decision")
        allowed = DECISIONS[human.kind]
        if decision not in allowed:
            raise BadInput(f"task {human.id} asks for a decision: one of {', '.join(allowed)} "
                           f"(got {decision!r}) — send it as data.decision")
        comment = data.get("comment")
        if comment is not None and not isinstance(comment, str):
            raise BadInput("data.comment must be text")
        if decision in NEED_REASON and not (comment or "").strip():
            raise BadInput(f"a {decision} needs a reason: give it as data.comment")
        # Only an approver returns a case; elsewhere "deadline" may be a field of the application.
        deadline = parse_deadline(data.get("deadline"), decision) if human.kind == "approve" else None
        route = session.get(ApprovalRoute, human.route_id)
        applications = self.applications
        workflow = applications._load_locked(session, application)
        from engine.steps import Step  # the step module calls into this one

        step = Step(applications, session, application, utcnow(), actor, workflow)
        if human.kind in BLOCKING and (route.status != "running" or human.route_step != route.position):
            raise Conflict(f"task {human.id} is no longer current: the route moved on meanwhile; reload")
        task = _waiting_task(workflow, route) if route.status == "running" else None
        mode, on_behalf_of, ahead_to = self._authorize(step, human, route, candidate, actor, decision)
        step.close_task(human, "completed", by=actor)
        step.completed = (human, data)
        step.record("task_completed", actor, task_id=human.id,
                    details={"element_id": human.element_id, "decision": decision, "mode": mode,
                             "on_behalf_of": on_behalf_of}, data=data)
        if human.kind in ("circulate", "review_after"):
            content = task.data if task is not None else _application_data(workflow)
            label = "供覧" if human.kind == "circulate" else "後閲"
            record_decision(session, self.settings, application_id=application.id, step=f"{route.element_id}/-:{label}",
                            actor=actor, decision="acknowledge", comment=comment, data=_shown(content),
                            attachments=attachments_in(content))
            return step.finish(workflow)
        if human.kind == "approve":
            self._on_approve(step, route, task, human, decision, comment, data, mode, on_behalf_of, ahead_to,
                             deadline)
        else:
            handler = {"consult": self._on_consult, "resubmit": self._on_resubmit}
            handler[human.kind](step, route, task, human, decision, comment, data, mode, on_behalf_of, ahead_to)
        return step.finish(workflow)

    def _on_approve(self, step, route, task, human, decision, comment, data, mode, on_behalf_of, ahead_to,
                    deadline=None):
        position, actor = route.position, step.actor
        if mode == "hikiage":
            for skipped in range(position, ahead_to):
                for absent_user in self._absent_holders(step, route.plan[skipped]["targets"]):
                    self._review_after(step, route, skipped, absent_user)
                self._decide(step, route, task, skipped, actor, "approve_ahead",
                             on_behalf_of=", ".join(self._absent_holders(step, route.plan[skipped]["targets"]))
                             or None)
            position = route.position = ahead_to
            step.connection.execute(update(ROUTES).where(ROUTES.c.id == route.id).values(position=position))
        kind = route.plan[position]["kind"]
        if decision == "reject" and kind != DECIDE:
            raise BadInput("only the deciding level can reject (却下); return the case instead")
        self._decide(step, route, task, position, actor, decision, comment=comment, on_behalf_of=on_behalf_of,
                     to=data.get("to"), deadline=deadline)
        if mode == "daiketsu":
            self._review_after(step, route, position, on_behalf_of)
        if decision == "approve":
            if kind == DECIDE:
                self._finish(step, route, task, "approved", actor, comment, on_behalf_of, mode)
            else:
                self._move(step, route, position + 1, sender=actor, sender_step=position)
        elif decision == "return":
            self._move(step, route, self._return_target(route, position, data.get("to")), sender=None,
                       due_at=passes_at(deadline) if deadline else None)
        elif decision == "reject":
            self._finish(step, route, task, "rejected", actor, comment, on_behalf_of, mode)
        else:
            self._finish(step, route, task, "returned_to_applicant", actor, comment, on_behalf_of, mode,
                         deadline=deadline)

    def _on_consult(self, step, route, task, human, decision, comment, data, mode, on_behalf_of, ahead_to):
        self._decide(step, route, task, route.position, step.actor, decision, comment=comment,
                     on_behalf_of=on_behalf_of, target=_target_of(human))
        still_open = [t for t in self._open_tasks(step, route) if t.route_step == route.position
                      and t.kind == "consult" and t.id != human.id]
        if not still_open:
            self._move(step, route, route.position + 1, sender=None)

    def _on_resubmit(self, step, route, task, human, decision, comment, data, mode, on_behalf_of, ahead_to):
        changes = {k: v for k, v in data.items() if k not in CONTROL_KEYS}
        if changes:
            task.data.update(changes)
            step.record("application_data_changed", step.actor, details={"changed": sorted(changes)}, data=changes)
        self._decide(step, route, task, 0, step.actor, decision, comment=comment)
        if decision == "withdraw":
            self._finish(step, route, task, "withdrawn", step.actor, comment, None, "normal")
        else:
            self._move(step, route, 1, sender=step.actor, sender_step=0)

    def recall(self, session: Session, application_id: int, actor: str):
        """引戻し: the last sender takes the case back before anyone at the next step acted."""
        applications = self.applications
        application = applications._lock(session, application_id)
        route = session.scalars(select(ApprovalRoute).where(
            ApprovalRoute.application_id == application_id, ApprovalRoute.status == "running")
            .order_by(ApprovalRoute.id.desc()).limit(1)).first()
        if route is None:
            raise NotFound(f"application {application_id} has no running approval route")
        if route.last_sender != actor or route.last_sender_step is None:
            raise PermissionRefused(f"only the one who sent the case on ({route.last_sender or 'nobody'}) "
                                    f"may recall it, not {actor}")
        workflow = applications._load_locked(session, application)
        from engine.steps import Step

        step = Step(applications, session, application, utcnow(), actor, workflow)
        current = [t for t in self._open_tasks(step, route) if t.route_step == route.position]
        plan_step = route.plan[route.position]
        expected = len(plan_step["targets"]) if plan_step["kind"] == CONSULT else 1
        claimed = [t.assignee for t in current if t.assignee]
        if len(current) < expected or claimed:
            who = ", ".join(claimed) or "the next step"
            raise Conflict(f"too late to recall: {who} already took up the case")
        task = _waiting_task(workflow, route)
        self._decide(step, route, task, route.last_sender_step, actor, "recall")
        self._move(step, route, route.last_sender_step, sender=None, only_user=actor)
        return step.finish(workflow)

    # -- who may act -------------------------------------------------------------------------------

    def _authorize(self, step, human, route, candidate: bool, actor: str, decision: str):
        """(mode, on behalf of, position acted up to): "normal", "daiketsu" (代決) or "hikiage" (引上げ)."""
        if human.assignee and human.assignee != actor:
            # A claimed task stays its holder's, unless they are away and the actor decides for them.
            away = people.absent(step.session, [human.assignee], step.now)
            if human.kind == "approve" and away.get(human.assignee) == actor:
                return "daiketsu", human.assignee, None
            raise PermissionRefused(f"task {human.id} is claimed by {human.assignee}, not {actor}")
        if candidate or human.assignee == actor:
            return "normal", None, None
        refused = PermissionRefused(f"{actor} is not a candidate of task {human.id}, nor the substitute "
                                    "(代決者) of its absent holders, nor a higher approver of this route "
                                    "acting ahead of them (引上げ)")
        if human.kind != "approve":
            raise refused
        targets = [*human.candidate_groups, *(f"user:{u}" for u in human.candidate_users)]
        holders = people.holders(step.session, targets)
        away = people.absent(step.session, holders, step.now)
        if not holders or len(away) < len(holders):
            raise refused
        for holder, substitute in away.items():
            if substitute == actor:
                return "daiketsu", holder, None
        if decision in ("approve", "reject"):
            for later in range(route.position + 1, len(route.plan)):
                plan_step = route.plan[later]
                if plan_step["kind"] not in SINGLE:
                    break  # a consultation (合議) is never skipped
                if actor in people.holders(step.session, plan_step["targets"]):
                    return "hikiage", None, later
        raise refused

    def _absent_holders(self, step, targets: list[str]) -> list[str]:
        return list(people.absent(step.session, people.holders(step.session, targets), step.now))

    # -- moving the route ---------------------------------------------------------------------------

    def _return_target(self, route, position: int, to) -> int:
        if to is None:
            return position - 1
        if to == "drafter":
            return 0
        if isinstance(to, bool) or not isinstance(to, int) or not 0 <= to < position:
            steps = ", ".join(f"{i} {s['label']}" for i, s in enumerate(route.plan[:position]))
            raise BadInput(f"data.to must be an earlier step of the route ({steps}) or \"drafter\"")
        return to

    def _move(self, step, route, position: int, *, sender: str | None, sender_step: int | None = None,
              only_user: str | None = None, due_at=None) -> None:
        self._close_blocking(step, route, "cancelled")
        step.connection.execute(update(ROUTES).where(ROUTES.c.id == route.id).values(
            position=position, last_sender=sender, last_sender_step=sender_step if sender else None))
        route.position, route.last_sender = position, sender
        route.last_sender_step = sender_step if sender else None
        self._open_step(step, route, position, only_user=only_user, due_at=due_at)

    def _finish(self, step, route, task, status: str, actor: str, comment, on_behalf_of, mode: str,
                deadline=None) -> None:
        self._close_blocking(step, route, "cancelled")
        # ``deadline`` is the day (YYYY-MM-DD); ``deadline_at`` the instant it passes, for timers.
        outcome = {"outcome": status, "route_id": route.id, "title": route.title, "decided_by": actor,
                   "on_behalf_of": on_behalf_of, "mode": mode, "comment": comment,
                   "decided_at": step.now.isoformat(timespec="seconds"),
                   "deadline": deadline.isoformat() if deadline else None,
                   "deadline_at": passes_at(deadline).isoformat() if deadline else None}
        step.connection.execute(update(ROUTES).where(ROUTES.c.id == route.id).values(
            status=status, outcome=outcome, finished_at=step.now))
        route.status = status
        step.record("approval_route_finished", actor, details=outcome)
        spec = task.task_spec
        explicit = spec.result_variable and not spec.result_variable.startswith("spiff__")
        with translated_errors():
            spec.apply_result(task, outcome if explicit else {"approval": outcome})
            run_until_waiting(task.workflow)

    # -- tasks -----------------------------------------------------------------------------------

    def _open_step(self, step, route, position: int, only_user: str | None = None, due_at=None) -> None:
        plan_step = route.plan[position]
        name = step_name(plan_step, route.title)
        kind = {DRAFT: "resubmit", CONSULT: "consult"}.get(plan_step["kind"], "approve")
        if only_user:
            self._open_task(step, route, kind, position, name, [], [only_user], due_at=due_at)
            return
        each = [[t] for t in plan_step["targets"]] if kind == "consult" else [plan_step["targets"]]
        for targets in each:
            groups, users = candidates_of(targets)
            label = step_name(plan_step, route.title, targets[0]) if kind == "consult" else name
            self._open_task(step, route, kind, position, label, groups, users, due_at=due_at)

    def _review_after(self, step, route, position: int, user: str) -> None:
        label = route.plan[position]["label"]
        self._open_task(step, route, "review_after", None, f"{route.title} — 後閲（{label}）", [], [user])

    def _open_task(self, step, route, kind: str, position: int | None, name: str, groups: list[str],
                   users: list[str], due_at=None) -> None:
        step.open_task(dict(
            id=str(uuid4()), application_id=step.application.id, element_id=route.element_id, name=name[:300],
            lane=None, form_key=None, candidate_groups=groups, candidate_users=users, assignee=None, due_at=due_at,
            priority=0, status="open", created_at=step.now, completed_at=None, completed_by=None, kind=kind,
            route_id=route.id, route_step=position))

    def _open_tasks(self, step, route) -> list:
        closing = {t.id for t in step.closed}
        found = step.connection.execute(select(TASKS).where(TASKS.c.route_id == route.id,
                                                            TASKS.c.status == "open")).all()
        opened = [rows.TaskRecord(**row._mapping) for row in found]
        return [t for t in opened + step.pending_tasks() if t.route_id == route.id and t.id not in closing]

    def _close_blocking(self, step, route, status: str) -> None:
        for task in self._open_tasks(step, route):
            if task.kind in BLOCKING:
                step.close_task(task, status)

    def _decide(self, step, route, task, position: int, actor: str, decision: str, *, comment=None,
                on_behalf_of=None, to=None, target=None, deadline=None) -> None:
        plan_step = route.plan[position]
        name = f"{route.element_id}/{position}:{plan_step['label']}"
        if target:
            name += f"/{target}"
        content = task.data if task is not None else {}
        record_decision(step.session, self.settings, application_id=step.application.id, step=name[:200],
                        actor=actor, decision=decision, comment=comment, on_behalf_of=on_behalf_of,
                        data=_shown(content), attachments=attachments_in(content), deadline=deadline)
        details = {"route_id": route.id, "position": position, "label": plan_step["label"], "decision": decision}
        if to is not None:
            details["to"] = to
        if deadline is not None:
            details["deadline"] = deadline.isoformat()
        if on_behalf_of:
            details["on_behalf_of"] = on_behalf_of
        step.record("approval_decision", actor, details=details)


def _waiting_task(workflow, route):
    task = workflow.get_task_from_id(UUID(route.task_id))
    if task is None or task.state != TaskState.STARTED:
        raise Conflict(f"the approval route {route.id} no longer has a waiting task; reload the application")
    return task


def _target_of(human) -> str:
    return human.candidate_groups[0] if human.candidate_groups else f"user:{(human.candidate_users or ['?'])[0]}"


def _is_staff(session: Session, actor: str | None) -> bool:
    return bool(actor) and session.scalar(select(User.id).where(User.name == actor)) is not None


def _shown(data: dict) -> dict:
    """The data an approver sees: without the engine's internal (underscore) keys."""
    return {k: v for k, v in data.items() if not str(k).startswith("_")}


def _application_data(workflow) -> dict:
    from engine.views import application_data

    return application_data(workflow)


def attachments_in(data, found: list | None = None) -> list[dict]:
    """Every stored file the data refers to ({"name", "sha256", …}), in the order met."""
    found = [] if found is None else found
    if isinstance(data, dict):
        if isinstance(data.get("name"), str) and isinstance(data.get("sha256"), str):
            found.append({"name": data["name"], "sha256": data["sha256"]})
        else:
            for value in data.values():
                attachments_in(value, found)
    elif isinstance(data, list):
        for value in data:
            attachments_in(value, found)
    return found


def routes_of(session: Session, application_id: int) -> list[ApprovalRoute]:
    return list(session.scalars(select(ApprovalRoute).where(ApprovalRoute.application_id == application_id)
                                .order_by(ApprovalRoute.id)))


__all__ = ["RouteService", "attachments_in", "routes_of"]
