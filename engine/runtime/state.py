"""Workflow state as stored in ``applications.state``: SpiffWorkflow's serializer output
without the embedded spec, inside a small versioned envelope.

Specs are rebuilt once per definition version from its source files and cached, so a load
costs only the task tree. The envelope's ``format`` lets us change our own layout later;
SpiffWorkflow's ``serializer_version`` is kept inside so its migrations still apply.

Format history:
  1 — {"format": 1, "workflow": <BpmnWorkflowSerializer dict without spec/subprocess_specs>}
"""

from __future__ import annotations

import math
from uuid import UUID

import orjson
from SpiffWorkflow.bpmn.serializer.default.workflow import BpmnWorkflowConverter
from SpiffWorkflow.bpmn.serializer.migration.version_migration import MIGRATIONS
from SpiffWorkflow.bpmn.serializer.workflow import VERSION as SPIFF_SERIALIZER_VERSION
from SpiffWorkflow.bpmn.serializer.workflow import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow

from engine.errors import MadoguchiError
from engine.runtime.service import serializer_config

STATE_FORMAT = 1
#: Where each of SpiffWorkflow's migration functions leaves a state.
_MIGRATES_TO = {"1.0": "1.3", "1.1": "1.3", "1.2": "1.3", "1.3": "1.4", "1.4": "1.5"}


_JSON_SCALARS = frozenset({str, int, bool, type(None)})


def _json_stable(value) -> bool:
    """Whether ``value`` reads back from the stored JSON as an equal value of the same types."""
    kind = type(value)
    if kind in _JSON_SCALARS:
        return True
    if kind is float:
        return math.isfinite(value)  # NaN and infinities are stored as null
    if kind is dict:
        return all(type(k) is str and _json_stable(v) for k, v in value.items())
    if kind is list:
        return all(_json_stable(v) for v in value)
    return False  # tuples come back as lists; dates, decimals … as whatever the encoder made of them


def survives_reload(workflow: BpmnWorkflow) -> bool:
    """Whether the workflow's data would read back unchanged from its stored state — then the
    object itself may stand in for loading that state again (see LiveWorkflows)."""
    for wf in (workflow, *workflow.subprocesses.values()):
        if not (_json_stable(wf.data) and _json_stable(wf.correlations)):
            return False
        for task in wf.tasks.values():
            if not (_json_stable(task.data) and _json_stable(task.internal_data)):
                return False
    return True


class StateFormatError(MadoguchiError):
    """A stored state cannot be read by this version of the engine."""


class _SpeclessWorkflowConverter(BpmnWorkflowConverter):
    """Writes no spec; on load, takes the cached spec objects handed in with the dict."""

    def to_dict(self, workflow):
        dct = super(BpmnWorkflowConverter, self).to_dict(workflow)
        dct["subprocesses"] = self.mapping_to_dict(workflow.subprocesses)
        dct["bpmn_events"] = self.registry.convert(workflow.bpmn_events)
        return dct

    def from_dict(self, dct):
        spec = dct.pop("spec")
        subprocess_specs = dct.pop("subprocess_specs")
        workflow = self.target_class(spec, subprocess_specs, deserializing=True)
        workflow.tasks = self.mapping_from_dict(dct["tasks"], UUID, workflow=workflow)
        workflow.task_tree = workflow.tasks.get(UUID(dct["root"]))
        self.set_default_attributes(workflow, dct)
        self.subprocesses_from_dict(dct["subprocesses"], workflow)
        workflow.bpmn_events = self.registry.restore(dct.pop("bpmn_events", []))
        return workflow


def _json_default(registry):
    encoder = BpmnWorkflowSerializer(registry)._encoder_cls()
    return encoder.default


class StateSerializer:
    """Turns a running workflow into bytes and back, given the cached spec."""

    def __init__(self) -> None:
        registry = BpmnWorkflowSerializer.configure(serializer_config())
        _SpeclessWorkflowConverter(BpmnWorkflow, registry)
        self._serializer = BpmnWorkflowSerializer(registry)
        self._registry = registry
        self._default = _json_default(registry)

    def dump(self, workflow: BpmnWorkflow) -> bytes:
        self._registry._encoder_mode = True
        try:
            dct = self._serializer.to_dict(workflow)
        finally:
            self._registry._encoder_mode = False
        dct[BpmnWorkflowSerializer.VERSION_KEY] = SPIFF_SERIALIZER_VERSION
        return orjson.dumps({"format": STATE_FORMAT, "workflow": dct}, default=self._default)

    def load(self, blob: bytes, spec, subprocess_specs: dict, script_engine) -> BpmnWorkflow:
        try:
            envelope = orjson.loads(blob)
        except orjson.JSONDecodeError as exc:
            raise StateFormatError(f"stored state is not valid JSON: {exc}") from exc
        fmt = envelope.get("format") if isinstance(envelope, dict) else None
        if fmt != STATE_FORMAT:
            raise StateFormatError(f"stored state has format {fmt!r}; this engine reads format {STATE_FORMAT}")
        dct = envelope["workflow"]
        version = dct.pop(BpmnWorkflowSerializer.VERSION_KEY, None)
        if version != SPIFF_SERIALIZER_VERSION:
            self._migrate(dct, version, spec, subprocess_specs)
        dct["spec"], dct["subprocess_specs"] = spec, subprocess_specs
        workflow = self._serializer.from_dict(dct)
        workflow.script_engine = script_engine
        return workflow

    def _migrate(self, dct: dict, version: str | None, spec, subprocess_specs: dict) -> None:
        """Bring a state written by an older SpiffWorkflow up to date.

        SpiffWorkflow's migrations expect the spec inside the dict, so the current spec is
        serialized in for the duration of the migration and dropped again afterwards.
        """
        if version not in MIGRATIONS:
            raise StateFormatError(f"stored workflow state has serializer version {version!r}, which cannot be "
                                   "migrated")
        dct["spec"] = self._registry.convert(spec)
        dct["subprocess_specs"] = {name: self._registry.convert(s) for name, s in subprocess_specs.items()}
        # SpiffWorkflow's migrations chain only partly (1.0→1.1→1.2→1.3, then one step each),
        # so walk the versions ourselves until the state is current.
        while version != SPIFF_SERIALIZER_VERSION:
            MIGRATIONS[version](dct)
            version = _MIGRATES_TO[version]
        dct.pop("spec"), dct.pop("subprocess_specs")
