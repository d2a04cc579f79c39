"""Which processes a set of BPMN files defines and which it calls (for call activities)."""

from __future__ import annotations

from lxml import etree

from engine.bpmn.bundle import SourceFile
from engine.bpmn.dialect import bpmn
from engine.bpmn.xml import parse_untrusted_xml

_MAX = 50 * 1024 * 1024  # sizes were checked already; this only bounds the pre-scan


def _roots(files: list[SourceFile]) -> list[etree._Element]:
    roots = []
    for source in files:
        root, _problems = parse_untrusted_xml(source.content, source.path, _MAX)
        if root is not None:
            roots.append(root)
    return roots


def called_process_ids(files: list[SourceFile]) -> set[str]:
    return {(c.get("calledElement") or "").strip() for r in _roots(files) for c in r.iter(bpmn("callActivity"))
            if (c.get("calledElement") or "").strip()}


def defined_process_ids(files: list[SourceFile]) -> set[str]:
    return {p.get("id") for r in _roots(files) for p in r.iter(bpmn("process")) if p.get("id")}
