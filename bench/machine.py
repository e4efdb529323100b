"""Describe the machine and pin CPUs, so numbers from different runs can be compared honestly."""

from __future__ import annotations

import os
import platform
import re
import subprocess
import time
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


def cpu_times() -> dict[int, tuple[float, float, float]]:
    """Per-CPU (busy, steal, total) jiffies from /proc/stat; iowait counts as idle.

    These are tick samples: right for a core that is nearly always busy or nearly always
    idle, unreliable for one that wakes briefly thousands of times a second."""
    times: dict[int, tuple[float, float, float]] = {}
    with open("/proc/stat", encoding="ascii") as f:
        for line in f:
            name, *fields = line.split()
            if name.startswith("cpu") and name != "cpu":
                values = [float(v) for v in fields[:8]]
                idle = values[3] + values[4]
                times[int(name[3:])] = (sum(values) - idle, values[7], sum(values))
    return times


def busy_since(before: dict[int, tuple[float, float, float]]) -> dict[int, dict[str, float]]:
    """Per CPU since ``before``: share busy, and share stolen by the hypervisor (time this
    VM wanted the CPU but the host ran something else: a noisy neighbour)."""
    shares = {}
    for cpu, (busy, steal, total) in cpu_times().items():
        if cpu in before:
            then_busy, then_steal, then_total = before[cpu]
            elapsed = max(total - then_total, 1.0)
            shares[cpu] = {
                "busy": round((busy - then_busy) / elapsed, 3),
                "steal": round((steal - then_steal) / elapsed, 3),
            }
    return shares


def background_busy(seconds: float = 1.0) -> dict[int, float]:
    """How busy each CPU is before we start anything: other work skews every number."""
    before = cpu_times()
    time.sleep(seconds)
    return {cpu: share["busy"] for cpu, share in busy_since(before).items()}


def cpu_pressure_seconds() -> float | None:
    """Total time some runnable task waited for a CPU (PSI), or None without PSI."""
    try:
        with open("/proc/pressure/cpu", encoding="ascii") as f:
            for line in f:
                if line.startswith("some"):
                    return int(line.rsplit("total=", 1)[1]) / 1e6
    except (OSError, ValueError, IndexError):
        pass
    return None


QUIET = 0.10
"""A CPU busier than this (share of one second) means someone else is using the machine."""


def wait_quiet(max_seconds: float) -> tuple[float, dict[int, float]]:
    """Wait (up to ``max_seconds``) until every CPU is below QUIET for a full second.

    On a shared machine (CI, other people's test runs) this avoids measuring through
    someone else's burst. Returns the seconds waited and the last sample."""
    started = time.monotonic()
    while True:
        busy = background_busy(1.0)
        waited = time.monotonic() - started
        if max(busy.values(), default=0.0) <= QUIET or waited >= max_seconds:
            return round(waited, 1), busy


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
        "cpu_busy_before": background_busy(),
        "pinning": {
            "enabled": pinning.enabled,
            "server_cpu": pinning.server_cpu,
            "client_cpu": pinning.client_cpu,
        },
        "dnsperf_version": tool_version(["dnsperf", "-h"], r"Version (\S+)"),
        "dnsmasq_version": tool_version(["dnsmasq", "--version"], r"Dnsmasq version (\S+)"),
    }
