"""The web layer (Flask): office, admin, portal, REST API and verification. It calls the
engine façade only (engine.Engine), never SpiffWorkflow or ORM sessions directly."""

from webui.app import create_app

__all__ = ["create_app"]
