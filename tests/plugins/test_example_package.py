"""The example plugin of the plugin guide, installed with pip into a fresh virtual environment
together with Madoguchi, then used only through the installed ``madoguchi`` command — what a
city's operator does after ``pip install madoguchi-example-plugin``.

The environment is built once per test session. pip builds and installs both packages from
their source folders (each in its own isolated build environment, as for a user), but their
dependencies are not fetched again: the new environment sees the test environment's packages
through a ``.pth`` file, so pip finds every declared requirement already satisfied. That keeps
the build to seconds instead of minutes; what it gives up is proof that the declared
dependencies are complete on their own (a missing declaration is still caught by pip's
resolver only if the package is absent from the test environment too). All tests of this
module run on one xdist worker, first (ONE_WORKER_MODULES in tests/conftest.py), so no
second worker sits waiting for the build. These tests always use their own SQLite database:
the package, not the database, is under test, so they run once even when
MADOGUCHI_TEST_DATABASE_URL is set.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from tests.diagrams import chain, process, user_task, write
from tests.engine.jobs.support import service_task

ROOT = Path(__file__).parents[2]
EXAMPLE = ROOT / "docs" / "examples" / "madoguchi-example-plugin"
#: Not part of an installable copy of Madoguchi.
NOT_SHIPPED = shutil.ignore_patterns(".git", ".venv", "var", "tests", "bench", "docs", "build", "dist",
                                     "*.egg-info", "__pycache__", ".pytest_cache", ".ruff_cache")
EXAMPLE_CACHES = shutil.ignore_patterns("build", "dist", "*.egg-info", "__pycache__", ".pytest_cache", ".ruff_cache")


def _build(root: Path) -> Path:
    """Copy Madoguchi and the example (pip builds in the source folder) and install both."""
    madoguchi_src, example_src = root / "src" / "madoguchi", root / "src" / "madoguchi-example-plugin"
    shutil.rmtree(root / "src", ignore_errors=True)
    shutil.copytree(ROOT, madoguchi_src, ignore=NOT_SHIPPED)
    shutil.copytree(EXAMPLE, example_src, ignore=EXAMPLE_CACHES)
    venv = root / "venv"
    shutil.rmtree(venv, ignore_errors=True)
    # No pip of its own (ensurepip alone takes longer than the rest): the test environment's
    # packages, pip among them, are visible through the .pth file, after the new environment's own.
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", venv], check=True, capture_output=True)
    python = venv / "bin" / "python"
    site_packages = subprocess.run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                                   check=True, capture_output=True, text=True).stdout.strip()
    Path(site_packages, "madoguchi-test-environment.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    subprocess.run([python, "-m", "pip", "install", "--quiet", "--no-compile", madoguchi_src,
                    f"{example_src}[test]"], check=True, capture_output=True, text=True, timeout=900)
    return venv


@pytest.fixture(scope="session")
def example_venv(tmp_path_factory, worker_id) -> Path:
    """A virtual environment with Madoguchi and the example plugin installed, one per session."""
    shared = tmp_path_factory.getbasetemp()
    if worker_id != "master":  # xdist: the parent of the workers' folders is shared by all of them
        shared = shared.parent
    root = shared / "example-plugin"
    root.mkdir(exist_ok=True)
    with (root / "lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (root / "ready").exists():
            _build(root)
            (root / "ready").touch()
    return root / "venv"


def _command(example_venv: Path, folder: Path, database: Path):
    """``run(*args, **env)``: the installed command on ``database``; JSON output parsed."""
    base_env = {name: value for name, value in os.environ.items()
                if not name.startswith("MADOGUCHI_") and name not in ("PYTHONPATH", "VIRTUAL_ENV")}
    base_env.update(MADOGUCHI_HOME=str(folder / "home"), MADOGUCHI_DATABASE_URL=f"sqlite:///{database}")

    def run(*args: str, **env: str):
        result = subprocess.run([example_venv / "bin" / "madoguchi", *args], env={**base_env, **env}, cwd=folder,
                                capture_output=True, text=True, timeout=120)
        assert result.returncode == 0, f"madoguchi {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}"
        return json.loads(result.stdout) if "--json" in args else result.stdout

    return run


@pytest.fixture(scope="session")
def upgraded_database(example_venv, tmp_path_factory) -> Path:
    """A database created by the installed ``madoguchi db upgrade``, once; each test gets a copy."""
    folder = tmp_path_factory.mktemp("example-database")
    _command(example_venv, folder, folder / "madoguchi.db")("db", "upgrade")
    return folder / "madoguchi.db"


@pytest.fixture
def madoguchi(example_venv, upgraded_database, tmp_path):
    """``madoguchi(*args, **env)``: the installed command on a fresh SQLite database; JSON output parsed."""
    shutil.copy(upgraded_database, tmp_path / "madoguchi.db")
    return _command(example_venv, tmp_path, tmp_path / "madoguchi.db")


def test_the_example_runs_in_a_service_task(madoguchi, tmp_path):
    diagram = write(tmp_path, "resident-card.bpmn", process("resident_card", "\n".join([
        '<bpmn:startEvent id="s"/>',
        service_task("birth_date_as_wareki", "example.wareki", {"date": "birth_date"},
                     result_variable="birth_date_wareki"),
        user_task("review", "審査", groups="shimin"), '<bpmn:endEvent id="e"/>',
        chain("s", "birth_date_as_wareki", "review", "e")])))

    deployed = madoguchi("deploy", str(diagram), "--json")
    started = madoguchi("start", "resident_card", "--data", '{"birth_date": "1989-01-07"}', "--as", "yamada",
                        "--json")
    before = madoguchi("show", str(started["id"]), "--json")
    worker = madoguchi("worker", "--once")
    after = madoguchi("show", str(started["id"]), "--json")

    assert [d["key"] for d in deployed["deployed"]] == ["resident_card"]
    assert "birth_date_wareki" not in before["data"] and before["open_tasks"] == []
    assert worker.strip() == "ran 1 job(s)"
    assert after["data"]["birth_date_wareki"] == {"text": "昭和64年1月7日", "era": "昭和", "year": 64}
    assert [task["element_id"] for task in after["open_tasks"]] == ["review"]


def test_the_example_is_listed_with_its_hooks_settings_and_version(madoguchi):
    rows = madoguchi("plugins", "--json", MADOGUCHI_EXAMPLE_CHAT_TOKEN="s3cret-token",
                     MADOGUCHI_EXAMPLE_GANNEN="false")

    [row] = [row for row in rows if row["name"] == "example"]
    assert (row["version"], row["builtin"]) == ("0.1.0", False)
    assert row["hooks"] == ["madoguchi_operations", "madoguchi_plugin_settings", "madoguchi_register_commands",
                            "madoguchi_startup"]
    assert {name: (s["variable"], s["value"]) for name, s in row["settings"].items()} == {
        "gannen": ("MADOGUCHI_EXAMPLE_GANNEN", False),
        "chat_url": ("MADOGUCHI_EXAMPLE_CHAT_URL", ""),
        "chat_token": ("MADOGUCHI_EXAMPLE_CHAT_TOKEN", "***")}


def test_the_example_command_and_its_setting(madoguchi):
    assert madoguchi("wareki", "2019-05-01") == "令和元年5月1日\n"
    assert madoguchi("wareki", "2019-05-01", MADOGUCHI_EXAMPLE_GANNEN="false") == "令和1年5月1日\n"
    assert "wareki" in madoguchi("--help")


def test_blocking_the_example_removes_it(madoguchi):
    rows = madoguchi("plugins", "--json", MADOGUCHI_BLOCK_PLUGINS="example")
    assert "example" not in [row["name"] for row in rows]
    assert "wareki" not in madoguchi("--help", MADOGUCHI_BLOCK_PLUGINS="example")


def test_the_examples_own_tests_pass(example_venv, tmp_path):
    # The tests a plugin author runs (tutorial: "Testing the plugin"), against the installed package.
    tests = tmp_path / "madoguchi-example-plugin"
    shutil.copytree(EXAMPLE, tests, ignore=EXAMPLE_CACHES)
    env = {name: value for name, value in os.environ.items()
           if not name.startswith("MADOGUCHI_") and name not in ("PYTHONPATH", "VIRTUAL_ENV")}
    result = subprocess.run([example_venv / "bin" / "python", "-m", "pytest", "-q", "-p", "no:cacheprovider"],
                            cwd=tests, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
