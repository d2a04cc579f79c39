"""Settings read from the environment (``MADOGUCHI_*``), with defaults for a laptop."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path


def _int_env(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ValueError(f"{name}={raw!r} is not a whole number") from exc


def _float_env(name: str, default: float) -> float:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return float(raw)
    except ValueError as exc:
        raise ValueError(f"{name}={raw!r} is not a number") from exc


@dataclass(frozen=True)
class Settings:
    """Where the instance keeps its data and how it limits untrusted input."""

    home: Path
    database_url: str
    max_upload_bytes: int = 5 * 1024 * 1024
    script_max_iterations: int = 1_000_000
    script_max_seconds: float = 5.0
    extra: dict = field(default_factory=dict)

    @classmethod
    def from_env(cls) -> Settings:
        home = Path(os.environ.get("MADOGUCHI_HOME") or "var").resolve()
        url = os.environ.get("MADOGUCHI_DATABASE_URL") or f"sqlite:///{home / 'madoguchi.db'}"
        return cls(
            home=home,
            database_url=url,
            max_upload_bytes=_int_env("MADOGUCHI_MAX_UPLOAD_BYTES", 5 * 1024 * 1024),
            script_max_iterations=_int_env("MADOGUCHI_SCRIPT_MAX_ITERATIONS", 1_000_000),
            script_max_seconds=_float_env("MADOGUCHI_SCRIPT_MAX_SECONDS", 5.0),
        )
