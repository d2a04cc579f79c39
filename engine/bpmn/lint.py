"""Deploy-time refusals: everything that would fail or misbehave at run time is found here.

Every check adds a :class:`Problem` and carries on, so an admin sees the whole list at once.
Runs on the tree after :mod:`engine.bpmn.dialect` has rewritten it (expressions are Python
by then) but uses the original source lines.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field

from lxml import etree

from engine.bpmn.dialect import (
    ISO_DATE,
    ISO_DURATION,
    UNTRANSLATED,
    bpmn,
    camunda,
    looks_like_iso_timer,
    spiff,
)
from engine.bpmn.xml import BPMN_NS, CAMUNDA_NS, SPIFF_NS
from engine.errors import Problem
from engine.forms import find_form
from engine.scripting import ForbiddenCode, check_expression, check_script
from engine.statuses import STATUSES

PYTHON_SCRIPT_FORMATS = {"", "python", "py", "python3", "text/x-python", "text/python"}

#: camunda attributes that name Java code or JUEL to run; we can run neither.
JAVA_ATTRIBUTES = {
    "class": "Java classes cannot run here",
    "expression": "Camunda expressions calling Java beans cannot run here",
    "delegateExpression": "Java delegates cannot run here",
}
#: camunda elements whose meaning would silently be lost.
UNSUPPORTED_CAMUNDA_ELEMENTS = {
    "executionListener": "execution listeners run Java or scripts outside the diagram",
    "taskListener": "task listeners run Java or scripts outside the diagram",
    "connector": "Camunda connectors are not available",
    "inputOutput": "input/output mappings are not supported",
    "script": "Camunda listener scripts are not supported",
    "in": "call-activity variable mappings are not supported",
    "out": "call-activity variable mappings are not supported",
}
ACTIVITIES = {"task", "userTask", "manualTask", "scriptTask", "serviceTask", "sendTask", "receiveTask",
              "businessRuleTask", "callActivity", "subProcess", "transaction"}
DIVERGING_GATEWAYS_NEEDING_CONDITIONS = {"exclusiveGateway", "inclusiveGateway"}
EXPRESSION_PROPERTIES = {"candidateGroups", "candidateUsers", "assignee", "dueDate", "priority"}


@dataclass
class LintContext:
    """What the rest of the deployment provides, for cross-references."""

    process_ids: set[str] = field(default_factory=set)
    decision_ids: set[str] = field(default_factory=set)
    operations: set[str] = field(default_factory=set)
    #: The bundle's files, so formKey references can be checked (None: not checked).
    files: list | None = None


class BpmnLinter:
    def __init__(self, filename: str, context: LintContext):
        self.filename = filename
        self.context = context
        self.problems: list[Problem] = []

    def problem(self, element: etree._Element, message: str, fix: str) -> None:
        owner = element
        while owner is not None and owner.get("id") is None:
            owner = owner.getparent()
        element_id = owner.get("id") if owner is not None else None
        self.problems.append(Problem(self.filename, element.sourceline, element_id, message, fix))

    def lint(self, root: etree._Element) -> list[Problem]:
        for element in root.iter():
            if not isinstance(element.tag, str):
                continue
            qname = etree.QName(element)
            if qname.namespace == CAMUNDA_NS:
                self._camunda_element(element, qname.localname)
                continue
            for attribute in element.attrib:
                attr = etree.QName(attribute)
                if attr.namespace == CAMUNDA_NS and attr.localname in JAVA_ATTRIBUTES:
                    self.problem(element, f"camunda:{attr.localname} is set — "
                                 f"{JAVA_ATTRIBUTES[attr.localname]}",
                                 "replace it with a script task (Python) or a service task whose operation a "
                                 "plugin provides")
            if qname.namespace == SPIFF_NS and qname.localname == "property":
                self._task_property(element)
                continue
            if qname.namespace == SPIFF_NS and qname.localname == "parameter" and element.get("value"):
                self._compile(element, element.get("value"), script=False, what=f"parameter {element.get('id')}")
                continue
            if qname.namespace == SPIFF_NS and qname.localname == "messagePayload" and (element.text or "").strip():
                self._compile(element, element.text, script=False, what="message payload")
                continue
            if qname.namespace == SPIFF_NS and qname.localname in ("preScript", "postScript"):
                if (element.text or "").strip():
                    self._compile(element, element.text, script=True, what=qname.localname)
                continue
            if qname.namespace != BPMN_NS:
                continue
            check = getattr(self, f"_check_{qname.localname}", None)
            if check is not None:
                check(element)
            if qname.localname in ACTIVITIES:
                self._activity_outgoing(element)
            if qname.localname in DIVERGING_GATEWAYS_NEEDING_CONDITIONS:
                self._gateway_conditions(element)
        return self.problems

    # -- element checks --------------------------------------------------------------------

    def _camunda_element(self, element: etree._Element, name: str) -> None:
        if name in UNSUPPORTED_CAMUNDA_ELEMENTS:
            self.problem(element, f"camunda:{name} is used — {UNSUPPORTED_CAMUNDA_ELEMENTS[name]}",
                         "remove it and model the behaviour with script or service tasks")

    def _task_property(self, element: etree._Element) -> None:
        """Assignment properties are checked now so they cannot fail when a task opens."""
        name, value = element.get("name"), (element.get("value") or "").strip()
        if name in EXPRESSION_PROPERTIES and value.startswith("="):
            self._compile(element, value[1:], script=False, what=f"{name} expression")
        elif name == "dueDate" and value and not (ISO_DURATION.match(value) or ISO_DATE.match(value)):
            self.problem(element, f"the due date {value!r} is neither an ISO-8601 duration nor a date-time",
                         "use e.g. P5D, PT4H or 2027-04-01T17:00:00+09:00, or =expression")
        elif name == "retries" and not value.isdigit():
            self.problem(element, f"the retries {value!r} is not a whole number", "use e.g. 3")
        elif name == "retryBackoff" and not (ISO_DURATION.match(value) or _is_number(value)):
            self.problem(element, f"the retry backoff {value!r} is neither an ISO-8601 duration nor seconds",
                         "use e.g. PT30S or 30")
        elif name == "priority" and value and not value.lstrip("-").isdigit():
            self.problem(element, f"the priority {value!r} is not a whole number", "use e.g. 50, or =expression")
        elif name == "status" and value not in STATUSES:
            self.problem(element, f"the status {value!r} is not one of the public statuses",
                         f"use one of: {', '.join(STATUSES)}")
        elif name == "formKey" and value and ":" not in value and self.context.files is not None \
                and find_form(self.context.files, value) is None:
            self.problem(element, f"the form {value!r} is not in the bundle",
                         "add forms/<name>.json to the bundle, or correct the formKey")

    def _check_scriptTask(self, element: etree._Element) -> None:
        script_format = (element.get("scriptFormat") or "").strip().lower()
        if script_format not in PYTHON_SCRIPT_FORMATS:
            self.problem(element, f"the script language is {element.get('scriptFormat')!r}; only Python runs here",
                         "rewrite the script in Python and set scriptFormat=\"python\"")
            return
        if element.get(camunda("resultVariable")):
            self.problem(element, "camunda:resultVariable on a script task is not supported",
                         "assign the result to a variable inside the script instead")
        if element.get(camunda("resource")):
            self.problem(element, "the script is loaded from an external resource",
                         "put the script text inside the script task")
            return
        script = element.find(bpmn("script"))
        if script is None or not (script.text or "").strip():
            self.problem(element, "the script task has no script", "write the Python script in the task")
            return
        self._compile(script, script.text, script=True, what="script")

    def _check_sequenceFlow(self, element: etree._Element) -> None:
        condition = element.find(bpmn("conditionExpression"))
        if condition is None or not (condition.text or "").strip():
            return
        language = (condition.get("language") or "").strip().lower()
        if language and language not in PYTHON_SCRIPT_FORMATS and language != "juel":
            self.problem(condition, f"the condition language is {condition.get('language')!r}",
                         "write the condition as a Python or JUEL expression and remove the language attribute")
            return
        self._compile(condition, condition.text, script=False, what="condition")

    def _check_timerEventDefinition(self, element: etree._Element) -> None:
        values = [c for c in element if etree.QName(c).localname in ("timeDuration", "timeDate", "timeCycle")]
        if not values:
            self.problem(element, "the timer has no duration, date or cycle",
                         "set a timeDuration (PT5M), timeDate or timeCycle (R3/PT1H)")
        for value in values:
            text = (value.text or "").strip()
            literal = _string_literal(text)
            if literal is not None:
                if not looks_like_iso_timer(literal):
                    self.problem(value, f"the timer value {literal!r} is not an ISO-8601 duration, date or cycle",
                                 "use e.g. PT3S, P10D, 2027-04-01T09:00:00+09:00 or R3/PT1H")
                continue
            if text:
                self._compile(value, text, script=False, what="timer expression")

    def _check_callActivity(self, element: etree._Element) -> None:
        called = (element.get("calledElement") or "").strip()
        if not called:
            self.problem(element, "the call activity does not name the process it calls",
                         "set calledElement to the id of a process in this bundle or already deployed")
        elif called not in self.context.process_ids:
            self.problem(element, f"the called process {called!r} is not in this bundle and not deployed",
                         "deploy that process first or add its .bpmn file to the bundle")
        if element.get(camunda("calledElementBinding")) not in (None, "latest"):
            self.problem(element, "camunda:calledElementBinding other than 'latest' is not supported",
                         "remove the binding; the called process is pinned at deploy time")

    def _check_businessRuleTask(self, element: etree._Element) -> None:
        called = element.find(f"{bpmn('extensionElements')}/{spiff('calledDecisionId')}")
        ref = (called.text or "").strip() if called is not None else ""
        if not ref:
            self.problem(element, "the business rule task does not name a decision",
                         "set camunda:decisionRef or spiffworkflow:calledDecisionId to a decision id")
        elif ref not in self.context.decision_ids:
            self.problem(element, f"the decision {ref!r} is not in any .dmn file of the bundle",
                         "add the .dmn file that defines it to the bundle")
        if element.get(camunda("resultVariable")) or element.get(camunda("mapDecisionResult")):
            self.problem(element, "camunda:resultVariable / mapDecisionResult are not supported",
                         "remove them; the decision's outputs are written to the task data under their names")

    def _check_serviceTask(self, element: etree._Element) -> None:
        operator = element.find(f"{bpmn('extensionElements')}/{spiff('serviceTaskOperator')}")
        if element.get(camunda("type")) == "external":
            name = (element.get(camunda("topic")) or "").strip()
        else:
            name = (operator.get("id") or "").strip() if operator is not None else ""
        if not name:
            self.problem(element, "the service task does not name an operation",
                         "set camunda:type=\"external\" with camunda:topic, or a spiffworkflow:serviceTaskOperator")
        elif name not in self.context.operations:
            self.problem(element, f"no installed plugin provides the operation {name!r}",
                         "install the plugin that provides it, or correct the operation name")
        elif name == "issue_document" and operator is not None:
            self._check_document_template(element, operator)

    def _check_document_template(self, element: etree._Element, operator: etree._Element) -> None:
        """A sealed document needs its template in the bundle: say so now, not when the first
        application reaches the task."""
        params = {p.get("id"): (p.get("value") or "").strip()
                  for p in operator.iter(spiff("parameter"))}
        literal = re.fullmatch(r"""(["'])([^"'\\]+)\1""", params.get("template", ""))
        if "template" not in params:
            self.problem(element, "issue_document needs the parameter template",
                         "add a parameter template naming a file of the bundle's documents/ folder, "
                         "e.g. \"certificate\" for documents/certificate.toml")
        elif literal and self.context.files is not None:
            name = literal.group(2)
            wanted = {f"documents/{name}.toml", f"documents/{name}"}
            if not any(getattr(f, "path", None) in wanted for f in self.context.files):
                self.problem(element, f"the document template {name!r} is not in the bundle",
                             f"add documents/{name}.toml to the bundle (see docs/documents.md)")

    def _check_subProcess(self, element: etree._Element) -> None:
        if element.get("triggeredByEvent") != "true":
            return
        for start in element.findall(bpmn("startEvent")):
            if start.get("isInterrupting", "true") != "false":
                self.problem(start, "interrupting event subprocesses are not supported (the main flow would "
                             "not be interrupted)",
                             "use an interrupting boundary event, or make this start event non-interrupting")

    def _check_loopCardinality(self, element: etree._Element) -> None:
        if (element.text or "").strip():
            self._compile(element, element.text, script=False, what="loop cardinality")

    _check_completionCondition = _check_loopCardinality

    def _check_complexGateway(self, element: etree._Element) -> None:
        self.problem(element, "complex gateways are not supported",
                     "use exclusive, inclusive or parallel gateways")

    # -- shared ---------------------------------------------------------------------------

    def _outgoing(self, element: etree._Element) -> list[etree._Element]:
        process = element.getparent()
        element_id = element.get("id")
        return [flow for flow in process.findall(bpmn("sequenceFlow")) if flow.get("sourceRef") == element_id]

    def _activity_outgoing(self, element: etree._Element) -> None:
        outgoing = self._outgoing(element)
        if len(outgoing) > 1:
            self.problem(element, f"the activity has {len(outgoing)} outgoing flows",
                         "add a gateway after it: parallel to run all paths, exclusive to choose one")

    def _gateway_conditions(self, element: etree._Element) -> None:
        outgoing = self._outgoing(element)
        if len(outgoing) < 2:
            return
        default = element.get("default")
        for flow in outgoing:
            condition = flow.find(bpmn("conditionExpression"))
            has_condition = condition is not None and (condition.text or "").strip()
            if not has_condition and flow.get("id") != default:
                self.problem(flow, f"the flow leaves the diverging gateway {element.get('id')!r} without a "
                             "condition, and it is not the default flow",
                             "give the flow a condition, or make it the gateway's default flow")

    def _compile(self, element: etree._Element, source: str, *, script: bool, what: str) -> None:
        if element.get(UNTRANSLATED) or (element.getparent() is not None and element.getparent().get(UNTRANSLATED)):
            return
        try:
            (check_script if script else check_expression)(source if script else source.strip())
        except ForbiddenCode as exc:
            line = element.sourceline
            if script and exc.lineno and line:
                line = line + exc.lineno - 1
            owner = element
            while owner is not None and owner.get("id") is None:
                owner = owner.getparent()
            self.problems.append(Problem(
                self.filename, line, owner.get("id") if owner is not None else None,
                f"the {what} is refused: {getattr(exc, 'message', exc)}",
                "change the code; scripts may only compute on task data (see docs/scripting.md)",
            ))


def _is_number(text: str) -> bool:
    try:
        return float(text) >= 0
    except ValueError:
        return False


def _string_literal(text: str) -> str | None:
    """The string if ``text`` is exactly one Python string literal, else None."""
    try:
        tree = ast.parse(text, mode="eval")
    except SyntaxError:
        return None
    body = tree.body
    return body.value if isinstance(body, ast.Constant) and isinstance(body.value, str) else None


def lint_bpmn(root: etree._Element, filename: str, context: LintContext) -> list[Problem]:
    return BpmnLinter(filename, context).lint(root)
