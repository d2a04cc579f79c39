"""Bring Camunda 7 diagrams into the one dialect the engine runs.

Camunda Modeler writes JUEL (``${approved}``), unquoted ISO-8601 timers (``PT5M``) and
``camunda:`` attributes for assignment. SpiffWorkflow evaluates every expression as Python
and reads only ``spiffworkflow:`` extensions, so the uploaded tree is rewritten in place:

* JUEL conditions, timer expressions and assignment expressions become restricted Python;
* literal ISO-8601 timer values become Python string literals;
* ``camunda:candidateGroups``, ``candidateUsers``, ``assignee``, ``dueDate``, ``priority``,
  ``formKey`` and ``camunda:properties`` become ``spiffworkflow:properties``;
* ``camunda:decisionRef`` becomes ``spiffworkflow:calledDecisionId``.

Rewritten elements keep their source line, so later problems still point at the upload.
Assignment property values that start with ``=`` are expressions evaluated against the task
data when the task is created (``=reviewers``); others are literal (comma separated lists).
"""

from __future__ import annotations

import re

from lxml import etree

from engine.bpmn.juel import JuelError, is_juel, translate_juel
from engine.bpmn.xml import BPMN_NS, CAMUNDA_NS, SPIFF_NS
from engine.errors import Problem

#: Marks an element whose JUEL could not be translated (already reported; not linted again).
UNTRANSLATED = "{urn:madoguchi:dialect}untranslated"
NS = {"bpmn": BPMN_NS, "camunda": CAMUNDA_NS, "spiffworkflow": SPIFF_NS}

#: camunda attribute -> property name used by the task projection.
ASSIGNMENT_ATTRIBUTES = ("candidateGroups", "candidateUsers", "assignee", "dueDate", "priority", "formKey")

ISO_DURATION = re.compile(r"^P(?!$)(\d+(\.\d+)?Y)?(\d+(\.\d+)?M)?(\d+(\.\d+)?W)?(\d+(\.\d+)?D)?"
                           r"(T(?=\d)(\d+(\.\d+)?H)?(\d+(\.\d+)?M)?(\d+(\.\d+)?S)?)?$", re.IGNORECASE)
ISO_CYCLE = re.compile(r"^R\d*/", re.IGNORECASE)
ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$")


def camunda(name: str) -> str:
    return f"{{{CAMUNDA_NS}}}{name}"


def spiff(name: str) -> str:
    return f"{{{SPIFF_NS}}}{name}"


def bpmn(name: str) -> str:
    return f"{{{BPMN_NS}}}{name}"


def looks_like_iso_timer(text: str) -> bool:
    """A bare ISO-8601 duration, repeating interval or date-time, as Camunda Modeler writes them."""
    value = text.strip()
    return bool(ISO_DURATION.match(value) or ISO_CYCLE.match(value) or ISO_DATE.match(value))


class DialectNormaliser:
    """Rewrites one BPMN tree in place; collects every problem it finds on the way."""

    def __init__(self, filename: str):
        self.filename = filename
        self.problems: list[Problem] = []

    def normalise(self, root: etree._Element) -> list[Problem]:
        self._make_processes_executable(root)
        for flow in root.iter(bpmn("sequenceFlow")):
            condition = flow.find(bpmn("conditionExpression"))
            if condition is not None and (condition.text or "").strip():
                condition.text = self._python_expression(condition.text, flow, "condition")
        for timer in root.iter(bpmn("timerEventDefinition")):
            for child in timer:
                if etree.QName(child).localname in ("timeDuration", "timeDate", "timeCycle"):
                    child.text = self._timer_expression(child.text or "", child)
        for element in root.iter():
            if not isinstance(element.tag, str) or etree.QName(element).namespace != BPMN_NS:
                continue
            self._move_camunda_properties(element)
            if etree.QName(element).localname == "businessRuleTask":
                self._move_decision_ref(element)
            if etree.QName(element).localname == "serviceTask":
                self._external_task(element)
            if etree.QName(element).localname == "multiInstanceLoopCharacteristics":
                self._standard_multi_instance(element)
        return self.problems

    # -- pieces ----------------------------------------------------------------------------

    def _problem(self, element: etree._Element, message: str, fix: str) -> None:
        owner = element
        while owner is not None and owner.get("id") is None:
            owner = owner.getparent()
        self.problems.append(Problem(
            self.filename, element.sourceline, owner.get("id") if owner is not None else None, message, fix,
        ))

    def _python_expression(self, text: str, element: etree._Element, what: str) -> str:
        if not is_juel(text):
            return text.strip()
        try:
            return translate_juel(text)
        except JuelError as exc:
            where = f" at column {exc.column}" if exc.column else ""
            element.set(UNTRANSLATED, "true")
            self._problem(element, f"the {what} {text.strip()!r} cannot be used{where}: {exc.message}",
                          "write it in the supported JUEL subset (see docs/bpmn-support.md) or as a "
                          "Python expression")
            return text

    def _timer_expression(self, text: str, element: etree._Element) -> str:
        value = text.strip()
        if not value:
            self._problem(element, "the timer has no value",
                          "enter an ISO-8601 duration (PT5M), date-time or cycle (R3/PT1H)")
            return text
        if is_juel(value):
            return self._python_expression(value, element, "timer expression")
        if looks_like_iso_timer(value):
            return repr(value)
        return value

    def _make_processes_executable(self, root: etree._Element) -> None:
        # bpmn-js writes isExecutable="false" by default; a process that has a start event is
        # meant to run. Empty "black box" pools (other participants) stay as they are.
        for process in root.iter(bpmn("process")):
            if process.get("isExecutable") != "true" and process.find(bpmn("startEvent")) is not None:
                process.set("isExecutable", "true")

    def _extension_elements(self, element: etree._Element) -> etree._Element:
        ext = element.find(bpmn("extensionElements"))
        if ext is None:
            ext = etree.Element(bpmn("extensionElements"))
            documentation = element.find(bpmn("documentation"))
            element.insert(1 if documentation is not None else 0, ext)
        return ext

    def _set_property(self, element: etree._Element, name: str, value: str) -> None:
        ext = self._extension_elements(element)
        props = ext.find(spiff("properties"))
        if props is None:
            props = etree.SubElement(ext, spiff("properties"))
        for existing in props.findall(spiff("property")):
            if existing.get("name") == name:
                return  # an explicit spiffworkflow property wins
        prop = etree.SubElement(props, spiff("property"))
        prop.set("name", name)
        prop.set("value", value)

    def _move_camunda_properties(self, element: etree._Element) -> None:
        for name in ASSIGNMENT_ATTRIBUTES:
            raw = element.get(camunda(name))
            if raw is None:
                continue
            value = raw.strip()
            if is_juel(value):
                value = "=" + self._python_expression(value, element, f"camunda:{name} expression")
            self._set_property(element, name, value)
        ext = element.find(bpmn("extensionElements"))
        if ext is None:
            return
        for props in ext.findall(camunda("properties")):
            for prop in props.findall(camunda("property")):
                if prop.get("name"):
                    value = prop.get("value", "").strip()
                    if is_juel(value):
                        value = "=" + self._python_expression(value, prop, f"property {prop.get('name')}")
                    self._set_property(element, prop.get("name"), value)

    def _external_task(self, element: etree._Element) -> None:
        """camunda:type="external" + topic → a service-task operator named by the topic.

        Camunda's external-task workers fetch all variables, so the operation receives the
        whole task data. ``camunda:failedJobRetryTimeCycle`` (R5/PT10M) sets the retries.
        """
        ext = element.find(bpmn("extensionElements"))
        cycle = ext.find(camunda("failedJobRetryTimeCycle")) if ext is not None else None
        if cycle is not None and (cycle.text or "").strip():
            text = cycle.text.strip()
            parts = text.split("/")
            if len(parts) == 2 and parts[0].upper().startswith("R") and parts[0][1:].isdigit() \
                    and ISO_DURATION.match(parts[1]):
                self._set_property(element, "retries", parts[0][1:])
                self._set_property(element, "retryBackoff", parts[1])
            else:
                self._problem(cycle, f"the retry cycle {text!r} is not of the form R<count>/<ISO duration>",
                              "write e.g. R5/PT10M")
        if element.get(camunda("type")) != "external":
            return
        topic = (element.get(camunda("topic")) or "").strip()
        ext = self._extension_elements(element)
        if topic and ext.find(spiff("serviceTaskOperator")) is None:
            operator = etree.SubElement(ext, spiff("serviceTaskOperator"))
            operator.set("id", topic)
            self._set_property(element, "passTaskData", "true")

    def _standard_multi_instance(self, element: etree._Element) -> None:
        """camunda:collection/elementVariable → loopDataInputRef/inputDataItem (standard BPMN)."""
        collection = element.get(camunda("collection"))
        if collection is None:
            return
        name = collection.strip()
        if is_juel(name):
            name = self._python_expression(name, element, "multi-instance collection")
        if not name.isidentifier():
            self._problem(element, f"the multi-instance collection {collection!r} is not a variable name",
                          "compute the list into a variable in a script task first and name that variable")
            return
        if element.find(bpmn("loopDataInputRef")) is None:
            ref = etree.SubElement(element, bpmn("loopDataInputRef"))
            ref.text = name
        variable = (element.get(camunda("elementVariable")) or "").strip()
        if variable and element.find(bpmn("inputDataItem")) is None:
            item = etree.SubElement(element, bpmn("inputDataItem"))
            item.set("id", variable)
            item.set("name", variable)

    def _move_decision_ref(self, element: etree._Element) -> None:
        ref = element.get(camunda("decisionRef"))
        if ref is None:
            return
        ext = self._extension_elements(element)
        if ext.find(spiff("calledDecisionId")) is None:
            called = etree.SubElement(ext, spiff("calledDecisionId"))
            called.text = ref.strip()


def normalise_dialect(root: etree._Element, filename: str) -> list[Problem]:
    """Rewrite ``root`` (a BPMN definitions element) in place; return the problems found."""
    return DialectNormaliser(filename).normalise(root)
