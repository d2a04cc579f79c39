"""Settings read from the environment (``MADOGUCHI_*``), with defaults for a laptop."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


def _number_env(name: str, default, kind=int):
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return kind(raw)
    except ValueError as exc:
        what = "a whole number" if kind is int else "a number"
        raise ValueError(f"{name}={raw!r} is not {what}") from exc


def _int_env(name: str, default: int) -> int:
    return _number_env(name, default, int)


def _float_env(name: str, default: float) -> float:
    return _number_env(name, default, float)


def _list_env(name: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in os.environ.get(name, "").split(",") if part.strip())


@dataclass(frozen=True)
class Settings:
    """Where the instance keeps its data and how it limits untrusted input."""

    home: Path
    database_url: str
    max_upload_bytes: int = 5 * 1024 * 1024
    #: Largest attachment accepted where a procedure sets no [attachments] max_bytes of its own.
    attachment_max_bytes: int = 100 * 1024 * 1024
    script_max_iterations: int = 1_000_000
    script_max_seconds: float = 5.0
    #: Extra plugin modules to load (besides entry points and the built-ins).
    plugin_modules: tuple[str, ...] = ()
    #: Plugins (built-in or installed) not to load, by name.
    blocked_plugins: tuple[str, ...] = ()
    job_max_attempts: int = 5
    job_backoff_seconds: float = 10.0
    job_lease_seconds: float = 30.0
    #: How long a message nobody waits for yet is kept for its receiver (0: refuse it).
    message_buffer_seconds: float = 86400.0
    #: Where the public pages are reached (verification links in QR codes of issued documents).
    public_url: str = "http://127.0.0.1:5000"

    @classmethod
    def from_env(cls) -> Settings:
        home = Path(os.environ.get("MADOGUCHI_HOME") or "var").resolve()
        url = os.environ.get("MADOGUCHI_DATABASE_URL") or f"sqlite:///{home / 'madoguchi.db'}"
        return cls(
            home=home,
            database_url=url,
            max_upload_bytes=_int_env("MADOGUCHI_MAX_UPLOAD_BYTES", 5 * 1024 * 1024),
            attachment_max_bytes=_int_env("MADOGUCHI_ATTACHMENT_MAX_BYTES", 100 * 1024 * 1024),
            script_max_iterations=_int_env("MADOGUCHI_SCRIPT_MAX_ITERATIONS", 1_000_000),
            script_max_seconds=_float_env("MADOGUCHI_SCRIPT_MAX_SECONDS", 5.0),
            plugin_modules=_list_env("MADOGUCHI_PLUGINS"),
            blocked_plugins=_list_env("MADOGUCHI_BLOCK_PLUGINS"),
            job_max_attempts=_int_env("MADOGUCHI_JOB_MAX_ATTEMPTS", 5),
            job_backoff_seconds=_float_env("MADOGUCHI_JOB_BACKOFF_SECONDS", 10.0),
            job_lease_seconds=_float_env("MADOGUCHI_JOB_LEASE_SECONDS", 30.0),
            message_buffer_seconds=_float_env("MADOGUCHI_MESSAGE_BUFFER_SECONDS", 86400.0),
            public_url=os.environ.get("MADOGUCHI_PUBLIC_URL") or "http://127.0.0.1:5000",
        )
