"""Document storage: where attachments and issued documents are kept.

A storage is whatever the ``madoguchi_document_storage`` hook answers first (an S3 plugin, a
records-management system …); the built-in ``plugins.filesystem_storage`` answers last. Files
are addressed by keys like ``intake/20240401-000123/健康保険証.pdf``: relative, ``/``-separated,
never escaping the storage's root.

Files are streamed: ``put`` copies its stream in chunks and hashes them on the way, so a
multi-gigabyte attachment costs one chunk of memory, and its SHA-256 is known when it lands.
What a file is (its type, its hash, which application it belongs to) is recorded by the
caller, next to where it uses the key; the storage only keeps bytes.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import BinaryIO, Protocol, runtime_checkable

from engine.errors import BadInput, MadoguchiError

#: How much of a stream is held at a time while copying it.
CHUNK_SIZE = 256 * 1024
#: Longest key accepted; keys end up as paths or object names with their own limits.
MAX_KEY_LENGTH = 1024
#: "C:" — absolute on Windows even with forward slashes.
_DRIVE = re.compile(r"^[A-Za-z]:")


class StorageError(MadoguchiError):
    """The storage cannot do what was asked (no storage installed, a broken plugin …)."""


class InvalidKey(BadInput):
    """A key that is not a plain relative name: empty, absolute, with ``..`` or control characters."""


@dataclass(frozen=True)
class StoredFile:
    key: str
    size: int
    #: Lower-case hex SHA-256 of the stored bytes.
    sha256: str
    content_type: str | None = None


@runtime_checkable
class DocumentStorage(Protocol):
    """What a storage plugin implements (see ``madoguchi_document_storage``)."""

    def put(self, key: str, stream: BinaryIO | Iterable[bytes], content_type: str | None = None) -> StoredFile:
        """Store ``stream`` (a binary file object or an iterable of byte chunks) under ``key``,
        replacing what was there; readers see the old file or the whole new one, never a part."""

    def open(self, key: str) -> BinaryIO:
        """The stored bytes as a binary file object (the caller closes it);
        FileNotFoundError if there is nothing under ``key``."""

    def exists(self, key: str) -> bool:
        ...

    def delete(self, key: str) -> bool:
        """Remove ``key``; True if something was removed (deleting twice is not an error)."""


def check_key(key: str) -> str:
    """``key`` if it is a plain relative name, else InvalidKey saying what is wrong with it."""
    if not isinstance(key, str) or not key:
        raise InvalidKey("a storage key must be a non-empty string")
    if len(key) > MAX_KEY_LENGTH:
        raise InvalidKey(f"storage key is longer than {MAX_KEY_LENGTH} characters")
    if key.startswith("/") or "\\" in key or _DRIVE.match(key):
        raise InvalidKey(f"storage key {key!r} must be relative, with '/' between its parts")
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in key):
        raise InvalidKey(f"storage key {key!r} contains control characters")
    for part in key.split("/"):
        if part in ("", ".", ".."):
            raise InvalidKey(f"storage key {key!r} has an empty, '.' or '..' part")
        if part.startswith("."):
            # Dot-names are the storage's own (temporary files of a put in progress).
            raise InvalidKey(f"storage key {key!r} has a part starting with '.'")
    return key


def chunks(stream: BinaryIO | Iterable[bytes], size: int = CHUNK_SIZE) -> Iterator[bytes]:
    """The bytes of a file object (read ``size`` at a time) or of an iterable of chunks."""
    read = getattr(stream, "read", None)
    if read is not None:
        while True:
            chunk = read(size)
            if not chunk:
                return
            yield chunk
    else:
        for chunk in stream:
            if chunk:
                yield bytes(chunk)


class HashingCopy:
    """Counts and hashes bytes as they pass, so ``put`` implementations need not."""

    def __init__(self) -> None:
        self.size = 0
        self._hash = hashlib.sha256()

    def update(self, chunk: bytes) -> bytes:
        self.size += len(chunk)
        self._hash.update(chunk)
        return chunk

    @property
    def sha256(self) -> str:
        return self._hash.hexdigest()


def engine_storage(engine) -> DocumentStorage:
    """The engine's document storage: the first answer to ``madoguchi_document_storage``."""
    storage = engine.plugin_manager.hook.madoguchi_document_storage(engine=engine)
    if storage is None:
        raise StorageError("no plugin provides document storage (madoguchi_document_storage): install one, "
                           "or load the built-in plugins.filesystem_storage")
    if not isinstance(storage, DocumentStorage):
        raise StorageError(f"the document storage {type(storage).__name__} does not implement "
                           "engine.storage.DocumentStorage (put, open, exists, delete)")
    return storage
