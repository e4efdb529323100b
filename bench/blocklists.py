"""Blocklist benchmark: compile cost, memory, start time and throughput with big lists.

Lists of generated domains (1 and 5 million; 200,000 and 1 million with --quick) are written
at run time into a temporary directory, never committed. Measured:

1. compile: `filterd lists update --offline` with the list as a local-file source of one
   category and an empty shipped directory, as a subprocess pinned to the server core: wall
   seconds (per million), index size on disk (bytes per domain), peak RSS of that process.
2. memory: filterd's RSS with each index loaded minus its RSS with an empty index, right after
   start and after the query mix. The daemon reads the whole index into its own memory and
   verifies its checksum, so all of it is private RSS from the start.
3. first answer: seconds from spawning filterd to the first answered UDP query (probed every
   10 ms with a listed name, so the answer proves the index is in force).
4. throughput on a warm cache with the small list and a mix of 10,000 names, 20% listed
   (blocked, answered locally) and 80% not (forwarded once, then cached): filterd with the list,
   filterd without (empty index), alternating rounds; dnsmasq with the same list as a hosts file
   (`0.0.0.0 domain`). Same upstream, same dnsperf settings as the forwarder benchmark.
"""

from __future__ import annotations

import contextlib
import os
import random
import re
import signal
import statistics
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bench import dnsperf, machine, servers
from bench.forwarder import VERIFY, WARM, _measured, _warm, saturate_load
from bench.machine import Pinning
from bench.options import RunOptions
from bench.queries import DOMAIN, NAME_COUNT
from bench.report import fmt, format_table, target_lines

if TYPE_CHECKING:
    from tests.support.upstream_process import ScriptedUpstream

NAME = "blocklists"

SIZES = (1_000_000, 5_000_000)
QUICK_SIZES = (200_000, 1_000_000)
"""(small, big) list sizes: throughput uses the small list, first answer the big one."""
CATEGORY = "adult"
"""The category the generated list feeds; the config blocks it for every device."""
BLOCKED_SHARE = 0.2
"""Share of the query mix that is listed (blocked); the rest is forwarded, then cached."""
SEED = 20250101
FIRST_ANSWER_POLL = 0.01
"""Seconds between UDP probes while waiting for the first answer."""
FIRST_ANSWER_STARTS = 3
"""Starts timed with the big index (1 with --quick); the median is the result."""
ROUNDS = 3
"""Saturated rounds per filterd server (1 with --quick), alternating without list / with
list / with / without ..., so a drift of the machine favours neither side; the mean is the
result. Rounds of one server differed by up to 15% on the 2-vCPU dev VM."""
COMPILE_TIMEOUT = 240.0
SPOT_CHECKS = 50
"""Names of each kind queried one by one to prove listed names are blocked and others not."""
BLOCKED_ADDRESS = "0.0.0.0"
SATURATED_INTERFERENCE = 0.05
"""A saturated round is unreliable when something else had the server core this long."""

RSS_PER_MILLION_TARGET_MIB = 20.0
COMPILE_TARGET_S_PER_MILLION = 5.0
FIRST_ANSWER_TARGET_S = 1.0
THROUGHPUT_TARGET = 0.9
"""filterd with the list should keep at least this share of its throughput without."""

RSS_TARGET_MIN_DOMAINS = 1_000_000
"""The RSS target is read on lists at least this long: on a smaller one, a MiB of noise in
the RSS of the whole process becomes several MiB per million."""

MIB = 1024  # KiB per MiB


def domain(i: int) -> str:
    """The i-th generated domain: three labels below a TLD, names that look like real lists."""
    return f"w{i}.host{i * 7919 % 100_003}.example-{i % 997}.com"


def label(size: int) -> str:
    """'1M', '200k', 'empty'."""
    if size == 0:
        return "empty"
    if size % 1_000_000 == 0:
        return f"{size // 1_000_000}M"
    return f"{size // 1000}k"


@dataclass(frozen=True)
class Inputs:
    """Files generated for one run."""

    lists: dict[int, Path | None]  # size -> plain domain list (size 0: None, no source)
    hosts: Path  # the small list as a hosts file for dnsmasq
    queries: Path  # dnsperf query file: the mix
    blocked_names: list[str]
    unlisted_names: list[str]
    probe: str  # listed in every non-empty list, not in the mix
    generate_seconds: float


def generate(directory: Path, sizes: tuple[int, int]) -> Inputs:
    """Write both lists (the small one is a prefix of the big one), the hosts file and the mix."""
    started = time.monotonic()
    small, big = sizes
    paths: dict[int, Path | None] = {0: None}
    paths[small] = small_path = directory / f"{label(small)}.txt"
    paths[big] = big_path = directory / f"{label(big)}.txt"
    hosts = directory / f"{label(small)}.hosts"
    chunk = 100_000
    with (
        open(small_path, "w", encoding="ascii") as small_out,
        open(big_path, "w", encoding="ascii") as big_out,
        open(hosts, "w", encoding="ascii") as hosts_out,
    ):
        for start in range(0, big, chunk):
            names = [domain(i) for i in range(start, min(start + chunk, big))]
            text = "\n".join(names) + "\n"
            big_out.write(text)
            if start < small:
                kept = names[: small - start]
                small_out.write("\n".join(kept) + "\n")
                hosts_out.write("".join(f"{BLOCKED_ADDRESS} {n}\n" for n in kept))
    rng = random.Random(SEED)
    blocked_count = round(NAME_COUNT * BLOCKED_SHARE)
    # the last domain of the small list is the probe, so it is never part of the mix
    blocked = [domain(i) for i in rng.sample(range(small - 1), blocked_count)]
    unlisted = [f"www.site{i}.{DOMAIN}" for i in range(NAME_COUNT - blocked_count)]
    mix = blocked + unlisted
    rng.shuffle(mix)
    queries = directory / "mix.txt"
    queries.write_text("".join(f"{n} A\n" for n in mix), encoding="ascii")
    return Inputs(
        lists=paths,
        hosts=hosts,
        queries=queries,
        blocked_names=blocked,
        unlisted_names=unlisted,
        probe=domain(small - 1),
        generate_seconds=round(time.monotonic() - started, 2),
    )


def lists_yaml(list_file: Path | None, index_dir: Path, shipped: Path) -> str:
    """filterd config lines: the list as the category's only source (None: no source), no
    shipped lists, no periodic update (it would recompile millions of domains mid-run)."""
    source = f'["{list_file}"]' if list_file is not None else "[]"
    return (
        f"lists: {{{CATEGORY}: {source}}}\n"
        f"block_categories: [{CATEGORY}]\n"
        f'lists_update: {{directory: "{index_dir}", shipped: "{shipped}", refresh_hours: 0}}\n'
    )


def _wait_child(process: subprocess.Popen[bytes], timeout: float) -> tuple[int, Any]:
    """Reap ``process`` with wait4: (exit code, its own rusage, peak RSS included)."""
    deadline = time.monotonic() + timeout
    while True:
        pid, status, usage = os.wait4(process.pid, os.WNOHANG)
        if pid:
            process.returncode = os.waitstatus_to_exitcode(status)
            return process.returncode, usage
        if time.monotonic() > deadline:
            with contextlib.suppress(ProcessLookupError):
                process.send_signal(signal.SIGKILL)
            _, status, usage = os.wait4(process.pid, 0)
            process.returncode = os.waitstatus_to_exitcode(status)
            raise servers.ServerError(f"filterd lists update took longer than {timeout:.0f} s")
        time.sleep(0.02)


def compile_index(
    size: int, list_file: Path | None, workdir: Path, shipped: Path, pinning: Pinning
) -> dict[str, Any]:
    """Run `filterd lists update --offline` on the server core; time it and read its peak RSS."""
    workdir.mkdir()
    index_dir = workdir / "lists"
    config = servers.filterd_config(
        servers.free_port(),
        f"{servers.LOOPBACK}:53",  # never contacted: `lists update` sends no DNS
        workdir,
        servers.free_port(),
        lists_yaml(list_file, index_dir, shipped),
    )
    argv = [*servers.filterd_command(), "lists", "update", "--offline", "--config", str(config)]
    argv = pinning.prefix(pinning.server_cpu) + argv
    log_path = workdir / "update.log"
    started = time.monotonic()
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            argv, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, cwd=workdir
        )
    code, usage = _wait_child(process, COMPILE_TIMEOUT)
    seconds = time.monotonic() - started
    output = log_path.read_text(encoding="utf-8", errors="replace")
    index = index_dir / "index.bin"
    if code != 0 or not index.exists():
        tail = "\n".join(output.splitlines()[-10:])
        raise servers.ServerError(f"filterd lists update failed (exit {code}):\n{tail}")
    match = re.search(r"index: (\d+) domains in ([0-9.]+) s", output)
    domains = int(match[1]) if match else None
    index_bytes = index.stat().st_size
    millions = size / 1e6
    return {
        "domains_listed": size,
        "domains_indexed": domains,
        "list_bytes": list_file.stat().st_size if list_file is not None else 0,
        "seconds": round(seconds, 3),
        "build_index_seconds": float(match[2]) if match else None,
        "cpu_seconds": round(usage.ru_utime + usage.ru_stime, 3),
        "seconds_per_million": round(seconds / millions, 3) if size else None,
        "index_bytes": index_bytes,
        "index_bytes_per_domain": round(index_bytes / size, 2) if size else None,
        "peak_rss_kib": usage.ru_maxrss,
        "peak_rss_mib_per_million": round(usage.ru_maxrss / MIB / millions, 1) if size else None,
        "index_dir": str(index_dir),
        "output": output.strip().splitlines()[-3:],
    }


def _mapping_rss_kib(pid: int, path: Path) -> int | None:
    """Resident KiB of the mapping of ``path`` in process ``pid`` (None: not mapped)."""
    found, total, inside = False, 0, False
    header = re.compile(r"^[0-9a-f]+-[0-9a-f]+ ")
    try:
        with open(f"/proc/{pid}/smaps", encoding="utf-8", errors="replace") as smaps:
            for line in smaps:
                if header.match(line):
                    inside = line.rstrip("\n").endswith(str(path))
                    found = found or inside
                elif inside and line.startswith("Rss:"):
                    total += int(line.split()[1])
    except OSError:
        return None
    return total if found else None


def _memory(server: servers.Server, index: Path | None) -> dict[str, Any]:
    """RSS now (KiB, summed over the server's processes) and the index mapping's share."""
    memory: dict[str, Any] = server.memory_kib(("VmRSS", "RssAnon", "RssFile", "VmHWM"))
    if index is not None:
        memory["index_mapping_rss_kib"] = _mapping_rss_kib(server.pid, index)
    return memory


def _answer(port: int, name: str) -> str | None:
    """First A address answered for ``name`` (None when there is none)."""
    from dnslib import QTYPE, DNSRecord

    query = DNSRecord.question(name, "A")
    reply = DNSRecord.parse(query.send(servers.LOOPBACK, port, timeout=2))
    for rr in reply.rr:
        if rr.rtype == QTYPE.A:
            return str(rr.rdata)
    return None


def _spot_check(server: servers.Server, inputs: Inputs, listed: bool) -> dict[str, int]:
    """Query a sample of each kind: listed names must be blocked only when a list is loaded,
    and unlisted names must never be. Raises on any wrong answer."""
    rng = random.Random(SEED + 1)
    wrong = []
    counts = {"listed_blocked": 0, "unlisted_blocked": 0}
    for kind, names in (("listed", inputs.blocked_names), ("unlisted", inputs.unlisted_names)):
        for name in rng.sample(names, SPOT_CHECKS):
            blocked = _answer(server.port, name) == BLOCKED_ADDRESS
            counts[f"{kind}_blocked"] += blocked
            if blocked != (listed and kind == "listed"):
                wrong.append(name)
    if wrong:
        raise servers.ServerError(
            f"{server.name}: {len(wrong)} of {2 * SPOT_CHECKS} spot checks answered wrongly, "
            f"e.g. {wrong[0]}"
        )
    return counts


@contextlib.contextmanager
def _start(
    kind: str,
    upstream: ScriptedUpstream,
    workdir: Path,
    pinning: Pinning,
    probe: str,
    extra: Any,
) -> Iterator[tuple[servers.Server, float]]:
    """Start a server and time the first answered probe (spawn to answer, 10 ms polling)."""
    workdir.mkdir(exist_ok=True)
    started = time.monotonic()
    with servers.start(
        kind,
        upstream.addr,
        workdir,
        pinning,
        probe,
        filterd_extra=extra if kind == "filterd" else "",
        dnsmasq_extra=extra if kind == "dnsmasq" else (),
        poll_interval=FIRST_ANSWER_POLL,
    ) as server:
        yield server, round(time.monotonic() - started, 3)


def _first_answers(
    upstream: ScriptedUpstream, workdir: Path, pinning: Pinning, probe: str, yaml: str, n: int
) -> list[float]:
    """Spawn filterd ``n`` more times just to time its first answer."""
    times = []
    for i in range(n):
        with _start("filterd", upstream, workdir / f"start{i}", pinning, probe, yaml) as (_, t):
            times.append(t)
    return times


def _saturate(
    server: servers.Server, inputs: Inputs, seconds: float, pinning: Pinning
) -> dict[str, Any]:
    """One saturated run of the mix; the share of the server core others took is kept."""
    result, shares = _measured(server, saturate_load(seconds), inputs.queries, pinning)
    return {
        "qps": result.qps,
        "lost": result.lost,
        "rcodes": result.rcodes,
        "server_cpu_busy": shares["server"],
        "cpu": shares,
        "unreliable": any(
            (shares[key] or 0) > SATURATED_INTERFERENCE for key in ("other", "steal")
        ),
    }


def _summarise_rounds(entry: dict[str, Any]) -> None:
    rounds = entry.get("rounds") or []
    if rounds:
        entry["throughput_qps"] = round(statistics.mean(r["qps"] for r in rounds), 1)
        entry["throughput_lost"] = sum(r["lost"] for r in rounds)
        entry["throughput_unreliable"] = any(r["unreliable"] for r in rounds)


def measure_filterd_pair(
    upstream: ScriptedUpstream,
    inputs: Inputs,
    compiled: dict[int, dict[str, Any]],
    small: int,
    shipped: Path,
    workdir: Path,
    options: RunOptions,
    pinning: Pinning,
) -> dict[str, dict[str, Any]]:
    """filterd without a list and with the small list, both running, measured alternately."""
    results: dict[str, dict[str, Any]] = {}
    rounds = 1 if options.quick else ROUNDS
    indexes: dict[str, Path] = {}
    with contextlib.ExitStack() as stack:
        running: dict[str, servers.Server] = {}
        for size in (0, small):
            key = label(size)
            index_dir = Path(compiled[size]["index_dir"])
            yaml = lists_yaml(inputs.lists[size], index_dir, shipped)
            print(f"[{NAME}] filterd with the {key} index: start, warm ...", flush=True)
            server, first = stack.enter_context(
                _start("filterd", upstream, workdir / f"filterd-{key}", pinning, inputs.probe, yaml)
            )
            indexes[key] = index = index_dir / "index.bin"
            entry: dict[str, Any] = {"domains": size, "first_answer_seconds": first}
            entry["memory_start"] = _memory(server, index)
            entry.update(_warm(server, upstream, inputs.queries, pinning))
            entry["memory_warm"] = _memory(server, index)
            entry["spot_check"] = _spot_check(server, inputs, listed=size > 0)
            entry["rounds"] = []
            results[key] = entry
            running[key] = server
        waited, busy = machine.wait_quiet(options.durations.max_quiet_wait_seconds)
        for key in results:
            results[key]["waited_for_quiet_seconds"] = waited
            results[key]["cpu_busy_before"] = busy
        for n in range(rounds):
            order = list(running.items())
            for key, server in order[::-1] if n % 2 else order:  # ABBA: drift cancels
                print(f"[{NAME}] filterd {key}: saturated round {n + 1}/{rounds} ...", flush=True)
                results[key]["rounds"].append(
                    _saturate(server, inputs, options.durations.saturate_seconds, pinning)
                )
        for key, server in running.items():
            results[key]["memory_after_throughput"] = _memory(server, indexes[key])
            results[key]["peak_rss_by_process_kib"] = server.peak_rss_by_process()
            results[key]["command"] = [str(a) for a in server.process.args]
            _summarise_rounds(results[key])
    return results


def measure_filterd_big(
    upstream: ScriptedUpstream,
    inputs: Inputs,
    compiled: dict[int, dict[str, Any]],
    big: int,
    shipped: Path,
    workdir: Path,
    options: RunOptions,
    pinning: Pinning,
) -> dict[str, Any]:
    """filterd with the big index: first answer (several starts), RSS at start and warm."""
    key = label(big)
    index_dir = Path(compiled[big]["index_dir"])
    index = index_dir / "index.bin"
    yaml = lists_yaml(inputs.lists[big], index_dir, shipped)
    print(f"[{NAME}] filterd with the {key} index: start, warm ...", flush=True)
    entry: dict[str, Any] = {"domains": big}
    with _start("filterd", upstream, workdir / f"filterd-{key}", pinning, inputs.probe, yaml) as (
        server,
        first,
    ):
        entry["memory_start"] = _memory(server, index)
        entry.update(_warm(server, upstream, inputs.queries, pinning))
        entry["memory_warm"] = _memory(server, index)
        entry["spot_check"] = _spot_check(server, inputs, listed=True)
        entry["peak_rss_by_process_kib"] = server.peak_rss_by_process()
    starts = 1 if options.quick else FIRST_ANSWER_STARTS
    more = _first_answers(
        upstream, workdir / f"filterd-{key}", pinning, inputs.probe, yaml, starts - 1
    )
    entry["first_answer_all_seconds"] = [first, *more]
    entry["first_answer_seconds"] = statistics.median([first, *more])
    return entry


def measure_dnsmasq(
    upstream: ScriptedUpstream,
    inputs: Inputs,
    small: int,
    workdir: Path,
    options: RunOptions,
    pinning: Pinning,
) -> dict[str, dict[str, Any]]:
    """dnsmasq without a list (RSS only) and with the small list as a hosts file."""
    results: dict[str, dict[str, Any]] = {}
    print(f"[{NAME}] dnsmasq without a list: RSS ...", flush=True)
    with _start("dnsmasq", upstream, workdir / "dnsmasq-empty", pinning, inputs.probe, ()) as (
        server,
        first,
    ):
        results["empty"] = {
            "domains": 0,
            "first_answer_seconds": first,
            "memory_start": _memory(server, None),
        }
    key = label(small)
    print(f"[{NAME}] dnsmasq with the {key} hosts file: start, warm, saturate ...", flush=True)
    extra = (f"--addn-hosts={inputs.hosts}",)
    with _start("dnsmasq", upstream, workdir / f"dnsmasq-{key}", pinning, inputs.probe, extra) as (
        server,
        first,
    ):
        entry: dict[str, Any] = {"domains": small, "first_answer_seconds": first}
        entry["memory_start"] = _memory(server, None)
        entry.update(_warm(server, upstream, inputs.queries, pinning))
        entry["memory_warm"] = _memory(server, None)
        entry["spot_check"] = _spot_check(server, inputs, listed=True)
        waited, busy = machine.wait_quiet(options.durations.max_quiet_wait_seconds)
        entry["waited_for_quiet_seconds"] = waited
        entry["cpu_busy_before"] = busy
        entry["rounds"] = [_saturate(server, inputs, options.durations.saturate_seconds, pinning)]
        entry["memory_after_throughput"] = _memory(server, None)
        entry["peak_rss_by_process_kib"] = server.peak_rss_by_process()
        entry["command"] = [str(a) for a in server.process.args]
        _summarise_rounds(entry)
    results[key] = entry
    return results


def _rss(entry: dict[str, Any] | None, phase: str) -> int | None:
    if not entry or "error" in entry or phase not in entry:
        return None
    return entry[phase]["VmRSS"]


def derive(data: dict[str, Any]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """RSS deltas, ratios and the four targets."""
    small, big = data["settings"]["sizes"]
    f, d, c = data["filterd"], data["dnsmasq"], data["compile"]
    derived: dict[str, Any] = {"filterd_rss_delta": {}, "dnsmasq_rss_delta": {}}
    worst_per_million = None
    for size in (small, big):
        key = label(size)
        for phase in ("memory_start", "memory_warm"):
            base, loaded = _rss(f.get("empty"), phase), _rss(f.get(key), phase)
            if base is None or loaded is None:
                continue
            delta = (loaded - base) / MIB
            per_million = delta / (size / 1e6)
            derived["filterd_rss_delta"][f"{key} {phase.removeprefix('memory_')}"] = {
                "mib": round(delta, 2),
                "mib_per_million": round(per_million, 2),
            }
            if phase == "memory_warm" and size >= RSS_TARGET_MIN_DOMAINS:
                worst_per_million = max(worst_per_million or per_million, per_million)
    base, loaded = _rss(d.get("empty"), "memory_start"), _rss(d.get(label(small)), "memory_warm")
    if base is not None and loaded is not None:
        delta = (loaded - base) / MIB
        derived["dnsmasq_rss_delta"][label(small)] = {
            "mib": round(delta, 2),
            "mib_per_million": round(delta / (small / 1e6), 2),
        }
    # the target is read on the big list: the small one's rate is inflated by the ~0.4 s it
    # takes any `filterd lists update` to start (see the empty list's time)
    small_c, big_c = c[str(small)], c[str(big)]
    worst_compile = big_c.get("seconds_per_million")
    if "error" not in small_c and "error" not in big_c:
        marginal = (big_c["seconds"] - small_c["seconds"]) / ((big - small) / 1e6)
        derived["compile_marginal_seconds_per_million"] = round(marginal, 3)
    big_entry = f.get(label(big), {})
    first = big_entry.get("first_answer_seconds")
    with_list = f.get(label(small), {}).get("throughput_qps")
    without = f.get("empty", {}).get("throughput_qps")
    ratio = with_list / without if with_list and without else None
    derived["throughput_with_over_without"] = round(ratio, 3) if ratio else None
    dnsmasq_qps = d.get(label(small), {}).get("throughput_qps")
    derived["throughput_filterd_over_dnsmasq"] = (
        round(with_list / dnsmasq_qps, 3) if with_list and dnsmasq_qps else None
    )
    unreliable = any(
        e.get("throughput_unreliable") for e in (f.get("empty", {}), f.get(label(small), {}))
    )
    targets = [
        {
            "target": f"filterd RSS per million domains (after the mix, lists >= "
            f"{label(RSS_TARGET_MIN_DOMAINS)}) <= {RSS_PER_MILLION_TARGET_MIB:g} MiB",
            "value": worst_per_million,
            "pass": worst_per_million is not None
            and worst_per_million <= RSS_PER_MILLION_TARGET_MIB,
            "reliable": True,
        },
        {
            "target": f"compile <= {COMPILE_TARGET_S_PER_MILLION:g} s per million domains "
            f"({label(big)} list)",
            "value": worst_compile,
            "pass": worst_compile is not None and worst_compile <= COMPILE_TARGET_S_PER_MILLION,
            "reliable": True,
        },
        {
            "target": f"first answer <= {FIRST_ANSWER_TARGET_S:g} s with the {label(big)} index",
            "value": first,
            "pass": first is not None and first <= FIRST_ANSWER_TARGET_S,
            "reliable": True,
        },
        {
            "target": f"throughput with the {label(small)} list >= {THROUGHPUT_TARGET:g} x without",
            "value": ratio,
            "pass": ratio is not None and ratio >= THROUGHPUT_TARGET,
            "reliable": not unreliable,
        },
    ]
    return derived, targets


def _guard(results: dict[str, Any], keys: list[str], action: Any) -> None:
    """Run one measurement that returns {key: result}; on a server or dnsperf failure record
    the error under each of ``keys`` and go on with the next measurement."""
    try:
        results.update(action())
    except (servers.ServerError, dnsperf.DnsperfError, OSError) as exc:
        print(f"[{NAME}] {', '.join(keys)}: could not run: {exc}", flush=True)
        for key in keys:
            results[key] = {"error": str(exc)}


def run(options: RunOptions, pinning: Pinning) -> dict[str, Any]:
    """Generate the lists, compile them, then measure the servers against one upstream."""
    from tests.support.upstream_process import ScriptedUpstream  # written alongside filterd

    small, big = QUICK_SIZES if options.quick else SIZES
    compiled: dict[int, dict[str, Any]] = {}
    filterd_results: dict[str, Any] = {}
    dnsmasq_results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="filterd-bench-", ignore_cleanup_errors=True) as tmp:
        tmpdir = Path(tmp)
        shipped = tmpdir / "shipped-empty"
        shipped.mkdir()
        print(f"[{NAME}] generating lists of {small:,} and {big:,} domains ...", flush=True)
        inputs = generate(tmpdir, (small, big))
        for size in (0, small, big):
            print(f"[{NAME}] compiling the {label(size)} list ...", flush=True)
            try:
                compiled[size] = compile_index(
                    size, inputs.lists[size], tmpdir / f"compile-{label(size)}", shipped, pinning
                )
            except (servers.ServerError, OSError) as exc:
                print(f"[{NAME}] compile {label(size)}: could not run: {exc}", flush=True)
                compiled[size] = {"error": str(exc)}
        with ScriptedUpstream(host=servers.LOOPBACK) as upstream:
            if "filterd" in options.servers and all("error" not in compiled[s] for s in (0, small)):
                _guard(
                    filterd_results,
                    ["empty", label(small)],
                    lambda: measure_filterd_pair(
                        upstream, inputs, compiled, small, shipped, tmpdir, options, pinning
                    ),
                )
            if "filterd" in options.servers and "error" not in compiled[big]:
                _guard(
                    filterd_results,
                    [label(big)],
                    lambda: {
                        label(big): measure_filterd_big(
                            upstream, inputs, compiled, big, shipped, tmpdir, options, pinning
                        )
                    },
                )
            if "dnsmasq" in options.servers:
                _guard(
                    dnsmasq_results,
                    ["empty", label(small)],
                    lambda: measure_dnsmasq(upstream, inputs, small, tmpdir, options, pinning),
                )
            upstream_addr = upstream.addr
    data: dict[str, Any] = {
        "benchmark": NAME,
        "quick": options.quick,
        "settings": {
            "sizes": [small, big],
            "category": CATEGORY,
            "generated_example": domain(12345),
            "mix_names": NAME_COUNT,
            "mix_blocked": len(inputs.blocked_names),
            "mix_unlisted": len(inputs.unlisted_names),
            "probe": inputs.probe,
            "generate_seconds": inputs.generate_seconds,
            "upstream": upstream_addr,
            "durations": vars(options.durations),
            "warm": vars(WARM),
            "verify": vars(VERIFY),
            "saturate": vars(saturate_load(options.durations.saturate_seconds)),
            "rounds": 1 if options.quick else ROUNDS,
            "first_answer_poll_seconds": FIRST_ANSWER_POLL,
            "dnsperf_query_timeout_s": dnsperf.QUERY_TIMEOUT,
            "cache_entries": servers.CACHE_ENTRIES,
        },
        "compile": {str(size): entry for size, entry in compiled.items()},
        "filterd": filterd_results,
        "dnsmasq": dnsmasq_results,
    }
    data["derived"], data["targets"] = derive(data)
    return data


def failed(data: dict[str, Any]) -> bool:
    """True when something selected could not be measured."""
    parts = [*data["compile"].values(), *data["filterd"].values(), *data["dnsmasq"].values()]
    return any("error" in p for p in parts)


def summary(data: dict[str, Any]) -> str:
    """Compile table, server table, then PASS/MISS lines."""
    small, big = data["settings"]["sizes"]
    lines = []

    compile_rows = []
    for size in (small, big):
        c = data["compile"].get(str(size), {})
        if "error" in c:
            compile_rows.append([label(size), "error", "", "", "", "", ""])
            continue
        compile_rows.append(
            [
                f"{label(size)} list",
                fmt(c.get("domains_indexed"), 0),
                fmt(c.get("seconds"), 2),
                fmt(c.get("seconds_per_million"), 2),
                fmt(c["index_bytes"] / 2**20, 1),
                fmt(c.get("index_bytes_per_domain"), 2),
                fmt(c["peak_rss_kib"] / MIB, 0),
            ]
        )
    base = data["compile"].get("0", {})
    if "error" not in base:
        peak = fmt(base["peak_rss_kib"] / MIB, 0)
        compile_rows.append(["empty list", "0", fmt(base["seconds"], 2), "", "", "", peak])
    headers = ["compile", "domains", "seconds", "s/million", "index MiB", "bytes/domain"]
    lines.append(format_table([*headers, "peak RSS MiB"], compile_rows))

    columns = [("filterd", "empty"), ("filterd", label(small)), ("filterd", label(big))]
    columns += [("dnsmasq", "empty"), ("dnsmasq", label(small))]
    columns = [(s, k) for s, k in columns if k in data[s]]

    def row(title: str, *path: str, scale: float = 1 / MIB, digits: int = 1) -> list[str]:
        cells = []
        for server, key in columns:
            value: Any = data[server][key]
            for part in path:
                value = value.get(part) if isinstance(value, dict) else None
            cells.append(fmt(None if value is None else value * scale, digits))
        return [title, *cells]

    rows = [
        row("first answer (s)", "first_answer_seconds", scale=1, digits=3),
        row("RSS at start (MiB)", "memory_start", "VmRSS"),
        row("  file-backed (MiB)", "memory_start", "RssFile"),
        row("  index mapped (MiB)", "memory_start", "index_mapping_rss_kib"),
        row("RSS after the mix (MiB)", "memory_warm", "VmRSS"),
        row("  file-backed (MiB)", "memory_warm", "RssFile"),
        row("  index mapped (MiB)", "memory_warm", "index_mapping_rss_kib"),
        row("throughput (q/s)", "throughput_qps", scale=1, digits=0),
        row("  lost", "throughput_lost", scale=1, digits=0),
        row("RSS after saturating (MiB)", "memory_after_throughput", "VmRSS"),
    ]
    headers = ["", *(f"{s} {k}" for s, k in columns)]
    lines += ["", format_table(headers, rows)]

    derived = data["derived"]
    lines.append("")
    for what, value in derived["filterd_rss_delta"].items():
        lines.append(
            f"filterd RSS minus empty-index RSS, {what}: {value['mib']:.1f} MiB "
            f"({value['mib_per_million']:.1f} MiB per million)"
        )
    for what, value in derived["dnsmasq_rss_delta"].items():
        lines.append(
            f"dnsmasq RSS with the {what} hosts file minus without: {value['mib']:.1f} MiB "
            f"({value['mib_per_million']:.1f} MiB per million)"
        )
    if derived.get("throughput_filterd_over_dnsmasq"):
        lines.append(
            f"filterd/dnsmasq throughput with the {label(small)} list: "
            f"{derived['throughput_filterd_over_dnsmasq']:.2f}x"
        )
    if derived.get("compile_marginal_seconds_per_million") is not None:
        lines.append(
            f"compile, marginal cost from the {label(small)} to the {label(big)} list: "
            f"{derived['compile_marginal_seconds_per_million']:.2f} s per million"
        )
    big_entry = data["filterd"].get(label(big), {})
    if big_entry.get("first_answer_all_seconds"):
        starts = ", ".join(f"{t:.3f}" for t in big_entry["first_answer_all_seconds"])
        lines.append(f"first answer with the {label(big)} index, every start (s): {starts}")
    lines.append(
        "note: the index is memory-mapped, so its touched pages are file-backed RSS shared "
        "with the page cache (and other processes mapping it)"
    )
    for section in ("compile", "filterd", "dnsmasq"):
        for key, entry in data[section].items():
            if "error" in entry:
                lines.append(f"{section} {key}: NOT RUN: {entry['error'].splitlines()[0]}")
    lines += target_lines(data["targets"])
    return "\n".join(lines)
