"""Fixtures of the job tests: an engine with the test plugin, small retry delays."""

from __future__ import annotations

import pytest

from engine.config import Settings
from engine.facade import Engine
from tests.engine.helpers import add_user
from tests.engine.jobs import plugin_fixtures


@pytest.fixture
def settings(database_url, tmp_path) -> Settings:
    # Fast retries by default; tests that need other policies set them in the diagram.
    return Settings(home=tmp_path, database_url=database_url, job_max_attempts=3, job_backoff_seconds=0.05,
                    job_lease_seconds=30.0)


@pytest.fixture
def plugin(database_url):
    plugin_fixtures.install(database_url)
    yield plugin_fixtures
    plugin_fixtures.uninstall(database_url)


@pytest.fixture
def engine(settings, plugin) -> Engine:
    return Engine(settings, plugins=(plugin,))


@pytest.fixture
def clerk(engine, db):
    add_user(engine, db, "clerk", "clerks")
    return "clerk"
