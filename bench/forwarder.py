"""Forwarder benchmark: filterd vs dnsmasq on a warm cache, same upstream, same names.

Per server: warm the cache, check a second pass is fully answered, then measure saturated
throughput, latency at a fixed 2,000 q/s, and peak RSS. The servers run one after the
other on the server core, so they never compete with each other.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bench import dnsperf, servers
from bench.dnsperf import Load
from bench.machine import Pinning
from bench.options import RunOptions
from bench.queries import NAME_COUNT, PROBE_NAME, write_query_file
from bench.report import fmt, format_table

if TYPE_CHECKING:
    from tests.support.upstream_process import ScriptedUpstream

NAME = "forwarder"

LATENCY_QPS = 2000
WARM = Load(passes=1, max_qps=2000)
"""Moderate rate for the cold pass: every query goes to the (Python) test upstream."""
VERIFY = Load(passes=1, max_qps=20000)
"""Second pass: must be answered in full, from the cache."""
WARM_ATTEMPTS = 3

THROUGHPUT_TARGET = 0.5
"""filterd should reach at least half of dnsmasq's queries/s."""
P99_TARGET_MS = 1.0
"""filterd's p99 at 2,000 q/s should be within this of dnsmasq's."""


def saturate_load(seconds: float) -> Load:
    """As fast as the server answers: 100 outstanding over 4 sockets kept dnsmasq at ~97%
    CPU here without the end-of-run losses that a larger window (-q 500+) produced."""
    return Load(seconds=seconds, outstanding=100, clients=4)


def latency_load(seconds: float) -> Load:
    """Fixed moderate rate with per-query latencies (-v) for percentiles."""
    return Load(seconds=seconds, max_qps=LATENCY_QPS, verbose=True)


def _warm(
    server: servers.Server, upstream: ScriptedUpstream, query_file: Path, pinning: Pinning
) -> dict[str, Any]:
    """Fill the cache, then prove every name is answered from it; raises if not answered."""
    passes = []
    for _ in range(WARM_ATTEMPTS):
        warm = dnsperf.run(WARM, server.port, query_file, pinning)
        server.check_alive()
        passes.append(warm.as_json())
        if warm.noerror == NAME_COUNT:
            break
    upstream.clear_log()
    verify = dnsperf.run(VERIFY, server.port, query_file, pinning)
    server.check_alive()
    forwarded = len(upstream.queries())  # a fully warm cache forwards nothing
    if verify.noerror != NAME_COUNT:
        raise servers.ServerError(
            f"{server.name}: second pass answered {verify.noerror}/{NAME_COUNT} NOERROR "
            f"(rcodes {verify.rcodes}, lost {verify.lost})"
        )
    return {
        "warm_passes": passes,
        "verify": verify.as_json(),
        "verify_forwarded_upstream": forwarded,
    }


def measure(
    name: str,
    upstream: ScriptedUpstream,
    query_file: Path,
    workdir: Path,
    options: RunOptions,
    pinning: Pinning,
) -> dict[str, Any]:
    """All phases for one server; the server is stopped before this returns."""
    durations = options.durations
    started = time.monotonic()
    with servers.start(name, upstream.addr, workdir, pinning, PROBE_NAME) as server:
        startup = time.monotonic() - started
        start_rss_kib = server.peak_rss_kib()  # before any names are cached
        warm = _warm(server, upstream, query_file, pinning)

        cpu_before, wall_before = server.cpu_seconds(), time.monotonic()
        saturated = dnsperf.run(
            saturate_load(durations.saturate_seconds), server.port, query_file, pinning
        )
        cpu_busy = (server.cpu_seconds() - cpu_before) / (time.monotonic() - wall_before)
        server.check_alive()

        latency = dnsperf.run(
            latency_load(durations.latency_seconds), server.port, query_file, pinning
        )
        server.check_alive()
        peak_rss_kib = server.peak_rss_kib()
        command = server.process.args
    pct = latency.percentiles_ms or {}
    return {
        "command": [str(a) for a in command] if isinstance(command, list) else str(command),
        "startup_seconds": round(startup, 3),
        "throughput_qps": saturated.qps,
        "throughput_lost": saturated.lost,
        "throughput_server_cpu_busy": round(cpu_busy, 3),
        "latency_qps": latency.qps,
        "latency_p50_ms": pct.get("p50"),
        "latency_p99_ms": pct.get("p99"),
        "latency_lost": latency.lost,
        "start_rss_kib": start_rss_kib,
        "peak_rss_kib": peak_rss_kib,
        "saturated": saturated.as_json(),
        "latency": latency.as_json(),
        **warm,
    }


def _ratio(a: float | None, b: float | None) -> float | None:
    """a / b, or None when either side is missing."""
    return a / b if a is not None and b else None


def compare(results: dict[str, dict[str, Any]]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Ratios filterd/dnsmasq and the two targets; empty unless both servers were measured."""
    f, d = results.get("filterd", {}), results.get("dnsmasq", {})
    if "error" in f or "error" in d or not f or not d:
        return {}, []
    ratios = {
        "throughput": _ratio(f["throughput_qps"], d["throughput_qps"]),
        "p50": _ratio(f["latency_p50_ms"], d["latency_p50_ms"]),
        "p99": _ratio(f["latency_p99_ms"], d["latency_p99_ms"]),
        "p99_diff_ms": f["latency_p99_ms"] - d["latency_p99_ms"],
        "peak_rss": _ratio(f["peak_rss_kib"], d["peak_rss_kib"]),
    }
    targets = [
        {
            "target": f"filterd throughput >= {THROUGHPUT_TARGET} x dnsmasq",
            "value": ratios["throughput"],
            "pass": ratios["throughput"] is not None and ratios["throughput"] >= THROUGHPUT_TARGET,
        },
        {
            "target": f"filterd p99 at {LATENCY_QPS} q/s within {P99_TARGET_MS:g} ms of dnsmasq",
            "value": ratios["p99_diff_ms"],
            "pass": ratios["p99_diff_ms"] <= P99_TARGET_MS,
        },
    ]
    return ratios, targets


def run(options: RunOptions, pinning: Pinning) -> dict[str, Any]:
    """Start the upstream once, measure each selected server against it, compare."""
    from tests.support.upstream_process import ScriptedUpstream  # written alongside filterd

    durations = options.durations
    results: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory(prefix="filterd-bench-") as tmp:
        tmpdir = Path(tmp)
        query_file = write_query_file(tmpdir)
        with ScriptedUpstream(host=servers.LOOPBACK) as upstream:
            # dnsmasq first: the baseline, so a filterd crash still leaves a reference number
            for name in sorted(options.servers, key=lambda s: s != "dnsmasq"):
                workdir = tmpdir / name
                workdir.mkdir()
                print(f"[{NAME}] {name}: warming cache and measuring ...", flush=True)
                try:
                    results[name] = measure(name, upstream, query_file, workdir, options, pinning)
                except (servers.ServerError, dnsperf.DnsperfError) as exc:
                    print(f"[{NAME}] {name}: could not run: {exc}", flush=True)
                    results[name] = {"error": str(exc)}
            upstream_addr = upstream.addr
    ratios, targets = compare(results)
    return {
        "benchmark": NAME,
        "quick": options.quick,
        "settings": {
            "names": NAME_COUNT,
            "upstream": upstream_addr,
            "warm": vars(WARM),
            "verify": vars(VERIFY),
            "saturate": vars(saturate_load(durations.saturate_seconds)),
            "latency": vars(latency_load(durations.latency_seconds)),
            "dnsperf_query_timeout_s": dnsperf.QUERY_TIMEOUT,
            "cache_entries": servers.CACHE_ENTRIES,
        },
        "servers": results,
        "ratios": ratios,
        "targets": targets,
    }


def failed(data: dict[str, Any]) -> bool:
    """True when a selected server could not be measured."""
    return any("error" in r for r in data["servers"].values())


def summary(data: dict[str, Any]) -> str:
    """Short human table: one column per server, then ratios and PASS/MISS lines."""
    names = [n for n in ("filterd", "dnsmasq") if n in data["servers"]]
    res = data["servers"]
    ratios = data["ratios"]

    def cell(name: str, key: str, digits: int, scale: float = 1.0) -> str:
        value = res[name].get(key)
        return fmt(None if value is None else value * scale, digits)

    def ratio(key: str, digits: int = 2, suffix: str = "x") -> str:
        return fmt(ratios.get(key), digits, suffix) if ratios else "-"

    rows = [
        ["throughput (q/s)", *(cell(n, "throughput_qps", 0) for n in names), ratio("throughput")],
        ["  lost", *(cell(n, "throughput_lost", 0) for n in names), ""],
        ["  server CPU busy", *(cell(n, "throughput_server_cpu_busy", 2) for n in names), ""],
        [
            f"p50 @{LATENCY_QPS} q/s (ms)",
            *(cell(n, "latency_p50_ms", 3) for n in names),
            ratio("p50"),
        ],
        [
            f"p99 @{LATENCY_QPS} q/s (ms)",
            *(cell(n, "latency_p99_ms", 3) for n in names),
            ratio("p99"),
        ],
        ["  p99 filterd - dnsmasq (ms)", *("" for _ in names), ratio("p99_diff_ms", 3, "")],
        ["start RSS (MiB)", *(cell(n, "start_rss_kib", 1, 1 / 1024) for n in names), ""],
        [
            "peak RSS (MiB)",
            *(cell(n, "peak_rss_kib", 1, 1 / 1024) for n in names),
            ratio("peak_rss"),
        ],
    ]
    lines = [format_table(["", *names, "filterd/dnsmasq"], rows)]
    for name in names:
        if "error" in res[name]:
            lines.append(f"{name}: NOT RUN: {res[name]['error'].splitlines()[0]}")
        elif res[name].get("verify_forwarded_upstream"):
            n = res[name]["verify_forwarded_upstream"]
            lines.append(f"note: {name} forwarded {n} queries upstream on the warm second pass")
    for t in data["targets"]:
        value = fmt(t["value"], 3)
        lines.append(f"{'PASS' if t['pass'] else 'MISS'}  {t['target']}  (measured {value})")
    return "\n".join(lines)
