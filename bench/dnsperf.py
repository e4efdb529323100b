"""Run dnsperf against one server and turn its text output into numbers.

dnsperf 2.10 prints only average/stddev latency; percentiles come from ``-v``, which
prints one ``> RCODE name type latency`` line per answered query (``> T ...`` on timeout).
"""

from __future__ import annotations

import math
import re
import subprocess
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from bench.machine import Pinning
from bench.servers import LOOPBACK

QUERY_TIMEOUT = 2
"""Seconds before dnsperf counts a query lost; the cache is warm, so 2 s is generous and
keeps one dropped packet from pinning an outstanding slot for dnsperf's default 5 s."""


@dataclass
class Load:
    """How dnsperf drives the server for one phase."""

    seconds: float | None = None  # -l; None: stop at the end of the file (with passes)
    passes: int | None = None  # -n
    max_qps: int | None = None  # -Q; None: as fast as the outstanding window allows
    outstanding: int = 100  # -q
    clients: int = 4  # -c (source sockets)
    verbose: bool = False  # -v: per-query latency lines

    def argv(self, port: int, query_file: Path) -> list[str]:
        """dnsperf command line for this load (loopback only)."""
        argv = ["dnsperf", "-s", LOOPBACK, "-p", str(port), "-d", str(query_file)]
        argv += ["-t", str(QUERY_TIMEOUT), "-q", str(self.outstanding), "-c", str(self.clients)]
        argv += ["-T", "1"]  # one thread: dnsperf has a single core of its own
        if self.seconds is not None:
            argv += ["-l", f"{self.seconds:g}"]
        if self.passes is not None:
            argv += ["-n", str(self.passes)]
        if self.max_qps is not None:
            argv += ["-Q", str(self.max_qps)]
        if self.verbose:
            argv.append("-v")
        return argv


@dataclass
class Result:
    """dnsperf's summary, plus latency percentiles when run with -v."""

    argv: list[str]
    sent: int = 0
    completed: int = 0
    lost: int = 0
    rcodes: dict[str, int] = field(default_factory=dict)
    run_seconds: float = 0.0
    qps: float = 0.0
    avg_latency_ms: float = 0.0
    min_latency_ms: float = 0.0
    max_latency_ms: float = 0.0
    stddev_latency_ms: float = 0.0
    percentiles_ms: dict[str, float] | None = None
    timeouts: int = 0
    warnings: list[str] = field(default_factory=list)

    @property
    def noerror(self) -> int:
        """Queries answered NOERROR (a blocked or failed name would show another rcode)."""
        return self.rcodes.get("NOERROR", 0)

    def as_json(self) -> dict[str, Any]:
        """Plain dict for the results file."""
        return asdict(self)


PERCENTILES = (50.0, 90.0, 99.0, 99.9)


def percentile(sorted_values: list[float], pct: float) -> float:
    """Nearest-rank percentile: the smallest value with at least pct% of samples at or below."""
    if not sorted_values:
        return math.nan
    rank = max(1, math.ceil(pct / 100 * len(sorted_values)))
    return sorted_values[rank - 1]


_NUMBER = r"([0-9.]+)"
_SUMMARY = {
    "sent": re.compile(r"Queries sent:\s+(\d+)"),
    "completed": re.compile(r"Queries completed:\s+(\d+)"),
    "lost": re.compile(r"Queries lost:\s+(\d+)"),
    "run_seconds": re.compile(r"Run time \(s\):\s+" + _NUMBER),
    "qps": re.compile(r"Queries per second:\s+" + _NUMBER),
}
_AVG = re.compile(rf"Average Latency \(s\):\s+{_NUMBER} \(min {_NUMBER}, max {_NUMBER}\)")
_STDDEV = re.compile(r"Latency StdDev \(s\):\s+" + _NUMBER)
_RCODES = re.compile(r"Response codes:\s+(.*)")
_RCODE_ITEM = re.compile(r"([A-Z]+) (\d+) \(")
_VERBOSE = re.compile(r"^> (\S+) \S+ \S+(?: ([0-9.]+))?$")


def _ms(seconds: str) -> float:
    """dnsperf's seconds (microsecond resolution) as milliseconds, without float noise."""
    return round(float(seconds) * 1000, 3)


def parse(argv: list[str], stdout: str, stderr: str) -> Result:
    """Parse dnsperf's statistics block and any -v per-query lines."""
    result = Result(argv=argv)
    for key, pattern in _SUMMARY.items():
        match = pattern.search(stdout)
        if match:
            is_count = key in ("sent", "completed", "lost")
            setattr(result, key, int(match[1]) if is_count else float(match[1]))
    if match := _AVG.search(stdout):
        result.avg_latency_ms, result.min_latency_ms, result.max_latency_ms = (
            _ms(match[i]) for i in (1, 2, 3)
        )
    if match := _STDDEV.search(stdout):
        result.stddev_latency_ms = _ms(match[1])
    if match := _RCODES.search(stdout):
        result.rcodes = {code: int(n) for code, n in _RCODE_ITEM.findall(match[1])}
    latencies: list[float] = []
    for line in stdout.splitlines():
        if match := _VERBOSE.match(line):
            if match[2] is not None:
                latencies.append(_ms(match[2]))
            elif match[1] == "T":
                result.timeouts += 1
    if latencies:
        latencies.sort()
        result.percentiles_ms = {f"p{p:g}": percentile(latencies, p) for p in PERCENTILES}
    result.warnings = [line.strip() for line in stderr.splitlines() if line.strip()][:20]
    return result


class DnsperfError(RuntimeError):
    """dnsperf failed or printed no statistics."""


def run(load: Load, port: int, query_file: Path, pinning: Pinning) -> Result:
    """Run dnsperf on the client core and parse its output."""
    argv = pinning.prefix(pinning.client_cpu) + load.argv(port, query_file)
    budget = (load.seconds or 120) + QUERY_TIMEOUT + 30
    try:
        done = subprocess.run(
            argv, capture_output=True, text=True, timeout=budget, stdin=subprocess.DEVNULL
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise DnsperfError(f"dnsperf could not run: {exc}") from exc
    if done.returncode != 0 or "Statistics:" not in done.stdout:
        tail = "\n".join((done.stdout + done.stderr).splitlines()[-15:])
        raise DnsperfError(f"dnsperf failed (exit {done.returncode}):\n{tail}")
    return parse(argv, done.stdout, done.stderr)
