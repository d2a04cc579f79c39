"""Import scripts/translations.py as a module for the tests."""

import importlib.util
from pathlib import Path

_spec = importlib.util.spec_from_file_location(
    "madoguchi_translations", Path(__file__).parents[2] / "scripts" / "translations.py")
_module = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_module)
build = _module.build
translations = _module.translations
ConflictingTranslations = _module.ConflictingTranslations
module = _module
