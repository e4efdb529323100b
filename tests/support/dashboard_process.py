"""Run the real dashboard (`python -m filterd dashboard --config FILE`) as a process, for tests."""

from __future__ import annotations

import os
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from tests.support.filterd_process import stop_process
from tests.support.upstream_process import PROJECT_ROOT


class DashboardProcess:
    """The dashboard served over HTTPS on the config's `dashboard.listen`."""

    def __init__(self, config_path: Path, listen: str, workdir: Path) -> None:
        self.config_path = config_path
        self.workdir = workdir
        self.log_path = workdir / "dashboard.log"
        host, _, port = listen.rpartition(":")
        self.url = f"https://{host}:{port}"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 15, env: dict[str, str] | None = None) -> DashboardProcess:
        env = dict(os.environ, PYTHONPATH=str(PROJECT_ROOT), **(env or {}))
        command = [sys.executable, "-m", "filterd", "dashboard", "--config", str(self.config_path)]
        with self.log_path.open("ab") as log:
            self.proc = subprocess.Popen(
                command, cwd=self.workdir, env=env, stdout=log, stderr=subprocess.STDOUT
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"dashboard exited early:\n{self.log()}")
            if self.answers():
                return self
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"dashboard did not answer HTTP within {timeout} s:\n{self.log()}")

    def answers(self) -> bool:
        """Any HTTP response at all (a redirect or an error page is an answer)."""
        try:
            # The box's own certificate: tests that check it pass its CA to their own client.
            unverified = ssl._create_unverified_context()
            with urllib.request.urlopen(self.url + "/login", timeout=0.5, context=unverified):
                return True
        except urllib.error.HTTPError:
            return True
        except (OSError, urllib.error.URLError):
            return False

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def stop(self, timeout: float = 10) -> int:
        return stop_process(self.proc, timeout)

    def __enter__(self) -> DashboardProcess:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()
