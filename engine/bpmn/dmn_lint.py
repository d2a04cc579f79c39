"""Deploy-time checks of DMN decision tables.

SpiffWorkflow evaluates decision cells with the script engine (Python, not FEEL) and
implements only the UNIQUE, FIRST and COLLECT hit policies; anything else would silently
behave like FIRST, so it is refused here, as is any cell that would not compile.
"""

from __future__ import annotations

from lxml import etree

from engine.errors import Problem
from engine.scripting import ForbiddenCode, check_expression

SUPPORTED_HIT_POLICIES = {"UNIQUE", "FIRST", "COLLECT"}


def _local(element: etree._Element) -> str:
    return etree.QName(element).localname


def _children(element: etree._Element, name: str) -> list[etree._Element]:
    return [child for child in element if isinstance(child.tag, str) and _local(child) == name]


def decision_ids(root: etree._Element) -> set[str]:
    """The decision a DMN file provides (SpiffWorkflow reads one decision per file)."""
    first = next((d for d in root.iter() if isinstance(d.tag, str) and _local(d) == "decision"), None)
    return {first.get("id")} if first is not None and first.get("id") else set()


def lint_dmn(root: etree._Element, filename: str) -> list[Problem]:
    problems: list[Problem] = []

    def problem(element: etree._Element, element_id: str | None, message: str, fix: str) -> None:
        problems.append(Problem(filename, element.sourceline, element_id, message, fix))

    decisions = [d for d in root.iter() if isinstance(d.tag, str) and _local(d) == "decision"]
    for extra in decisions[1:]:
        problem(extra, extra.get("id"), "the file holds more than one decision; only the first would be used",
                "put each decision in a .dmn file of its own")
    for decision in decisions[:1]:
        decision_id = decision.get("id")
        tables = _children(decision, "decisionTable")
        if not tables:
            problem(decision, decision_id, "the decision has no decision table",
                    "model the decision as a decision table; literal expressions are not supported")
            continue
        table = tables[0]
        policy = (table.get("hitPolicy") or "UNIQUE").upper()
        if policy not in SUPPORTED_HIT_POLICIES:
            problem(table, decision_id, f"the hit policy {policy} is not supported",
                    "use UNIQUE, FIRST or COLLECT")
        if table.get("aggregation"):
            problem(table, decision_id, f"COLLECT with aggregation {table.get('aggregation')} is not supported",
                    "remove the aggregation and sum or count the collected list in a script task")
        inputs = []
        for column in _children(table, "input"):
            expression = next(iter(_children(column, "inputExpression")), None)
            text = next(iter(_children(expression, "text")), None) if expression is not None else None
            source = (text.text or "").strip() if text is not None else ""
            inputs.append(source)
            if not source:
                problem(column, decision_id, "an input column has no expression",
                        "enter the variable or expression this column tests")
            else:
                _check(problems, filename, text, decision_id, source, "input expression")
        for rule in _children(table, "rule"):
            for index, entry in enumerate(_children(rule, "inputEntry")):
                text = next(iter(_children(entry, "text")), None)
                cell = (text.text or "").strip() if text is not None else ""
                if cell in ("", "-"):
                    continue
                subject = inputs[index] if index < len(inputs) and inputs[index] else "value"
                _check_cell(problems, filename, text, rule.get("id") or decision_id, subject, cell)
            for entry in _children(rule, "outputEntry"):
                text = next(iter(_children(entry, "text")), None)
                cell = (text.text or "").strip() if text is not None else ""
                if cell:
                    _check(problems, filename, text, rule.get("id") or decision_id, cell, "output entry")
    return problems


def _check(problems: list[Problem], filename: str, element, element_id, source: str, what: str) -> bool:
    try:
        check_expression(source)
    except ForbiddenCode as exc:
        problems.append(Problem(filename, element.sourceline, element_id,
                                f"the {what} {source!r} cannot be evaluated: {exc}",
                                "write it as a Python expression (FEEL is not supported)"))
        return False
    return True


def _check_cell(problems: list[Problem], filename: str, element, element_id, subject: str, cell: str) -> None:
    # The engine compares the input with the cell as "(input) == (cell)" when the cell is a
    # value, or appends the cell ("input > 10") when it starts with an operator; "?" stands
    # for the input value. Accept the cell if either form compiles, as the engine does.
    candidates = [cell.replace("?", "value")] if "?" in cell else [f"({subject}) == ({cell})", f"value {cell}"]
    for candidate in candidates:
        try:
            check_expression(candidate)
            return
        except ForbiddenCode:
            continue
    problems.append(Problem(filename, element.sourceline, element_id,
                            f"the rule cell {cell!r} cannot be evaluated",
                            "write a value ('corporate', 100) or a comparison (> 100000, <= 3); FEEL ranges "
                            "like [1..10] are not supported — use two columns or '1 <= ? <= 10'"))
