"""Document storage: streamed puts with SHA-256, atomic replacement, keys that cannot escape."""

from __future__ import annotations

import hashlib
import os
import stat
import tracemalloc
from pathlib import Path

import pytest

from engine.config import Settings
from engine.facade import Engine
from engine.hookspecs import hookimpl
from engine.storage import DocumentStorage, InvalidKey, StorageError, StoredFile, engine_storage
from plugins import filesystem_storage
from plugins.filesystem_storage import FilesystemStorage

MB = 1024 * 1024


class GeneratedStream:
    """``size`` bytes made on the fly, as a file object: nothing bigger than one read exists."""

    def __init__(self, size: int, seed: bytes = b"madoguchi"):
        self.left = size
        self.block = hashlib.sha256(seed).digest() * 2048  # 64 KiB pattern

    def read(self, n: int = -1) -> bytes:
        if self.left <= 0:
            return b""
        n = self.left if n is None or n < 0 else min(n, self.left)
        whole, part = divmod(n, len(self.block))
        data = self.block * whole + self.block[:part]
        self.left -= n
        return data


def expected_sha256(size: int) -> str:
    digest, stream = hashlib.sha256(), GeneratedStream(size)
    while chunk := stream.read(MB):
        digest.update(chunk)
    return digest.hexdigest()


@pytest.fixture
def storage(tmp_path) -> FilesystemStorage:
    return FilesystemStorage(tmp_path / "files")


def test_a_large_file_is_streamed_with_flat_memory_and_the_right_hash(storage):
    size = 200 * MB
    tracemalloc.start()
    try:
        stored = storage.put("big/scan.tiff", GeneratedStream(size), "image/tiff")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 4 * MB, f"put held {peak / MB:.1f} MB at its peak"
    assert stored == StoredFile("big/scan.tiff", size, expected_sha256(size), "image/tiff")
    assert (storage.root / "big" / "scan.tiff").stat().st_size == size


def test_put_takes_an_iterable_of_chunks_and_reads_back(storage):
    stored = storage.put("intake/1/健康保険証.pdf", iter([b"%PDF-1.7\n", b"", b"body"]), "application/pdf")
    assert stored.size == 13 and stored.sha256 == hashlib.sha256(b"%PDF-1.7\nbody").hexdigest()
    assert storage.exists("intake/1/健康保険証.pdf")
    with storage.open("intake/1/健康保険証.pdf") as stream:
        assert stream.read() == b"%PDF-1.7\nbody"


def test_files_are_private_to_the_owner(storage):
    storage.put("a/b.txt", iter([b"x"]))
    assert stat.S_IMODE(os.stat(storage.root / "a" / "b.txt").st_mode) == 0o600


def test_a_failed_put_leaves_the_old_file_and_no_temporary_one(storage):
    storage.put("doc.txt", iter([b"old"]))

    def broken():
        yield b"new, half"
        raise OSError("the network went away")

    with pytest.raises(OSError, match="network"):
        storage.put("doc.txt", broken())
    with storage.open("doc.txt") as stream:
        assert stream.read() == b"old"
    assert [p.name for p in storage.root.iterdir()] == ["doc.txt"]


def test_replacing_and_deleting(storage):
    storage.put("k", iter([b"one"]))
    assert storage.put("k", iter([b"two!"])).size == 4
    assert storage.delete("k") is True
    assert storage.delete("k") is False
    assert not storage.exists("k")
    with pytest.raises(FileNotFoundError, match="'k'"):
        storage.open("k")


@pytest.mark.parametrize("key", [
    "../outside", "a/../../outside", "/etc/passwd", "a//b", "", "a\\..\\b", "C:/windows", "a/./b", ".hidden",
    "a/.put-x.tmp", "nul\x00byte", "line\nbreak", "x" * 2000,
])
def test_keys_that_could_escape_or_confuse_are_refused(storage, key, tmp_path):
    with pytest.raises(InvalidKey):
        storage.put(key, iter([b"x"]))
    for call in (storage.open, storage.exists, storage.delete):
        with pytest.raises(InvalidKey):
            call(key)
    assert not (tmp_path / "outside").exists()


def test_a_symlink_out_of_the_root_is_refused(storage, tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    storage.root.mkdir(parents=True)
    (storage.root / "link").symlink_to(outside)
    with pytest.raises(InvalidKey, match="outside the storage root"):
        storage.put("link/file", iter([b"x"]))
    assert list(outside.iterdir()) == []


def test_the_filesystem_storage_implements_the_protocol(storage):
    assert isinstance(storage, DocumentStorage)


# -- which storage an engine uses ----------------------------------------------------------------

def _settings(tmp_path: Path, **options) -> Settings:
    return Settings(home=tmp_path, database_url=f"sqlite:///{tmp_path / 'madoguchi.db'}", **options)


def test_the_built_in_storage_lives_under_madoguchi_home(tmp_path, monkeypatch):
    monkeypatch.delenv("MADOGUCHI_FILESYSTEM_STORAGE_ROOT", raising=False)
    storage = engine_storage(Engine(_settings(tmp_path), plugins=(filesystem_storage,)))
    assert isinstance(storage, FilesystemStorage) and storage.root == (tmp_path / "files").resolve()


def test_the_root_setting_moves_it(tmp_path, monkeypatch):
    monkeypatch.setenv("MADOGUCHI_FILESYSTEM_STORAGE_ROOT", str(tmp_path / "elsewhere"))
    storage = engine_storage(Engine(_settings(tmp_path), plugins=(filesystem_storage,)))
    assert storage.root == (tmp_path / "elsewhere").resolve()


class MemoryStorage:
    def __init__(self):
        self.files: dict[str, bytes] = {}

    def put(self, key, stream, content_type=None):
        data = b"".join(iter(lambda: stream.read(65536), b"")) if hasattr(stream, "read") else b"".join(stream)
        self.files[key] = data
        return StoredFile(key, len(data), hashlib.sha256(data).hexdigest(), content_type)

    def open(self, key):
        import io

        return io.BytesIO(self.files[key])

    def exists(self, key):
        return key in self.files

    def delete(self, key):
        return self.files.pop(key, None) is not None


class MemoryStoragePlugin:
    def __init__(self):
        self.storage = MemoryStorage()

    @hookimpl
    def madoguchi_document_storage(self):
        return self.storage


def test_an_installed_storage_plugin_replaces_the_built_in_one(tmp_path):
    plugin = MemoryStoragePlugin()
    # Registered before the plugin: the built-in one still answers last (trylast).
    engine = Engine(_settings(tmp_path), plugins=(filesystem_storage, plugin))
    assert engine_storage(engine) is plugin.storage


def test_no_storage_at_all_is_a_clear_error(tmp_path):
    engine = Engine(_settings(tmp_path, blocked_plugins=("plugins.filesystem_storage",)))
    with pytest.raises(StorageError, match="no plugin provides document storage"):
        engine_storage(engine)


def test_a_storage_missing_methods_is_refused(tmp_path):
    class Broken:
        @hookimpl
        def madoguchi_document_storage(self):
            return object()

    with pytest.raises(StorageError, match="does not implement"):
        engine_storage(Engine(_settings(tmp_path), plugins=(Broken(),)))
