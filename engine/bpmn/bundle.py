"""Reading what an admin deploys: one ``.bpmn`` file, or a bundle folder or zip.

A bundle holds a manifest ``procedure.toml``, one or more ``.bpmn``, optional ``.dmn``,
JSON Schema forms (``*.json``) and other files (document templates …). Everything is
treated as untrusted: zip entries may not escape the bundle, sizes are capped, and the
number of files is bounded.
"""

from __future__ import annotations

import hashlib
import json
import tomllib
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from engine.attachments.policy import section_problems as attachment_problems
from engine.catalogue.manifest import catalogue_problems
from engine.errors import DeployRefused, Problem
from engine.issuance.template import template_problems

MANIFEST = "procedure.toml"
MAX_FILES = 500
#: A whole bundle may be this many times the per-file limit.
BUNDLE_FACTOR = 10
KINDS = {".bpmn": "bpmn", ".dmn": "dmn", ".json": "form", ".toml": "manifest"}
#: Document templates (``documents/NAME.toml``) are checked at deploy time (engine/issuance/template.py).
DOCUMENTS_FOLDER = "documents"


@dataclass(frozen=True)
class SourceFile:
    path: str
    kind: str
    content: bytes


@dataclass
class Bundle:
    key: str | None
    title: str | None
    main_process: str | None
    manifest: dict
    files: list[SourceFile] = field(default_factory=list)

    def content_hash(self) -> str:
        digest = hashlib.sha256()
        for source in sorted(self.files, key=lambda f: f.path):
            digest.update(source.path.encode())
            digest.update(b"\0")
            digest.update(hashlib.sha256(source.content).digest())
        return digest.hexdigest()

    def of_kind(self, kind: str) -> list[SourceFile]:
        return [f for f in self.files if f.kind == kind]


def kind_of(path: str) -> str:
    pure = PurePosixPath(path)
    if pure.name == MANIFEST:
        return "manifest"
    if pure.suffix.lower() == ".toml" and len(pure.parts) > 1 and pure.parts[0] == DOCUMENTS_FOLDER:
        return "document"
    return KINDS.get(pure.suffix.lower(), "other")


def read_bundle(path: Path, max_bytes: int) -> Bundle:
    """Read a ``.bpmn`` file, a bundle folder or a ``.zip``; raise DeployRefused on bad input."""
    path = Path(path)
    if not path.exists():
        raise DeployRefused([Problem(str(path), None, None, "the path does not exist",
                                     "give a .bpmn file, a bundle folder or a .zip")])
    if path.is_dir():
        files = _read_folder(path, max_bytes)
    elif path.suffix.lower() == ".zip":
        files = _read_zip(path, max_bytes)
    elif path.suffix.lower() == ".bpmn":
        files = [SourceFile(path.name, "bpmn", _read_capped(path, max_bytes, path.name))]
    else:
        raise DeployRefused([Problem(path.name, None, None, "this kind of file cannot be deployed",
                                     "give a .bpmn file, a bundle folder or a .zip")])
    return bundle_from_files(files, label=path.name)


def bundle_from_files(files: list[SourceFile], label: str) -> Bundle:
    if not any(f.kind == "bpmn" for f in files):
        raise DeployRefused([Problem(label, None, None, "there is no .bpmn file",
                                     "add the process diagram (.bpmn) to the bundle")])
    manifest: dict = {}
    problems: list[Problem] = []
    manifests = [f for f in files if f.kind == "manifest" and PurePosixPath(f.path).name == MANIFEST]
    if manifests:
        source = manifests[0]
        try:
            manifest = tomllib.loads(source.content.decode("utf-8"))
        except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
            problems.append(Problem(source.path, _toml_line(exc), None, f"the manifest cannot be read ({exc})",
                                    "fix the TOML syntax"))
        problems.extend(catalogue_problems(manifest, source.path))
        problems.extend(attachment_problems(manifest, source.path))
    for form in (f for f in files if f.kind == "form"):
        problems.extend(_check_form(form))
    for document in (f for f in files if f.kind == "document"):
        problems.extend(template_problems(document.content, document.path))
    if problems:
        raise DeployRefused(problems)
    title = manifest.get("title")
    if isinstance(title, dict):
        title = title.get("ja") or title.get("en")
    return Bundle(
        key=manifest.get("key"),
        title=title,
        main_process=manifest.get("process"),
        manifest=manifest,
        files=files,
    )


def _toml_line(exc: Exception) -> int | None:
    return getattr(exc, "lineno", None)


def _check_form(form: SourceFile) -> list[Problem]:
    from jsonschema import Draft202012Validator
    from jsonschema.exceptions import SchemaError

    try:
        schema = json.loads(form.content.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        return [Problem(form.path, getattr(exc, "lineno", None), None, f"the form is not valid JSON ({exc})",
                        "fix the JSON syntax")]
    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError as exc:
        where = "/".join(str(p) for p in exc.path) or "(root)"
        return [Problem(form.path, None, where, f"the form is not a valid JSON Schema: {exc.message}",
                        "correct the schema at that place")]
    return []


def _read_capped(path: Path, max_bytes: int, label: str) -> bytes:
    size = path.stat().st_size
    if size > max_bytes:
        raise DeployRefused([Problem(label, None, None, f"the file is {size:,} bytes, more than the limit of "
                                     f"{max_bytes:,} bytes", "split it, or raise MADOGUCHI_MAX_UPLOAD_BYTES")])
    return path.read_bytes()


def _read_folder(root: Path, max_bytes: int) -> list[SourceFile]:
    files: list[SourceFile] = []
    for item in sorted(root.rglob("*")):
        if item.is_symlink() or not item.is_file():
            continue
        relative = item.relative_to(root).as_posix()
        if any(part.startswith(".") for part in PurePosixPath(relative).parts):
            continue
        files.append(SourceFile(relative, kind_of(relative), _read_capped(item, max_bytes, relative)))
        _check_total(files, max_bytes, root.name)
        if len(files) > MAX_FILES:
            raise DeployRefused([Problem(root.name, None, None, f"the bundle has more than {MAX_FILES} files",
                                         "remove files the procedure does not need")])
    return files


def _read_zip(path: Path, max_bytes: int) -> list[SourceFile]:
    try:
        archive = zipfile.ZipFile(path)
    except zipfile.BadZipFile:
        raise DeployRefused([Problem(path.name, None, None, "the file is not a valid zip archive",
                                     "create the archive again")]) from None
    files: list[SourceFile] = []
    with archive:
        entries = [e for e in archive.infolist() if not e.is_dir()]
        if len(entries) > MAX_FILES:
            raise DeployRefused([Problem(path.name, None, None, f"the archive has more than {MAX_FILES} files",
                                         "remove files the procedure does not need")])
        for entry in entries:
            name = PurePosixPath(entry.filename)
            if name.is_absolute() or ".." in name.parts or "\\" in entry.filename:
                raise DeployRefused([Problem(path.name, None, entry.filename[:200],
                                             "an archive entry points outside the bundle",
                                             "use relative paths inside the archive")])
            if any(part.startswith(".") or part == "__MACOSX" for part in name.parts):
                continue
            if entry.file_size > max_bytes:
                raise DeployRefused([Problem(entry.filename, None, None,
                                             f"the file is {entry.file_size:,} bytes, more than the limit of "
                                             f"{max_bytes:,} bytes", "split it, or raise MADOGUCHI_MAX_UPLOAD_BYTES")])
            with archive.open(entry) as handle:
                content = handle.read(max_bytes + 1)  # the header may lie; never read past the cap
            if len(content) > max_bytes:
                raise DeployRefused([Problem(entry.filename, None, None, "the file is larger than the limit",
                                             "split it, or raise MADOGUCHI_MAX_UPLOAD_BYTES")])
            files.append(SourceFile(name.as_posix(), kind_of(name.as_posix()), content))
            _check_total(files, max_bytes, path.name)
    return files


def _check_total(files: list[SourceFile], max_bytes: int, label: str) -> None:
    total = sum(len(f.content) for f in files)
    if total > BUNDLE_FACTOR * max_bytes:
        raise DeployRefused([Problem(label, None, None, f"the bundle holds more than {BUNDLE_FACTOR * max_bytes:,} "
                                     "bytes", "remove files the procedure does not need")])
