"""CPU time a cached answer costs: filterd (this checkout, and others given with
``--baseline DIR``) and dnsmasq, in microseconds of the server's own CPU per answered query.

Queries/s at saturation depend on how much of its core the server gets, which on a shared
machine moves by 10-40% between runs. CPU time per query does not: each server is driven at a
fixed rate well below saturation (dnsperf, the forwarder benchmark's warm cache and names) and
its CPU time (scheduler nanoseconds, /proc/PID/task/*/schedstat) is divided by the queries
answered. All servers run at once, idle but the one measured, in rounds whose order rotates,
so a slow spell of the machine is shared out; the median round is the result.

The main process (the one answering) is what limits throughput; the query-log writer runs in
a process of its own and is reported beside it.
"""

from __future__ import annotations

import contextlib
import statistics
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from bench import dnsperf, forwarder, servers
from bench.dnsperf import Load
from bench.machine import Pinning
from bench.options import REPO_ROOT, RunOptions, variants
from bench.queries import PROBE_NAME, write_query_file
from bench.report import fmt, format_table

NAME = "cpu_per_query"

RATE = 10_000
"""Queries/s in each measured phase: a quarter of filterd's saturated rate here, so the
server keeps up even when the machine is busy and every query sent is answered."""
PHASE_SECONDS = 5.0
QUICK_PHASE_SECONDS = 3.0
ROUNDS = 7
QUICK_ROUNDS = 3
IDLE_SECONDS = 2.0
"""An idle window per server before the rounds: its timers' CPU per second, reported so a
reader can tell it apart from the per-query cost (under 1% of a phase's CPU here)."""


def phase_load(seconds: float) -> Load:
    """A fixed rate over 4 sockets, as the household devices of a home would ask."""
    return Load(seconds=seconds, max_qps=RATE, outstanding=100, clients=4)


def _main_and_total(server: servers.Server) -> tuple[float, float]:
    """Seconds of CPU the server's main process and all its processes have used."""
    found = server.sched_seconds()
    main = sum(ran for key, (ran, _) in found.items() if key.split(" ", 1)[0] == str(server.pid))
    return main, sum(ran for ran, _ in found.values())


def _phase(
    server: servers.Server, load: Load, query_file: Path, pinning: Pinning
) -> dict[str, Any]:
    """One measured phase: microseconds of CPU per answered query."""
    main0, total0 = _main_and_total(server)
    result = dnsperf.run(load, server.port, query_file, pinning)
    main1, total1 = _main_and_total(server)
    server.check_alive()
    answered = max(result.completed, 1)
    return {
        "answered": result.completed,
        "lost": result.lost,
        "qps": result.qps,
        "main_us": round((main1 - main0) * 1e6 / answered, 3),
        "total_us": round((total1 - total0) * 1e6 / answered, 3),
    }


def _commit(tree: Path | None) -> str | None:
    """The checkout's commit (short), for the results file; None when git cannot say."""
    argv = ["git", "-C", str(tree or REPO_ROOT), "rev-parse", "--short", "HEAD"]
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout.strip() or None


def _idle_cpu_per_second(server: servers.Server) -> float:
    """Microseconds of CPU a second the server uses with nothing to answer."""
    before, _ = _main_and_total(server)
    time.sleep(IDLE_SECONDS)
    after, _ = _main_and_total(server)
    return round((after - before) * 1e6 / IDLE_SECONDS, 1)


def run(options: RunOptions, pinning: Pinning) -> dict[str, Any]:
    """Start every server, warm each, then measure them in rotating order, round by round."""
    from tests.support.upstream_process import ScriptedUpstream  # written alongside filterd

    rounds = QUICK_ROUNDS if options.quick else ROUNDS
    seconds = QUICK_PHASE_SECONDS if options.quick else PHASE_SECONDS
    load = phase_load(seconds)
    chosen = variants(options)
    results: dict[str, dict[str, Any]] = {label: {"phases": []} for label, _, _ in chosen}
    with (
        tempfile.TemporaryDirectory(prefix="filterd-bench-", ignore_cleanup_errors=True) as tmp,
        ScriptedUpstream(host=servers.LOOPBACK) as upstream,
        contextlib.ExitStack() as stack,
    ):
        tmpdir = Path(tmp)
        query_file = write_query_file(tmpdir)
        running: dict[str, servers.Server] = {}
        for label, name, tree in chosen:
            workdir = tmpdir / label
            workdir.mkdir()
            print(f"[{NAME}] {label}: starting and warming the cache ...", flush=True)
            server = stack.enter_context(
                servers.start(name, upstream.addr, workdir, pinning, PROBE_NAME, tree=tree)
            )
            forwarder._warm(server, upstream, query_file, pinning)
            running[label] = server
            results[label]["tree"] = str(tree) if tree else None
            if name == "filterd":
                results[label]["commit"] = _commit(tree)
        for label, server in running.items():
            results[label]["idle_us_per_second"] = _idle_cpu_per_second(server)
        labels = list(running)
        for i in range(rounds):
            order = labels[i % len(labels) :] + labels[: i % len(labels)]
            for label in order:
                phase = _phase(running[label], load, query_file, pinning)
                results[label]["phases"].append(phase)
                print(
                    f"[{NAME}] round {i + 1}/{rounds} {label}: {phase['main_us']:.2f} us/query "
                    f"(all processes {phase['total_us']:.2f}), {phase['answered']} answered",
                    flush=True,
                )
    for entry in results.values():
        phases = entry["phases"]
        if phases:
            entry["main_us_median"] = statistics.median(p["main_us"] for p in phases)
            entry["total_us_median"] = statistics.median(p["total_us"] for p in phases)
            entry["main_us_min"] = min(p["main_us"] for p in phases)
    return {
        "benchmark": NAME,
        "quick": options.quick,
        "settings": {"rate_qps": RATE, "phase_seconds": seconds, "rounds": rounds},
        "servers": results,
    }


def failed(data: dict[str, Any]) -> bool:
    """True when a server was not measured in every round."""
    rounds = data["settings"]["rounds"]
    return any(len(r["phases"]) != rounds for r in data["servers"].values())


def summary(data: dict[str, Any]) -> str:
    """One row per server: median and best us/query, and the ratio to dnsmasq."""
    res = data["servers"]
    reference = res.get("dnsmasq", {}).get("main_us_median")
    rows = []
    for label, entry in res.items():
        median = entry.get("main_us_median")
        rows.append(
            [
                label if entry.get("tree") is None else f"{label} ({entry['tree']})",
                fmt(median, 2),
                fmt(entry.get("main_us_min"), 2),
                fmt(entry.get("total_us_median"), 2),
                fmt(entry.get("idle_us_per_second"), 0),
                fmt(median / reference if median and reference else None, 2, "x"),
            ]
        )
    headers = [
        f"CPU us/query at {data['settings']['rate_qps']:,} q/s",
        "median",
        "best",
        "all processes",
        "idle us/s",
        "/dnsmasq",
    ]
    lines = [format_table(headers, rows)]
    this = res.get("filterd", {})
    for label, base in res.items():
        if base.get("tree") is None or not (
            this.get("main_us_median") and base.get("main_us_median")
        ):
            continue
        paired = [
            a["main_us"] / b["main_us"]
            for a, b in zip(this["phases"], base["phases"], strict=False)
        ]
        lines.append(
            f"filterd / {label}: {this['main_us_median'] / base['main_us_median']:.3f} "
            f"(median of paired rounds {statistics.median(paired):.3f})"
        )
    return "\n".join(lines)
