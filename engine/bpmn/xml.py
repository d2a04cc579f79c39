"""Reading untrusted XML (BPMN and DMN uploads) safely.

lxml >= 5 is already safe by default, but SpiffWorkflow passes no parser options and does
not pin lxml, so uploads are parsed here with every dangerous feature off, and a DOCTYPE —
which BPMN and DMN never need — is refused outright. Error messages quote lxml's message
about *our* input only; nothing fetched from elsewhere is ever echoed (nothing is fetched).
"""

from __future__ import annotations

from lxml import etree

from engine.errors import Problem

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
CAMUNDA_NS = "http://camunda.org/schema/1.0/bpmn"
SPIFF_NS = "http://spiffworkflow.org/bpmn/schema/1.0/core"
DMN_NAMESPACES = frozenset({
    "http://www.omg.org/spec/DMN/20151101/dmn.xsd",
    "http://www.omg.org/spec/DMN/20180521/MODEL/",
    "https://www.omg.org/spec/DMN/20191111/MODEL/",
    "https://www.omg.org/spec/DMN/20211108/MODEL/",
    "https://www.omg.org/spec/DMN/20230324/MODEL/",
})


def _hardened_parser() -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_comments=True,
        remove_pis=True,
    )


def parse_untrusted_xml(data: bytes, filename: str, max_bytes: int) -> tuple[etree._Element | None, list[Problem]]:
    """Parse ``data`` or explain why not. Returns (root, problems); root is None on failure."""
    if len(data) > max_bytes:
        return None, [Problem(
            filename, None, None,
            f"the file is {len(data):,} bytes, more than the limit of {max_bytes:,} bytes",
            "split the procedure into smaller diagrams, or raise MADOGUCHI_MAX_UPLOAD_BYTES",
        )]
    if b"<!DOCTYPE" in data[:4096].upper() or b"<!ENTITY" in data.upper():
        return None, [Problem(
            filename, _line_of(data, b"<!"), None,
            "the file contains a DOCTYPE or ENTITY declaration, which is not allowed in uploads",
            "remove the DOCTYPE/ENTITY declarations; BPMN and DMN files never need them",
        )]
    try:
        root = etree.fromstring(data, parser=_hardened_parser())
    except etree.XMLSyntaxError as exc:
        line = exc.lineno if exc.lineno else None
        return None, [Problem(
            filename, line, None,
            f"the file is not well-formed XML ({exc.msg})",
            "fix the XML at that line, or export the diagram again from your modeler",
        )]
    if root.getroottree().docinfo.doctype:
        return None, [Problem(
            filename, 1, None, "the file has a DOCTYPE, which is not allowed in uploads",
            "remove the DOCTYPE declaration",
        )]
    return root, []


def _line_of(data: bytes, needle: bytes) -> int | None:
    index = data.upper().find(needle)
    return data.count(b"\n", 0, index) + 1 if index >= 0 else None


def is_bpmn(root: etree._Element) -> bool:
    return etree.QName(root).namespace == BPMN_NS and etree.QName(root).localname == "definitions"


def is_dmn(root: etree._Element) -> bool:
    return etree.QName(root).namespace in DMN_NAMESPACES and etree.QName(root).localname == "definitions"
