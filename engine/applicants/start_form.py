"""Which form starts a procedure: the ``formKey`` of its plain (none) start event."""

from __future__ import annotations

from SpiffWorkflow.bpmn.specs.defaults import StartEvent
from SpiffWorkflow.bpmn.specs.event_definitions.simple import NoneEventDefinition


def start_form_key(spec) -> str | None:
    for task_spec in spec.task_specs.values():
        if isinstance(task_spec, StartEvent) and isinstance(task_spec.event_definition, NoneEventDefinition):
            form_key = ((task_spec.extensions or {}).get("properties") or {}).get("formKey")
            if form_key:
                return form_key
    return None
