"""Which databases a test runs on. Every test that uses the ``database_url`` fixture runs on
SQLite and, when MADOGUCHI_TEST_DATABASE_URL is set, on PostgreSQL too (tests/conftest.py).
A test whose subject does not depend on the database (the engine's own computation, a
package, a parser) marks itself ``@sqlite_only``: running it twice would prove nothing more."""

from __future__ import annotations

import pytest

sqlite_only = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
