"""Portal views: catalogue."""

from __future__ import annotations

from webui.portal import blueprint  # noqa: F401
