"""Running BPMN: SpiffWorkflow behind one adapter (state, history, task projection)."""
