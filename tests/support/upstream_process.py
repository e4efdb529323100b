"""Run ``tests.support.scripted_upstream`` as a separate process on a loopback port.

Usage::

    with ScriptedUpstream() as up:
        ...  # point the forwarder at up.addr ("127.0.0.1:PORT")
        assert up.queries()[0]["name"] == "nx-abc.example"
"""

from __future__ import annotations

import json
import os
import select
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parents[2]


class ScriptedUpstream:
    """A scripted upstream DNS server process (UDP + TCP on one loopback port)."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        log_path: str | os.PathLike[str] | None = None,
        python: str = sys.executable,
        ready_timeout: float = 10.0,
    ) -> None:
        self.host = host
        self.port = port
        self.python = python
        self.ready_timeout = ready_timeout
        self._tmpdir: str | None = None
        if log_path is None:
            self._tmpdir = tempfile.mkdtemp(prefix="scripted-upstream-")
            log_path = Path(self._tmpdir) / "queries.jsonl"
        self.log_path = Path(log_path)
        self.log_path.touch()
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def addr(self) -> str:
        """ "HOST:PORT" ("[::1]:PORT" for IPv6)."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def start(self) -> ScriptedUpstream:
        """Start the process (again on the same port once one was chosen); wait for READY."""
        if self.running:
            return self
        deadline = time.monotonic() + self.ready_timeout
        while True:
            try:
                self._spawn(deadline)
                return self
            except RuntimeError:
                # A restart on a fixed port can race with the old socket going away.
                if not self.port or time.monotonic() > deadline:
                    raise
                time.sleep(0.1)

    def _spawn(self, deadline: float) -> None:
        cmd = [self.python, "-m", "tests.support.scripted_upstream"]
        cmd += ["--address", self.host, "--port", str(self.port), "--log", str(self.log_path)]
        env = dict(os.environ)
        paths = [str(PROJECT_ROOT), env.get("PYTHONPATH", "")]
        env["PYTHONPATH"] = os.pathsep.join(p for p in paths if p)
        proc = subprocess.Popen(cmd, cwd=PROJECT_ROOT, env=env, stdout=subprocess.PIPE)
        assert proc.stdout is not None
        line = b""
        while not line.endswith(b"\n"):
            remaining = deadline - time.monotonic()
            ready, _, _ = select.select([proc.stdout], [], [], max(remaining, 0))
            chunk = os.read(proc.stdout.fileno(), 256) if ready else b""
            if not chunk:
                self._reap(proc)
                raise RuntimeError(f"scripted upstream did not start: {cmd} rc={proc.returncode}")
            line += chunk
        word, _, port = line.decode().strip().partition(" ")
        if word != "READY":
            self._reap(proc)
            raise RuntimeError(f"unexpected output from scripted upstream: {line!r}")
        self.port = int(port)
        self.proc = proc

    @staticmethod
    def _reap(proc: subprocess.Popen[bytes]) -> None:
        """SIGTERM, then SIGKILL after a grace period; close the stdout pipe."""
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=3)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()

    def stop(self) -> None:
        """Stop the process (the port number is kept for a later start())."""
        if self.proc is not None:
            self._reap(self.proc)
            self.proc = None

    def queries(self) -> list[dict[str, Any]]:
        """Queries logged so far, oldest first (a half-written last line is skipped)."""
        text = self.log_path.read_text(encoding="utf-8")
        return [json.loads(line) for line in text.splitlines(keepends=True) if line.endswith("\n")]

    def queries_for(self, name: str) -> list[dict[str, Any]]:
        """The logged queries for this name (case-insensitive), oldest first."""
        return [q for q in self.queries() if q["name"].lower() == name.lower()]

    def wait_queries(self, count: int, timeout: float = 2.0) -> list[dict[str, Any]]:
        """Poll the log until it holds at least ``count`` queries (or the timeout passes)."""
        deadline = time.monotonic() + timeout
        while len(found := self.queries()) < count and time.monotonic() < deadline:
            time.sleep(0.01)
        return found

    def clear_log(self) -> None:
        """Forget the queries logged so far."""
        self.log_path.write_text("", encoding="utf-8")

    def close(self) -> None:
        """Stop and remove the temporary log directory, if we made one."""
        self.stop()
        if self._tmpdir is not None:
            shutil.rmtree(self._tmpdir, ignore_errors=True)
            self._tmpdir = None

    def __enter__(self) -> ScriptedUpstream:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()
