"""Diagnostic operations for trying diagrams and measuring the job runner.

``diagnostics.noop`` does nothing and returns nothing; ``diagnostics.echo`` returns its
parameters, so a service task can be wired up before the real integration exists.
"""

from engine.hookspecs import hookimpl


def noop(params: dict, context) -> dict:
    return {}


def echo(params: dict, context) -> dict:
    return {"echo": params}


@hookimpl
def madoguchi_operations():
    return {"diagnostics.noop": noop, "diagnostics.echo": echo}
