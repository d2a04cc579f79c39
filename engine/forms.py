"""Validating submitted task data against the JSON Schema form a task names (``formKey``)."""

from __future__ import annotations

import json
from pathlib import PurePosixPath

from jsonschema import Draft202012Validator

from engine.bpmn.bundle import SourceFile
from engine.errors import BadInput


def find_form(files: list[SourceFile], form_key: str) -> SourceFile | None:
    """A form is found by its path in the bundle, or by its file name with or without .json."""
    key = form_key.strip()
    for source in files:
        if source.kind != "form":
            continue
        path = PurePosixPath(source.path)
        if key in (source.path, path.name, path.stem) or f"forms/{key}" == source.path:
            return source
    return None


def validate_submission(files: list[SourceFile], form_key: str, data: dict) -> None:
    """Raise BadInput listing every field that does not satisfy the form."""
    form = find_form(files, form_key)
    if form is None:
        return  # a formKey may name a form handled elsewhere (an embedded or external form)
    schema = json.loads(form.content)
    errors = sorted(Draft202012Validator(schema).iter_errors(data), key=lambda e: list(e.path))
    if errors:
        lines = []
        for error in errors:
            field = "/".join(str(p) for p in error.path) or "(form)"
            lines.append(f"{field}: {error.message}")
        raise BadInput(f"the data does not satisfy form {form.path}:\n  " + "\n  ".join(lines))
