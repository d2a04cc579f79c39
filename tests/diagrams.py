"""Writing small test diagrams without the boilerplate: only the process body is written."""

from __future__ import annotations

from pathlib import Path

HEADER = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:camunda="http://camunda.org/schema/1.0/bpmn"
    xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core"
    xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
    id="definitions_{pid}" targetNamespace="http://madoguchi.test">
"""


def definitions(body: str, pid: str = "test") -> str:
    return HEADER.format(pid=pid) + body + "\n</bpmn:definitions>\n"


def process(pid: str, body: str, extra: str = "") -> str:
    """A whole .bpmn document with one executable process ``pid``."""
    return definitions(f'<bpmn:process id="{pid}" isExecutable="true">\n{body}\n</bpmn:process>\n{extra}', pid)


def flow(fid: str, source: str, target: str, condition: str | None = None) -> str:
    if condition is None:
        return f'<bpmn:sequenceFlow id="{fid}" sourceRef="{source}" targetRef="{target}"/>'
    cond = condition.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return (f'<bpmn:sequenceFlow id="{fid}" sourceRef="{source}" targetRef="{target}">'
            f'<bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">{cond}</bpmn:conditionExpression>'
            f'</bpmn:sequenceFlow>')


def chain(*ids: str) -> str:
    """Sequence flows linking the given element ids in order."""
    return "\n".join(flow(f"f_{a}_{b}", a, b) for a, b in zip(ids, ids[1:], strict=False))


def user_task(tid: str, name: str | None = None, groups: str | None = "clerks", extra_attrs: str = "") -> str:
    attrs = f' camunda:candidateGroups="{groups}"' if groups else ""
    return f'<bpmn:userTask id="{tid}" name="{name or tid}"{attrs} {extra_attrs}/>'


def script_task(tid: str, script: str) -> str:
    body = script.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return f'<bpmn:scriptTask id="{tid}" scriptFormat="python"><bpmn:script>{body}</bpmn:script></bpmn:scriptTask>'


def write(tmp_path: Path, name: str, content: str) -> Path:
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    return path
