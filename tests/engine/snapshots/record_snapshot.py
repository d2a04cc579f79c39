"""Recorder of review_approve.spiff-1.3.*: run it with SpiffWorkflow 3.0.0 (serializer format 1.3):

    python -m venv old && old/bin/pip install spiffworkflow==3.0.0
    old/bin/python record_snapshot.py review_approve.bpmn \
        review_approve.spiff-1.3.state.json review_approve.spiff-1.3.meta.json

It records a workflow paused at the approve task, in the envelope engine.runtime.state reads.
Not collected by pytest (no test_ prefix).
"""

import json
import sys
from pathlib import Path

from SpiffWorkflow.bpmn.serializer.workflow import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG
from SpiffWorkflow.task import TaskState


def main(bpmn: str, state_out: str, meta_out: str) -> None:
    parser = SpiffBpmnParser()
    parser.add_bpmn_file(bpmn)
    workflow = BpmnWorkflow(parser.get_spec("review_approve"))
    workflow.task_tree.data.update({"amount": 4200})
    workflow.do_engine_steps()
    review = workflow.get_tasks(state=TaskState.READY, manual=True)[0]
    review.data.update({"decision": "approve"})
    review.run()
    workflow.do_engine_steps()
    approve = workflow.get_tasks(state=TaskState.READY, manual=True)[0]
    serializer = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(SPIFF_CONFIG))
    dct = json.loads(serializer.serialize_json(workflow))
    assert dct["serializer_version"] == "1.3", dct["serializer_version"]
    dct.pop("spec")
    dct.pop("subprocess_specs")
    Path(state_out).write_text(json.dumps({"format": 1, "workflow": dct}, indent=1, sort_keys=True))
    meta = {"ready_task": {"id": str(approve.id), "element_id": approve.task_spec.name},
            "recorded_with": "SpiffWorkflow 3.0.0"}
    Path(meta_out).write_text(json.dumps(meta, indent=1))


if __name__ == "__main__":
    main(*sys.argv[1:4])
