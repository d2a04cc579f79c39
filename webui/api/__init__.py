"""The REST API under /api/v1 for integrators, with its OpenAPI document."""

from __future__ import annotations

from flask import Blueprint

blueprint = Blueprint("api", __name__, url_prefix="/api/v1")

__all__ = ["blueprint"]
