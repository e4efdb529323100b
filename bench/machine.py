"""Describe the machine and pin CPUs, so numbers from different runs can be compared honestly."""

from __future__ import annotations

import os
import platform
import re
import subprocess
from dataclasses import dataclass
from typing import Any

SERVER_CPU = 0
"""The server under test gets this core to itself, as in the design's numbers."""
CLIENT_CPU = 1
"""dnsperf, the upstream and the harness share this core, away from the server."""


@dataclass(frozen=True)
class Pinning:
    """Which cores to use, or none when the machine has fewer than two."""

    server_cpu: int | None
    client_cpu: int | None

    @property
    def enabled(self) -> bool:
        """True when server and load generator run on separate cores."""
        return self.server_cpu is not None

    def prefix(self, cpu: int | None) -> list[str]:
        """``taskset`` argv prefix that pins an exec'd command (same PID) to ``cpu``."""
        return [] if cpu is None else ["taskset", "-c", str(cpu)]


def choose_pinning() -> Pinning:
    """Pin only when cores 0 and 1 are both available to us; otherwise run unpinned."""
    available = os.sched_getaffinity(0)
    if {SERVER_CPU, CLIENT_CPU} <= available:
        return Pinning(SERVER_CPU, CLIENT_CPU)
    return Pinning(None, None)


def pin_self(pinning: Pinning) -> None:
    """Move the harness to the client core; children (the upstream) inherit it."""
    if pinning.client_cpu is not None:
        os.sched_setaffinity(0, {pinning.client_cpu})


def cpu_model() -> str:
    """The first 'model name' in /proc/cpuinfo (what the numbers were measured on)."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def tool_version(argv: list[str], pattern: str) -> str:
    """First regex group of ``pattern`` in a tool's output, or 'unknown'."""
    try:
        out = subprocess.run(argv, capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"
    match = re.search(pattern, out.stdout + out.stderr)
    return match.group(1) if match else "unknown"


def describe(pinning: Pinning) -> dict[str, Any]:
    """Everything about the host a reader needs to judge the numbers."""
    load1, load5, load15 = os.getloadavg()
    return {
        "nproc": os.cpu_count(),
        "cpus_available": sorted(os.sched_getaffinity(0)),
        "cpu_model": cpu_model(),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "loadavg_before": {"1m": load1, "5m": load5, "15m": load15},
        "pinning": {
            "enabled": pinning.enabled,
            "server_cpu": pinning.server_cpu,
            "client_cpu": pinning.client_cpu,
        },
        "dnsperf_version": tool_version(["dnsperf", "-h"], r"Version (\S+)"),
        "dnsmasq_version": tool_version(["dnsmasq", "--version"], r"Dnsmasq version (\S+)"),
    }
