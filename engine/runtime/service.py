"""Service tasks that never run inside a step: they park, and a worker calls the operation.

When the workflow reaches a service task, its parameters are evaluated in the sandbox
against the task data and kept with the task; the task then waits (STARTED) and the step
ends. ``ApplicationService`` turns every such task into a service job in the same
transaction, and a worker later calls the plugin's operation and completes the task with
the result. An approver's click therefore never waits on a core system.
"""

from __future__ import annotations

from SpiffWorkflow.bpmn.parser.BpmnParser import full_tag
from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser
from SpiffWorkflow.spiff.parser.task_spec import ServiceTaskParser
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG
from SpiffWorkflow.spiff.serializer.task_spec import ServiceTaskConverter
from SpiffWorkflow.spiff.specs.defaults import ServiceTask
from SpiffWorkflow.util.task import TaskState

#: Where the evaluated call waits for its job, in the task's internal data.
CALL_KEY = "madoguchi_service_call"


class AsyncServiceTask(ServiceTask):
    """A service task whose call happens in a background job."""

    def _execute(self, task):
        props = (self.extensions or {}).get("properties") or {}
        if props.get("passTaskData") == "true":
            params = {k: v for k, v in task.data.items() if not k.startswith("_")}
        else:
            params = {name: value["value"] for name, value in self.evaluate_params(task).items()}
        task.internal_data[CALL_KEY] = {"operation": self.operation_name, "params": params, "enqueued": False}
        return None  # STARTED: the step ends here; a job finishes the task

    def apply_result(self, task, result) -> None:
        """Put an operation's result into the task data and complete the task."""
        explicit = self.result_variable and not self.result_variable.startswith("spiff__")
        if isinstance(result, dict) and not explicit:
            task.data.update(result)
        else:
            task.data[self.result_variable] = result
        task.internal_data.pop(CALL_KEY, None)
        task.complete()


class MadoguchiBpmnParser(SpiffBpmnParser):
    """SpiffWorkflow's parser with asynchronous service tasks."""

    OVERRIDE_PARSER_CLASSES = {
        **SpiffBpmnParser.OVERRIDE_PARSER_CLASSES,
        full_tag("serviceTask"): (ServiceTaskParser, AsyncServiceTask),
    }


def serializer_config() -> dict:
    config = dict(SPIFF_CONFIG)
    config[AsyncServiceTask] = ServiceTaskConverter
    return config


def pending_calls(workflow) -> list:
    """Service tasks waiting for a job that has not been created yet."""
    from engine.runtime.runner import all_tasks

    return [t for t in all_tasks(workflow)
            if t.state == TaskState.STARTED and isinstance(t.task_spec, AsyncServiceTask)
            and not t.internal_data.get(CALL_KEY, {}).get("enqueued", True)]
