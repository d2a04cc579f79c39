"""Tables of applicant accounts."""

from __future__ import annotations

from engine.store.models import Base  # noqa: F401
