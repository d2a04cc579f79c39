"""Built-in document storage: files under ``<MADOGUCHI_HOME>/files`` (setting ``root`` overrides).

It answers ``madoguchi_document_storage`` last (``trylast``), so any installed storage plugin
(an S3-compatible store …) replaces it. A put writes a temporary file next to its target,
flushes it to disk and renames it into place, so a crash leaves the old file or the new one,
never half of one; the directory is synced too, so a key the database already refers to does
not vanish with a power cut. Files are created readable by the owner only (they hold
applicants' personal data).
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import BinaryIO

from engine.hookspecs import hookimpl
from engine.plugins import Setting
from engine.storage import HashingCopy, InvalidKey, StoredFile, check_key, chunks


class FilesystemStorage:
    def __init__(self, root: Path | str):
        self.root = Path(root).resolve()

    def path(self, key: str) -> Path:
        """Where ``key`` lives; refuses keys that would land outside the root (also via symlinks)."""
        path = (self.root / check_key(key)).resolve()
        if not path.is_relative_to(self.root) or path == self.root:
            raise InvalidKey(f"storage key {key!r} leads outside the storage root")
        return path

    def put(self, key: str, stream: BinaryIO | Iterable[bytes], content_type: str | None = None) -> StoredFile:
        target = self.path(key)
        target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        copy = HashingCopy()
        # mkstemp creates the file 0600; same directory, so the rename below is atomic.
        fd, temp = tempfile.mkstemp(dir=target.parent, prefix=".put-", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as out:
                for chunk in chunks(stream):
                    out.write(copy.update(chunk))
                out.flush()
                os.fsync(out.fileno())
            os.replace(temp, target)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temp)
            raise
        _sync_directory(target.parent)
        return StoredFile(key=key, size=copy.size, sha256=copy.sha256, content_type=content_type)

    def open(self, key: str) -> BinaryIO:
        path = self.path(key)
        if not path.is_file():
            raise FileNotFoundError(f"nothing is stored under {key!r}")
        return path.open("rb")

    def exists(self, key: str) -> bool:
        return self.path(key).is_file()

    def delete(self, key: str) -> bool:
        path = self.path(key)
        try:
            path.unlink()
        except FileNotFoundError:
            return False
        _sync_directory(path.parent)
        return True


def _sync_directory(directory: Path) -> None:
    if os.name != "posix":  # Windows cannot open a directory; its renames are durable enough
        return
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@hookimpl
def madoguchi_plugin_settings():
    return {"root": Setting(default="", description="Directory for stored files (default: <MADOGUCHI_HOME>/files)")}


@hookimpl(trylast=True)
def madoguchi_document_storage(engine):
    root = engine.plugin_settings(__name__).get("root") or ""
    return FilesystemStorage(Path(root) if root else Path(engine.settings.home) / "files")
