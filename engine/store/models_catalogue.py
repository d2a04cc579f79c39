"""Tables of the procedure catalogue of the applicant portal."""

from __future__ import annotations

from engine.store.models import Base  # noqa: F401
