"""Shared fixtures. Every database test runs on SQLite and, when MADOGUCHI_TEST_DATABASE_URL
points at a PostgreSQL server, on PostgreSQL too (one database per xdist worker)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from engine.config import Settings
from engine.facade import Engine
from engine.store.database import upgrade_database
from engine.store.models import Base

# Cheap password hashes for the hundreds of users the suite signs in (set before the engine is
# imported by any test module; subprocesses started by tests inherit it).
os.environ.setdefault("MADOGUCHI_PASSWORD_HASH_COST", "low")

WORKFLOWS = Path(__file__).parent / "workflows"
PG_URL = os.environ.get("MADOGUCHI_TEST_DATABASE_URL")
DB_KINDS = ["sqlite", "postgresql"] if PG_URL else ["sqlite"]

#: The modules with the longest tests (worker processes, a package built with pip, browsers),
#: started first: xdist hands tests out in collection order, and one of these left for the end
#: would keep a single worker busy alone.
SLOW_FIRST = (
    "tests/plugins/test_example_package.py",
    "tests/engine/jobs/test_scale_out.py",
    "tests/engine/jobs/test_worker_processes.py",
    "tests/webui/browser/",
)


def _slowness_rank(item: pytest.Item) -> int:
    path = item.nodeid.split("::")[0]
    return next((rank for rank, prefix in enumerate(SLOW_FIRST) if path.startswith(prefix)), len(SLOW_FIRST))


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    items.sort(key=_slowness_rank)  # stable: the collection order stays within each rank


#: Modules whose tests share one expensive session fixture (the example plugin's environment):
#: all their tests go to one xdist worker, so no other worker sits waiting for its build.
ONE_WORKER_MODULES = ("tests/plugins/test_example_package.py",)


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config, log):
    """``--dist load`` (the default of ``-n``), except that each module of ONE_WORKER_MODULES is
    one unit. (``xdist_group`` with ``--dist loadgroup`` would say the same, but pytest-xdist
    3.8 ignores the mark under pytest 9.2: pytest-dev/pytest-xdist#1386.) Units are handed out
    largest first, then in collection order, one or two at a time as workers free up."""
    if config.getvalue("dist") != "load":
        return None
    from xdist.scheduler import LoadScopeScheduling

    class SharedFixtureScheduling(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            path = nodeid.split("::")[0]
            return path if path in ONE_WORKER_MODULES else nodeid

    return SharedFixtureScheduling(config, log)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory) -> Path:
    """One migrated SQLite file per worker; each test gets a copy (much faster than migrating)."""
    path = tmp_path_factory.mktemp("template") / "template.db"
    upgrade_database(f"sqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def postgres_url(worker_id) -> str:
    """A migrated PostgreSQL database of this xdist worker, dropped at the end of the run."""
    base = make_url(PG_URL)
    name = f"{base.database}_{worker_id}"
    admin = create_engine(base.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = base.set(database=name).render_as_string(hide_password=False)
    upgrade_database(url)
    yield url
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _truncate_all(url: str) -> None:
    engine = create_engine(url)
    tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    engine.dispose()


@pytest.fixture(params=DB_KINDS)
def database_url(request, tmp_path) -> str:
    if request.param == "sqlite":
        path = tmp_path / "madoguchi.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        return f"sqlite:///{path}"
    url = request.getfixturevalue("postgres_url")
    _truncate_all(url)
    return url


@pytest.fixture
def settings(database_url, tmp_path) -> Settings:
    return Settings(home=tmp_path, database_url=database_url)


@pytest.fixture
def engine(settings) -> Engine:
    return Engine(settings)


@pytest.fixture
def db(engine):
    database = engine.database()
    yield database
    database.dispose()


@pytest.fixture
def cli(settings, monkeypatch):
    """Run ``madoguchi`` in-process against the test database: cli("start", "key", ...)."""
    from engine.cli import main

    monkeypatch.setenv("MADOGUCHI_HOME", str(settings.home))
    monkeypatch.setenv("MADOGUCHI_DATABASE_URL", settings.database_url)
    runner = CliRunner()

    def invoke(*args: str, input: str | None = None):
        return runner.invoke(main, list(args), input=input, catch_exceptions=False)

    return invoke
