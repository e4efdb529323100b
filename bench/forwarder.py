"""Forwarder benchmark: filterd vs dnsmasq on a warm cache, same upstream, same names.

Per server: warm the cache, check a second pass is fully answered, then measure saturated
throughput, latency at a fixed 2,000 q/s, and peak RSS. The servers run one after the
other on the server core, so they never compete with each other.

With ``--baseline DIR`` (an older checkout's filterd), every server is measured in
BASELINE_ROUNDS rounds in rotating order and each one's median-throughput round is reported:
the same code varies by ~10% between runs here, so one pass cannot show a before/after
difference of a few per cent.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bench import dnsperf, machine, servers
from bench.dnsperf import Load
from bench.machine import Pinning
from bench.options import RunOptions, variants
from bench.queries import NAME_COUNT, PROBE_NAME, write_query_file
from bench.report import fmt, format_table, target_lines

if TYPE_CHECKING:
    from tests.support.upstream_process import ScriptedUpstream

NAME = "forwarder"

LATENCY_QPS = 2000
WARM = Load(passes=1, max_qps=2000)
"""Moderate rate for the cold pass: every query goes to the (Python) test upstream."""
VERIFY = Load(passes=1, max_qps=20000)
"""Second pass: must be answered in full, from the cache."""
WARM_ATTEMPTS = 3
BASELINE_ROUNDS = 5
"""Rounds per server when a baseline checkout is compared too."""

INTERFERENCE_LIMITS = {
    ("saturated", "other"): 0.05,
    ("saturated", "steal"): 0.05,
    ("latency", "waiting"): 0.03,
    ("latency", "steal"): 0.05,
}
"""Warn when, during a phase, something else used the server core for more than this share
of the time. Saturated: the core is ~100% busy, so busy time not charged to the server is
someone else's. Latency: the server is mostly idle, so any time it spent runnable but
waiting for its own core means another process had it. On a quiet machine waiting is
0.5-1% for both servers (the wake-up itself); filterd's threads queueing behind each other
add little at 2,000 q/s. Steal: the host ran another VM on our vCPU."""

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


def _measured(
    server: servers.Server, load: Load, query_file: Path, pinning: Pinning
) -> tuple[dnsperf.Result, dict[str, Any]]:
    """Run one phase and record how the CPUs were shared meanwhile (shares of the phase).

    server: the server ran. waiting: the server was runnable but not running (another
    process on its core, or its own threads queueing). other: server core busy but not
    with the server; steal: the hypervisor ran someone else instead of the server core.
    other and steal come from tick-sampled /proc/stat, so they mean something near
    saturation and little at 2,000 q/s, where 'waiting' is the signal. pressure: time any
    task on the machine waited for a CPU (PSI), dnsperf's core included."""
    sched0 = server.sched_seconds()
    pressure0 = machine.cpu_pressure_seconds()
    cores_before = machine.cpu_times()
    wall0 = time.monotonic()
    result = dnsperf.run(load, server.port, query_file, pinning)
    wall = time.monotonic() - wall0
    sched1 = server.sched_seconds()
    pressure1 = machine.cpu_pressure_seconds()
    cores = machine.busy_since(cores_before)
    server.check_alive()
    per_process: dict[str, tuple[float, float]] = {}
    for key, (ran1, waited1) in sched1.items():
        ran0, waited0 = sched0.get(key, (0.0, 0.0))  # a process born mid-phase starts at 0
        per_process[key] = ((ran1 - ran0) / wall, (waited1 - waited0) / wall)
    ran = sum(r for r, _ in per_process.values())
    shares: dict[str, Any] = {
        "server": round(ran, 3),
        "waiting": round(sum(w for _, w in per_process.values()), 3),
        "server_by_process": {key: round(r, 3) for key, (r, _) in per_process.items()},
        "other": None,
        "steal": None,
        "pressure": None,
        "client_core_busy": None,
    }
    if pressure0 is not None and pressure1 is not None:
        shares["pressure"] = round((pressure1 - pressure0) / wall, 3)
    if pinning.server_cpu in cores:
        core = cores[pinning.server_cpu]
        shares["other"] = round(max(core["busy"] - ran, 0.0), 3)
        shares["steal"] = core["steal"]
    if pinning.client_cpu in cores:
        shares["client_core_busy"] = cores[pinning.client_cpu]["busy"]
    return result, shares


def measure(
    name: str,
    upstream: ScriptedUpstream,
    query_file: Path,
    workdir: Path,
    options: RunOptions,
    pinning: Pinning,
    tree: Path | None = None,
) -> dict[str, Any]:
    """All phases for one server (`tree`: another checkout's filterd); the server is stopped
    before this returns."""
    durations = options.durations
    if not upstream.running:
        raise servers.ServerError("the scripted upstream is not running")
    waited, busy_before = machine.wait_quiet(durations.max_quiet_wait_seconds)
    started = time.monotonic()
    with servers.start(name, upstream.addr, workdir, pinning, PROBE_NAME, tree=tree) as server:
        startup = time.monotonic() - started
        start_rss_kib = server.peak_rss_kib()  # before any names are cached
        warm = _warm(server, upstream, query_file, pinning)

        saturated, sat_cpu = _measured(
            server, saturate_load(durations.saturate_seconds), query_file, pinning
        )
        latency, lat_cpu = _measured(
            server, latency_load(durations.latency_seconds), query_file, pinning
        )
        rss_by_process = server.peak_rss_by_process()
        command = server.process.args
        log_written = server.metric("filterd_querylog_written_total")
        log_dropped = server.metric("filterd_querylog_dropped_total")
    pct = latency.percentiles_ms or {}
    return {
        "command": [str(a) for a in command] if isinstance(command, list) else str(command),
        "waited_for_quiet_seconds": waited,
        "cpu_busy_before": busy_before,
        "startup_seconds": round(startup, 3),
        "throughput_qps": saturated.qps,
        "throughput_lost": saturated.lost,
        "throughput_server_cpu_busy": sat_cpu["server"],
        "latency_qps": latency.qps,
        "latency_p50_ms": pct.get("p50"),
        "latency_p99_ms": pct.get("p99"),
        "latency_lost": latency.lost,
        "start_rss_kib": start_rss_kib,
        "peak_rss_kib": sum(rss_by_process.values()),
        "peak_rss_by_process_kib": rss_by_process,
        "cpu_saturated": sat_cpu,
        # filterd logs every query; under saturation its writer yields to DNS and drops
        "querylog_written": log_written,
        "querylog_dropped": log_dropped,
        "cpu_latency": lat_cpu,
        "saturated": saturated.as_json(),
        "latency": latency.as_json(),
        **warm,
    }


def _ratio(a: float | None, b: float | None) -> float | None:
    """a / b, or None when either side is missing."""
    return a / b if a is not None and b else None


def _diff(a: float | None, b: float | None) -> float | None:
    """a - b, or None when either side is missing."""
    return a - b if a is not None and b is not None else None


def compare(results: dict[str, dict[str, Any]]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Ratios filterd/dnsmasq and the two targets; empty unless both servers were measured."""
    f, d = results.get("filterd", {}), results.get("dnsmasq", {})
    if "error" in f or "error" in d or not f or not d:
        return {}, []
    ratios = {
        "throughput": _ratio(f["throughput_qps"], d["throughput_qps"]),
        "p50": _ratio(f["latency_p50_ms"], d["latency_p50_ms"]),
        "p99": _ratio(f["latency_p99_ms"], d["latency_p99_ms"]),
        "p99_diff_ms": _diff(f["latency_p99_ms"], d["latency_p99_ms"]),
        "peak_rss": _ratio(f["peak_rss_kib"], d["peak_rss_kib"]),
    }
    targets = [
        {
            "target": f"filterd throughput >= {THROUGHPUT_TARGET} x dnsmasq",
            "value": ratios["throughput"],
            "pass": ratios["throughput"] is not None and ratios["throughput"] >= THROUGHPUT_TARGET,
        },
        {
            # percentiles cover answered queries only, so a lost query is a miss by itself
            "target": f"filterd p99 at {LATENCY_QPS} q/s within {P99_TARGET_MS:g} ms of dnsmasq",
            "value": ratios["p99_diff_ms"],
            "pass": ratios["p99_diff_ms"] is not None
            and ratios["p99_diff_ms"] <= P99_TARGET_MS
            and f["latency_lost"] == 0,
        },
    ]
    reliable = not any(_interference(r) for r in (f, d))
    for target in targets:
        target["reliable"] = reliable
    return ratios, targets


def _interference(result: dict[str, Any]) -> dict[str, float]:
    """Phases in which something else took more of the server core than allowed."""
    found = {}
    for (phase, key), limit in INTERFERENCE_LIMITS.items():
        share = result[f"cpu_{phase}"][key]
        if share is not None and share > limit:
            found[f"{phase} ({key})"] = share
    return found


def median_round(rounds: list[dict[str, Any]]) -> dict[str, Any]:
    """The round with the median throughput (the lower middle one of an even count); an
    error when no round could be measured."""
    measured = sorted(
        (r for r in rounds if "error" not in r), key=lambda r: r["throughput_qps"] or 0.0
    )
    if not measured:
        return rounds[-1]
    chosen = dict(measured[(len(measured) - 1) // 2])
    chosen["throughput_qps_rounds"] = [r.get("throughput_qps") for r in rounds]
    return chosen


def run(options: RunOptions, pinning: Pinning) -> dict[str, Any]:
    """Start the upstream once, measure each selected server against it (in rotating rounds
    when a baseline is compared), compare."""
    from tests.support.upstream_process import ScriptedUpstream  # written alongside filterd

    durations = options.durations
    chosen = variants(options)  # dnsmasq first: a filterd crash still leaves a reference
    rounds = BASELINE_ROUNDS if options.baselines else 1
    measured: dict[str, list[dict[str, Any]]] = {label: [] for label, _, _ in chosen}
    with tempfile.TemporaryDirectory(prefix="filterd-bench-", ignore_cleanup_errors=True) as tmp:
        tmpdir = Path(tmp)
        query_file = write_query_file(tmpdir)
        with ScriptedUpstream(host=servers.LOOPBACK) as upstream:
            for i in range(rounds):
                for label, name, tree in chosen[i % len(chosen) :] + chosen[: i % len(chosen)]:
                    workdir = tmpdir / f"{label}-{i}"
                    workdir.mkdir()
                    print(f"[{NAME}] {label}: warming cache and measuring ...", flush=True)
                    try:
                        result = measure(
                            name, upstream, query_file, workdir, options, pinning, tree
                        )
                    except (servers.ServerError, dnsperf.DnsperfError) as exc:
                        print(f"[{NAME}] {label}: could not run: {exc}", flush=True)
                        result = {"error": str(exc)}
                    if tree is not None:
                        result["tree"] = str(tree)
                    measured[label].append(result)
            upstream_addr = upstream.addr
    results = {label: median_round(found) for label, found in measured.items()}
    ratios, targets = compare(results)
    return {
        "benchmark": NAME,
        "quick": options.quick,
        "settings": {
            "names": NAME_COUNT,
            "upstream": upstream_addr,
            "durations": vars(durations),
            "warm": vars(WARM),
            "verify": vars(VERIFY),
            "saturate": vars(saturate_load(durations.saturate_seconds)),
            "latency": vars(latency_load(durations.latency_seconds)),
            "dnsperf_query_timeout_s": dnsperf.QUERY_TIMEOUT,
            "cache_entries": servers.CACHE_ENTRIES,
        },
        "rounds": rounds,
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
        ["  lost", *(cell(n, "latency_lost", 0) for n in names), ""],
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
            continue
        for what, share in _interference(res[name]).items():
            lines.append(
                f"warning: {name} {what}: the server core was lost to something else "
                f"{share:.0%} of the time; those numbers are pessimistic"
            )
        by_process = res[name]["peak_rss_by_process_kib"]
        if len(by_process) > 1:
            parts = ", ".join(f"{k.split(' ', 1)[1]} {v / 1024:.1f}" for k, v in by_process.items())
            lines.append(f"note: {name} peak RSS is the sum over its processes ({parts} MiB)")
        if res[name].get("querylog_written") is not None:
            lines.append(
                f"note: {name} query log: {res[name]['querylog_written']:,.0f} entries written, "
                f"{res[name]['querylog_dropped']:,.0f} dropped (the writer yields to DNS)"
            )
        if res[name].get("verify_forwarded_upstream"):
            n = res[name]["verify_forwarded_upstream"]
            lines.append(f"note: {name} forwarded {n} queries upstream on the warm second pass")
    lines += _baseline_lines(data)
    lines += target_lines(data["targets"])
    return "\n".join(lines)


def _baseline_lines(data: dict[str, Any]) -> list[str]:
    """Each baseline checkout's throughput and ratio to dnsmasq beside this checkout's, with
    every round's figure (the median round is the one reported)."""
    res = data["servers"]
    if not any(r.get("tree") for r in res.values()):
        return []
    lines = [f"{data.get('rounds', 1)} rounds in rotating order; each server's median round:"]
    dnsmasq = res.get("dnsmasq", {}).get("throughput_qps")
    for label, entry in res.items():
        if "error" in entry:
            lines.append(f"  {label}: NOT RUN: {entry['error'].splitlines()[0]}")
            continue
        rounds = ", ".join(fmt(q, 0) for q in entry.get("throughput_qps_rounds", []))
        where = f" ({entry['tree']})" if entry.get("tree") else ""
        ratio = fmt(_ratio(entry["throughput_qps"], dnsmasq), 2, "x")
        lines.append(
            f"  {label}{where}: {fmt(entry['throughput_qps'], 0)} q/s, {ratio} of dnsmasq "
            f"(rounds: {rounds})"
        )
    return lines
