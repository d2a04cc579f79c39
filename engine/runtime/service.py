"""Service tasks that never run inside a step: they park, and a worker calls the operation.

When the workflow reaches a service task, its parameters are evaluated in the sandbox
against the task data and kept with the task; the task then waits (STARTED) and the step
ends. ``ApplicationService`` turns every such task into a service job in the same
transaction, and a worker later calls the plugin's operation and completes the task with
the result. An approver's click therefore never waits on a core system.
"""

from __future__ import annotations

from SpiffWorkflow.bpmn.parser.BpmnParser import full_tag
from SpiffWorkflow.bpmn.specs.event_definitions.base import EventDefinition
from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser
from SpiffWorkflow.spiff.parser.task_spec import ServiceTaskParser
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG
from SpiffWorkflow.spiff.serializer.event_definition import MessageEventDefinitionConverter
from SpiffWorkflow.spiff.serializer.task_spec import ServiceTaskConverter
from SpiffWorkflow.spiff.specs.defaults import ServiceTask
from SpiffWorkflow.spiff.specs.event_definitions import MessageEventDefinition
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


class RoutedMessageEventDefinition(MessageEventDefinition):
    """A message event whose messages from outside the application are routed by the engine.

    ``engine.messages`` hands a message only to the application whose waiting event has the
    message's name and correlation key, and sends it in without correlations. SpiffWorkflow
    would check the key again against the message data, and refuse the message when the
    data does not repeat the key (``message send payment --key PAY-1 --data '{"amount": 5}'``)
    or when an earlier message already set the application's correlations (a second payment).
    Messages thrown inside the application carry correlations and keep SpiffWorkflow's rule.
    """

    def catches(self, my_task, event):
        if event.correlations:
            return super().catches(my_task, event)
        return self == event.event_definition

    def catch(self, my_task, event=None):
        self.update_internal_data(my_task, event)
        if event is not None:
            try:
                correlations = self.get_correlations(my_task, event.payload)
            except Exception:  # the key came with the message, not inside its data
                correlations = event.correlations
            my_task.workflow.correlations.update(correlations)
        EventDefinition.catch(self, my_task, event)

    def update_task_data(self, my_task):
        """With ``spiffworkflow:messageVariable`` the message lands in that variable, as in
        SpiffWorkflow; without one (Camunda diagrams have none), a JSON-object message is
        merged into the task data instead of being dropped."""
        if self.message_var is not None:
            return super().update_task_data(my_task)
        payload = my_task.internal_data.pop(self.name, None)
        if isinstance(payload, dict):
            my_task.data.update(payload)


class _RoutedMessages:
    """Parser mixin: message event definitions become RoutedMessageEventDefinition."""

    def parse_message_event(self, message_event):
        parsed = super().parse_message_event(message_event)
        return RoutedMessageEventDefinition(parsed.name, parsed.correlation_properties, parsed.expression,
                                            parsed.message_var, parsed.process_correlations,
                                            description=parsed.description)


#: The elements that can carry a message event definition.
_MESSAGE_ELEMENTS = ("startEvent", "endEvent", "boundaryEvent", "intermediateCatchEvent", "intermediateThrowEvent",
                     "sendTask", "receiveTask")


def _routed(tag: str) -> tuple:
    parser_class, task_class = SpiffBpmnParser.OVERRIDE_PARSER_CLASSES[full_tag(tag)]
    routed = type(parser_class.__name__.replace("Spiff", "Routed"), (_RoutedMessages, parser_class), {})
    return routed, task_class


class MadoguchiBpmnParser(SpiffBpmnParser):
    """SpiffWorkflow's parser with asynchronous service tasks and engine-routed messages."""

    OVERRIDE_PARSER_CLASSES = {
        **SpiffBpmnParser.OVERRIDE_PARSER_CLASSES,
        full_tag("serviceTask"): (ServiceTaskParser, AsyncServiceTask),
        **{full_tag(tag): _routed(tag) for tag in _MESSAGE_ELEMENTS},
    }


def serializer_config() -> dict:
    config = dict(SPIFF_CONFIG)
    config[AsyncServiceTask] = ServiceTaskConverter
    config[RoutedMessageEventDefinition] = MessageEventDefinitionConverter
    return config


def waiting_calls(workflow) -> set[str]:
    """Ids of the service tasks waiting for their job (STARTED)."""
    from engine.runtime.runner import all_tasks

    return {str(t.id) for t in all_tasks(workflow)
            if t.state == TaskState.STARTED and isinstance(t.task_spec, AsyncServiceTask)}


def pending_calls(workflow) -> list:
    """Service tasks waiting for a job that has not been created yet."""
    from engine.runtime.runner import all_tasks

    return [t for t in all_tasks(workflow)
            if t.state == TaskState.STARTED and isinstance(t.task_spec, AsyncServiceTask)
            and not t.internal_data.get(CALL_KEY, {}).get("enqueued", True)]
