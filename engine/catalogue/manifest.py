"""The ``[catalogue]`` section of a bundle's manifest (``procedure.toml``).

A deployed procedure describes its own catalogue entry; deploying it creates or updates the
entry. Defaults come from the manifest: slug = ``key``, names = ``[title]``, category and
department from the top-level keys. The entry is always on line here, for this bundle.
"""

from __future__ import annotations

from engine.catalogue.entry import CatalogueEntry, check_entry
from engine.errors import DeployRefused, Problem

SECTION = "catalogue"
#: Set by the deployment itself, never by the section.
FIXED = ("channel", "definition_key", "external_url", "external_name", "counter")


def _values(manifest: dict, key: str) -> dict:
    section = dict(manifest.get(SECTION) or {})
    title = manifest.get("title")
    names = title if isinstance(title, dict) else {"ja": title}
    defaults = {"slug": key.lower().replace("_", "-").replace(".", "-"), "name_ja": names.get("ja"), "name_en": names.get("en"),
                "category": manifest.get("category"), "department": manifest.get("department")}
    for name, value in defaults.items():
        if name not in section and isinstance(value, str):
            section[name] = value
    return section


def catalogue_problems(manifest: dict, path: str) -> list[Problem]:
    """What is wrong with the manifest's ``[catalogue]`` section (none when it has none)."""
    if SECTION not in manifest:
        return []
    section = manifest[SECTION]
    if not isinstance(section, dict):
        return [Problem(path, None, SECTION, "[catalogue] must be a table",
                        "write it as a [catalogue] section with keys such as reading and keywords")]
    problems = [Problem(path, None, f"{SECTION}.{name}", "is set by the deployment (on line here, this bundle)",
                        f"remove {name} from [catalogue]") for name in FIXED if name in section]
    # The key may be left to the process id, known only once the diagram is compiled.
    key = next((k for k in (manifest.get("key"), manifest.get("process")) if isinstance(k, str)), "procedure")
    _, found = check_entry(_online(manifest, key))
    problems.extend(Problem(path, None, f"{SECTION}.{name}", message, _fix(name)) for name, message in found)
    return problems


def _online(manifest: dict, key: str) -> dict:
    values = {name: value for name, value in _values(manifest, key).items() if name not in FIXED}
    return {**values, "channel": "online", "definition_key": key}


def _fix(name: str) -> str:
    if name == "slug":
        return "set [catalogue] slug (or the manifest's key) to lower-case letters, digits and hyphens"
    if name in ("name_ja", "category", "department"):
        return f"set [catalogue] {name} (or the manifest's {'[title] ja' if name == 'name_ja' else name})"
    return f"correct [catalogue] {name}"


def entry_from_manifest(manifest: dict, key: str) -> CatalogueEntry | None:
    """The entry a deployed bundle (key ``key``) describes, or None when it has no section."""
    if not isinstance(manifest.get(SECTION), dict):
        return None
    entry, found = check_entry(_online(manifest, key))
    if entry is None:
        # The section was checked when the bundle was read; what is left is the key-derived slug.
        from engine.bpmn.bundle import MANIFEST  # the bundle reader imports this module

        raise DeployRefused([Problem(MANIFEST, None, f"{SECTION}.{name}", message, _fix(name))
                             for name, message in found])
    return entry
