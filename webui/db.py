"""The engine and a transaction for the current request."""

from __future__ import annotations

from contextlib import contextmanager

from flask import current_app


def engine():
    return current_app.extensions["madoguchi"]


@contextmanager
def transaction():
    """One database transaction: committed when the block ends, rolled back on an error."""
    with engine().database().transaction() as session:
        yield session
