"""The plan of an approval route: who drafts, reviews (回議), is consulted (合議) and decides.

A route is data. The diagram's ``approval_route`` service task names its levels — usually
the outputs of a decision table (決裁区分 / 専決 by matter type and amount) evaluated just
before — and this module turns them into an ordered plan:

    0 draft (起案) → review … (回議) → consult (合議, all in parallel) → decide (決裁)

A *target* is a group name (``kakaricho``) or a single person (``user:tanaka``).
"""

from __future__ import annotations

from engine.errors import BadInput

#: The service-task operation that runs an approval route inside the engine.
ROUTE_OPERATION = "approval_route"

DRAFT, REVIEW, CONSULT, DECIDE = "draft", "review", "consult", "decide"
#: Plan steps one person acts on for everyone (any holder may act, 代決 and 引上げ apply).
SINGLE = (REVIEW, DECIDE)

_MAX_TARGETS = 50


def parse_targets(value, field: str) -> list[str]:
    """A list of targets from a list or a comma-separated string; blanks dropped."""
    if value is None:
        return []
    if isinstance(value, str):
        items = value.split(",")
    elif isinstance(value, list | tuple):
        items = value
    else:
        raise BadInput(f"approval route: {field} must be a list of groups or user:NAME, got {type(value).__name__}")
    targets = []
    for item in items:
        if not isinstance(item, str):
            raise BadInput(f"approval route: every entry of {field} must be text (a group or user:NAME)")
        item = item.strip()
        if item.startswith("user:") and not item[5:].strip():
            raise BadInput(f"approval route: {field} has 'user:' without a name")
        if item:
            targets.append(item)
    if len(targets) > _MAX_TARGETS:
        raise BadInput(f"approval route: {field} names {len(targets)} targets; at most {_MAX_TARGETS}")
    return targets


def candidates_of(targets: list[str]) -> tuple[list[str], list[str]]:
    """(candidate groups, candidate users) of a step's targets."""
    groups = [t for t in targets if not t.startswith("user:")]
    users = [t[5:] for t in targets if t.startswith("user:")]
    return groups, users


def build_plan(params: dict, drafter_targets: list[str]) -> list[dict]:
    """The ordered plan from the service task's parameters.

    ``levels``: the review levels up the line, the last one decides (required);
    ``labels``: their names (係長, 課長 …), optional, same length;
    ``consult``: groups consulted (合議) in parallel before the deciding level, optional.
    """
    levels = parse_targets(params.get("levels"), "levels")
    if not levels:
        raise BadInput("approval route: levels is empty — give at least the deciding group "
                       "(e.g. levels = [\"kacho\"], usually from the decision table 決裁区分)")
    labels = params.get("labels") or []
    if not isinstance(labels, list | tuple) or (labels and len(labels) != len(levels)):
        raise BadInput("approval route: labels must be a list with one name per level")
    consult = parse_targets(params.get("consult"), "consult")
    plan = [{"kind": DRAFT, "targets": drafter_targets, "label": "起案"}]
    for index, target in enumerate(levels):
        kind = DECIDE if index == len(levels) - 1 else REVIEW
        if kind == DECIDE and consult:
            plan.append({"kind": CONSULT, "targets": consult, "label": "合議"})
        label = str(labels[index]) if labels else target.removeprefix("user:")
        plan.append({"kind": kind, "targets": [target], "label": label})
    return plan


def step_name(plan_step: dict, title: str, target: str | None = None) -> str:
    """The task name approvers see in their lists (``target``: the group consulted)."""
    words = {DRAFT: "差戻し（再提出）", REVIEW: "回議", CONSULT: "合議", DECIDE: "決裁"}
    who = target.removeprefix("user:") if target else plan_step["label"]
    return f"{title} — {words[plan_step['kind']]}（{who}）"
