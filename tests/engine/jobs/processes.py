"""Real ``madoguchi worker`` processes for the tests: started with the test plugin, watched
through their log file, stopped with real signals."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]
PLUGIN = "tests.engine.jobs.plugin_fixtures"


class WorkerProcess:
    def __init__(self, database_url: str, home: Path, label: str, *args: str, env: dict | None = None):
        self.label = label
        self.log_path = home / f"worker-{label}.log"
        environment = {
            **os.environ,
            "MADOGUCHI_DATABASE_URL": database_url,
            "MADOGUCHI_HOME": str(home),
            "MADOGUCHI_PLUGINS": PLUGIN,
            "FIXTURE_WORKER_LABEL": label,
            "PYTHONPATH": os.pathsep.join(p for p in (str(REPO), os.environ.get("PYTHONPATH")) if p),
            "PYTHONUNBUFFERED": "1",
            **(env or {}),
        }
        self._log = open(self.log_path, "w", encoding="utf-8")  # noqa: SIM115 — closed in wait()
        command = [sys.executable, "-c", "from engine.cli import main; main()", "worker", "--name", label, *args]
        self.process = subprocess.Popen(command, cwd=REPO, env=environment, stdout=self._log,
                                        stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)

    @property
    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8")

    def wait_until_running(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while "running with" not in self.log:
            if self.process.poll() is not None:
                raise AssertionError(f"worker {self.label} exited with {self.process.returncode}:\n{self.log}")
            assert time.monotonic() < deadline, f"worker {self.label} did not start:\n{self.log}"
            time.sleep(0.05)

    def signal(self, signum: int) -> None:
        self.process.send_signal(signum)

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.wait(timeout=30)

    def wait(self, timeout: float = 60.0) -> int:
        try:
            return self.process.wait(timeout=timeout)
        finally:
            if self.process.poll() is None:
                self.process.kill()
                self.process.wait(timeout=30)
            self._log.close()

    def stop(self, timeout: float = 60.0) -> int:
        """SIGTERM, then wait for the exit code (killed and failed if it does not come)."""
        if self.process.poll() is None:
            self.signal(signal.SIGTERM)
        try:
            return self.wait(timeout)
        except subprocess.TimeoutExpired as exc:
            raise AssertionError(f"worker {self.label} ignored SIGTERM for {timeout} s:\n{self.log}") from exc


def run_cli_once(database_url: str, home: Path, *args: str, env: dict | None = None,
                 timeout: float = 300) -> subprocess.CompletedProcess:
    """``madoguchi ARGS`` as a separate process (with the test plugin), waited for."""
    environment = {
        **os.environ, "MADOGUCHI_DATABASE_URL": database_url, "MADOGUCHI_HOME": str(home),
        "MADOGUCHI_PLUGINS": PLUGIN,
        "PYTHONPATH": os.pathsep.join(p for p in (str(REPO), os.environ.get("PYTHONPATH")) if p), **(env or {}),
    }
    return subprocess.run([sys.executable, "-c", "from engine.cli import main; main()", *args], cwd=REPO,
                          env=environment, capture_output=True, text=True, timeout=timeout)
