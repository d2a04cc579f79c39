"""The web layer (Flask): office, admin, portal, REST API and verification. It calls the
engine façade only (engine.Engine), never SpiffWorkflow or ORM sessions directly."""

__all__ = ["create_app"]


def __getattr__(name: str):
    # Loaded on first use: every `madoguchi` command imports this package (the console script
    # lives in webui.cli), and only `serve` needs Flask, Authlib and the views.
    if name == "create_app":
        from webui.app import create_app

        return create_app
    raise AttributeError(f"module 'webui' has no attribute {name!r}")
