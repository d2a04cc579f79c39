"""Tables of API tokens for integrators."""

from __future__ import annotations

from engine.store.models import Base  # noqa: F401
