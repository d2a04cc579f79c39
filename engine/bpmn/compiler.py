"""From source files to runnable SpiffWorkflow specs — or the full list of problems.

The same function runs at deploy time (to refuse what cannot run) and when a definition
version is first used in a process (to rebuild its specs from the stored files), so what
was accepted is exactly what runs.
"""

from __future__ import annotations

from dataclasses import dataclass

from lxml import etree
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.bpmn.specs.mixins.subworkflow_task import SubWorkflowTask
from SpiffWorkflow.spiff.parser.process import VALIDATOR

from engine.bpmn.bundle import SourceFile
from engine.bpmn.dialect import bpmn, normalise_dialect
from engine.bpmn.dmn_lint import decision_ids, lint_dmn
from engine.bpmn.lint import LintContext, lint_bpmn
from engine.bpmn.xml import is_bpmn, is_dmn, parse_untrusted_xml
from engine.errors import Problem
from engine.runtime.service import MadoguchiBpmnParser


@dataclass
class CompiledProcess:
    """The runnable spec of a definition version."""

    process_id: str
    spec: object
    subprocess_specs: dict
    process_ids: list[str]


@dataclass
class _Parsed:
    source: SourceFile
    root: etree._Element


def compile_sources(files: list[SourceFile], *, main_process: str | None = None,
                    operations: set[str] | None = None, max_bytes: int = 5 * 1024 * 1024,
                    known_process_ids: set[str] | None = None,
                    own_process_ids: set[str] | None = None) -> tuple[CompiledProcess | None, list[Problem]]:
    """Parse, check and build specs. Returns (compiled, []) or (None, problems).

    ``own_process_ids``: the processes of the bundle itself (not of pinned dependencies);
    only these may be the main process.
    """
    problems: list[Problem] = []
    bpmn_trees: list[_Parsed] = []
    dmn_trees: list[_Parsed] = []
    for source in files:
        if source.kind not in ("bpmn", "dmn"):
            continue
        root, found = parse_untrusted_xml(source.content, source.path, max_bytes)
        problems.extend(found)
        if root is None:
            continue
        if source.kind == "bpmn" and not is_bpmn(root):
            problems.append(Problem(source.path, root.sourceline, None, "the file is not a BPMN 2.0 diagram",
                                    "export the diagram as BPMN 2.0 XML"))
        elif source.kind == "dmn" and not is_dmn(root):
            problems.append(Problem(source.path, root.sourceline, None, "the file is not a DMN decision model",
                                    "export the decision as DMN 1.1–1.5 XML"))
        else:
            (bpmn_trees if source.kind == "bpmn" else dmn_trees).append(_Parsed(source, root))

    for parsed in bpmn_trees:
        problems.extend(_schema_problems(parsed))
        problems.extend(normalise_dialect(parsed.root, parsed.source.path))
    decisions: set[str] = set()
    for parsed in dmn_trees:
        decisions |= decision_ids(parsed.root)
        problems.extend(lint_dmn(parsed.root, parsed.source.path))
    process_ids = {p.get("id") for t in bpmn_trees for p in t.root.iter(bpmn("process"))
                   if p.get("isExecutable") == "true"}
    context = LintContext(process_ids=process_ids | (known_process_ids or set()), decision_ids=decisions,
                          operations=operations or set(), files=files)
    for parsed in bpmn_trees:
        problems.extend(lint_bpmn(parsed.root, parsed.source.path, context))
    if problems:
        return None, problems

    parser = MadoguchiBpmnParser(validator=None)
    try:
        for parsed in dmn_trees:
            parser.add_dmn_xml(parsed.root, filename=parsed.source.path)
        for parsed in bpmn_trees:
            parser.add_bpmn_xml(etree.ElementTree(parsed.root), filename=parsed.source.path)
    except ValidationException as exc:
        return None, [_from_validation(exc, bpmn_trees + dmn_trees)]

    try:
        main, problem = _main_process(parser, bpmn_trees, main_process, own_process_ids)
        if problem:
            return None, [problem]
        spec = parser.get_spec(main)
        subprocess_specs = parser.get_subprocess_specs(main)
    except ValidationException as exc:
        return None, [_from_validation(exc, bpmn_trees + dmn_trees)]
    except RecursionError:
        return None, [Problem(bpmn_trees[0].source.path, None, main, "the process is too long to parse",
                              "split it into sub-processes or call activities")]
    return CompiledProcess(main, spec, subprocess_specs, sorted(process_ids)), []


def _schema_problems(parsed: _Parsed) -> list[Problem]:
    """Every BPMN 2.0 XSD violation, not only the first."""
    tree = etree.ElementTree(parsed.root)
    VALIDATOR.preprocess(tree)
    if VALIDATOR.validator.validate(tree):
        return []
    return [
        Problem(parsed.source.path, error.line or None, None,
                f"the diagram does not follow the BPMN 2.0 schema: {error.message}",
                "correct the element in your modeler, or export the diagram again")
        for error in VALIDATOR.validator.error_log
    ]


def _main_process(parser: MadoguchiBpmnParser, trees: list[_Parsed], wanted: str | None, own: set[str] | None):
    executable = parser.get_process_ids()
    label = trees[0].source.path
    if wanted:
        if wanted not in executable:
            return None, Problem(label, None, wanted, f"the manifest names process {wanted!r}, which is not an "
                                 "executable process of the bundle",
                                 f"set process to one of: {', '.join(sorted(executable)) or '(none)'}")
        return wanted, None
    called = {
        spec.spec for pid in executable for spec in parser.get_spec(pid).task_specs.values()
        if isinstance(spec, SubWorkflowTask)
    }
    top = [pid for pid in executable if pid not in called and (own is None or pid in own)]
    if len(top) == 1:
        return top[0], None
    if not top:
        return None, Problem(label, None, None, "there is no executable process with a start event",
                             "add a start event to the process")
    return None, Problem(label, None, None, f"there are several top-level processes ({', '.join(sorted(top))})",
                         "name the one to start in procedure.toml: process = \"...\"")


def _from_validation(exc: ValidationException, trees: list[_Parsed]) -> Problem:
    """SpiffWorkflow's parser errors lack lxml line numbers; find the element ourselves."""
    element_id = getattr(exc, "id", None) or None
    filename = getattr(exc, "file_name", None) or (trees[0].source.path if trees else "")
    line = None
    for parsed in trees:
        if parsed.source.path != filename and filename:
            continue
        if element_id:
            found = parsed.root.xpath("//*[@id=$i]", i=element_id)
            if found:
                line = found[0].sourceline
                filename = parsed.source.path
                break
    message = str(exc).split("\n")[0]
    return Problem(filename, line, element_id, f"the diagram cannot run: {message}",
                   "correct the element in your modeler (see docs/bpmn-support.md for what is supported)")
