"""Run the real filterd daemon as a separate process on free loopback ports, for tests."""

from __future__ import annotations

import os
import random
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

import yaml

from tests.support.dns_client import udp_exchange
from tests.support.upstream_process import PROJECT_ROOT

READY_PROBE = (
    b"\x00\x01\x00\x00\x00\x01\x00\x00\x00\x00\x00\x00\x05ready\x04test\x00\x00\xff\x00\x01"
)

UPSTREAM_TIMEOUT = 0.5  # upstream_timeout in the test config


# Ports handed out are chosen below the kernel's ephemeral range (32768-60999 by default), so
# an outgoing socket of any process (filterd asking its upstream, a browser) cannot take one
# between our check and filterd's bind; and never the same one twice in this test run.
_PORT_RANGE = (20000, 32700)
_handed_out: set[int] = set()


def free_port(host: str = "127.0.0.1") -> int:
    """A port free for both UDP and TCP on host, outside the ephemeral range."""
    for _ in range(200):
        port = random.randrange(*_PORT_RANGE)
        if port in _handed_out:
            continue
        try:
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as tcp:
                tcp.bind((host, port))
                with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
                    udp.bind((host, port))
        except OSError:
            continue
        _handed_out.add(port)
        return port
    raise RuntimeError("no free port")


class FilterdProcess:
    """`python -m filterd run --config FILE` with a config written for this test."""

    def __init__(
        self, workdir: Path, upstreams: list[str], *, netns: str | None = None, **overrides: Any
    ) -> None:
        self.workdir = workdir
        self.netns = netns  # run inside this network namespace (`ip netns exec NETNS ...`)
        self.port = free_port()
        self.metrics_port = free_port()
        self.config_path = workdir / "filterd.yaml"
        self.db_path = workdir / "filterd.db"
        self.log_path = workdir / "filterd.log"
        self.config: dict[str, Any] = {
            "listen": [f"127.0.0.1:{self.port}"],
            "upstreams": upstreams,
            "upstream_timeout": UPSTREAM_TIMEOUT,
            "database": str(self.db_path),
            "metrics": f"127.0.0.1:{self.metrics_port}",
            "rate_limit": {"queries_per_second": 0},
        }
        self.config.update(overrides)
        self._own_ports = "listen" not in overrides and "metrics" not in overrides
        if "listen" in overrides:  # the first listen address is the one tests query
            self.port = int(overrides["listen"][0].rpartition(":")[2])
        self.proc: subprocess.Popen[bytes] | None = None

    def write_config(self, config: dict[str, Any] | None = None, text: str | None = None) -> None:
        if text is None:
            text = yaml.safe_dump(config if config is not None else self.config)
        self.config_path.write_text(text)

    def start(self, env: dict[str, str] | None = None) -> FilterdProcess:
        """Start filterd and wait until it answers; new ports if another process took ours."""
        for attempt in range(3):
            try:
                return self._start_once(env)
            except RuntimeError as failed:
                taken = "Address already in use" in str(failed)
                if not (taken and self._own_ports and attempt < 2):
                    raise
                self.port, self.metrics_port = free_port(), free_port()
                self.config["listen"] = [f"127.0.0.1:{self.port}"]
                self.config["metrics"] = f"127.0.0.1:{self.metrics_port}"
        raise AssertionError("unreachable")

    def _start_once(self, env: dict[str, str] | None) -> FilterdProcess:
        self.write_config()
        run_env = dict(os.environ, PYTHONPATH=str(PROJECT_ROOT), **(env or {}))
        config, logged_before = str(self.config_path), len(self.log())
        self.proc = start_logged(
            [*self._inside(), sys.executable, "-m", "filterd", "run", "--config", config],
            self.log_path,
            cwd=self.workdir,
            env=run_env,
        )
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"filterd exited early:\n{self.log()}")
            if self.netns is not None:  # our probe cannot reach it: it says when it is ready
                if "filterd answering on" in self.log()[logged_before:]:
                    return self
                time.sleep(0.05)
            elif udp_exchange(self.port, READY_PROBE, timeout=0.2) is not None:
                return self
        raise RuntimeError(f"filterd did not answer within 15 s:\n{self.log()}")

    def _inside(self) -> list[str]:
        return [] if self.netns is None else ["ip", "netns", "exec", self.netns]

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def signal(self, sig: int) -> None:
        assert self.proc is not None
        self.proc.send_signal(sig)

    def signal_group(self, sig: int) -> None:
        """Signal filterd and its helper processes at once, as Ctrl-C or systemd stop do."""
        assert self.proc is not None
        os.killpg(self.proc.pid, sig)

    def stop(self, timeout: float = 10) -> int:
        """SIGTERM, wait; returns the exit code."""
        return stop_process(self.proc, timeout)

    def metrics(self) -> str:
        url = f"http://127.0.0.1:{self.metrics_port}/metrics"
        if self.netns is not None:  # fetched from inside the namespace
            fetch = f"import urllib.request; print(urllib.request.urlopen({url!r}).read().decode())"
            command = [*self._inside(), sys.executable, "-c", fetch]
            return subprocess.run(
                command, capture_output=True, text=True, check=True, timeout=10
            ).stdout
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.read().decode()

    def metric(self, name: str, **labels: str) -> float:
        """Sum of a metric's samples whose labels include the given ones (0 when absent)."""
        total = 0.0
        for line in self.metrics().splitlines():
            if line.startswith("#") or not line.startswith(name):
                continue
            head, _, value = line.rpartition(" ")
            metric, _, label_text = head.partition("{")
            if metric != name:
                continue
            if all(f'{k}="{v}"' in label_text for k, v in labels.items()):
                total += float(value)
        return total


def start_logged(command: list[str], log: Path, **popen: Any) -> subprocess.Popen:
    """`command` in a process group of its own, as under systemd, its output appended to
    `log`; `popen`: more subprocess.Popen arguments (cwd, env)."""
    with log.open("ab") as out:
        return subprocess.Popen(
            command, stdout=out, stderr=subprocess.STDOUT, start_new_session=True, **popen
        )


def stop_process(proc: subprocess.Popen | None, timeout: float = 10) -> int:
    """SIGTERM, wait; the exit code (a process that will not stop is killed, and that raises)."""
    if proc is None or proc.poll() is not None:
        return proc.returncode if proc else 0
    proc.send_signal(signal.SIGTERM)
    try:
        return proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        raise


def run_cli(
    *args: str, cwd: Path = PROJECT_ROOT, timeout: float = 60
) -> subprocess.CompletedProcess:
    """`python -m filterd ARGS` to completion, output captured as text."""
    return subprocess.run(
        [sys.executable, "-m", "filterd", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=timeout,
    )


def wait_for(predicate, timeout: float = 5.0, interval: float = 0.02) -> bool:
    """Poll predicate until it is true or the timeout passes; its last verdict."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return predicate()
