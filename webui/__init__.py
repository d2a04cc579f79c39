"""The web layer (Flask): office, admin, portal, REST API and verification. It calls the
engine façade only (engine.Engine), never SpiffWorkflow or ORM sessions directly."""
