"""Tables of task comments and assignments by managers."""

from __future__ import annotations

from engine.store.models import Base  # noqa: F401
