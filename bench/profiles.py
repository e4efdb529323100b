"""Profiles benchmark: what a child's profile costs per query, on a warm cache.

Same names, upstream and dnsperf settings as the forwarder benchmark, five servers:

1. dnsmasq, the peer;
2. filterd without a rules file: every query takes the household path;
3. filterd with a rules file that lists 127.0.0.1 (dnsperf's source) as a 13-15-year-old's
   device with a daily limit (so every TTL is capped at 60 s and usage is counted), an
   offline window that is closed for the whole run, and safe search: identify, judge, usage
   and cap_ttls on every answer;
4. filterd with 127.0.0.1 not listed: the unknown-device profile. `unknown_devices: strict`
   unless its 22:00-06:00 bedtime is open during the run (every answer would then be a
   blocked answer, another path); then the first age band whose bedtime is closed. The
   summary says which was measured;
5. filterd as (3), with every measured name an app's: the shipped lists and catalogue copied,
   with one more app, `bench_app`, owning bench.test, and the child given a daily limit for
   it. Each answer then also takes the app rows of the precedence table and counts the app's
   minutes: the cost of service matching on a child's answer, against (3) in the same run,
   where the names belong to no app (issue 16's target: no more than 10% slower).

All five run at once, all idle but the one measured; saturated rounds alternate (ABBA), so a
drift of the machine favours none. Before measuring, a real query from 127.0.0.1 (its TTL)
and the query log's `child` column prove each filterd takes the path it is meant to; during
each round the `filterd_queries` reasons prove no answer was blocked (a blocked answer is
NOERROR too, so dnsperf's rcodes cannot tell) and the upstream's log proves the cache stayed
warm.
"""

from __future__ import annotations

import contextlib
import shutil
import socket
import sqlite3
import statistics
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from dnslib import QTYPE, RCODE, DNSRecord

from bench import app_matching, dnsperf, machine, servers
from bench.forwarder import VERIFY, WARM, _measured, _warm, saturate_load
from bench.machine import Pinning
from bench.options import RunOptions
from bench.queries import DOMAIN, NAME_COUNT, PROBE_NAME, write_query_file
from bench.report import fmt, format_table, target_lines

if TYPE_CHECKING:
    from tests.support.upstream_process import ScriptedUpstream

NAME = "profiles"

ROUNDS = 3
QUICK_ROUNDS = 2
"""Saturated rounds per server, alternating (ABBA); the mean is the result. --quick keeps two:
the target is a ratio of two filterd runs, and with one round each a burst from another
process on this shared machine lands on one side only (single rounds differed by 20%)."""
THROUGHPUT_TARGET = 0.8
"""The child path should keep at least this share of the household path's queries/s."""
APPS_TARGET = 0.9
"""Service matching on a child's answers costs at most 10% of the child path's queries/s."""
BENCH_APP = "bench_app"
"""The app that owns every measured name in the child_apps variant (query log `service`)."""
SATURATED_INTERFERENCE = 0.05
"""A round is unreliable when something else had the server core this long."""

TIMEZONE = "Europe/London"
CHILD_ID = "kid"
UNKNOWN_ID = "unknown_devices"
"""The profile id filterd gives devices nobody listed (the query log's `child`)."""
CHILD_TTL_CAP = 60
"""With a daily limit, every TTL a child's device gets is at most this (MEASURING_TTL)."""
UNKNOWN_CHOICES = ("strict", "16_17", "13_15", "9_12", "under_9")
"""unknown_devices values tried in turn: the first whose bedtime stays closed is measured."""
CLOSED_FOR_SECONDS = 30 * 60
"""Offline windows must stay closed this long from the start (a full run takes ~5 min)."""
CHECK_NAME = f"www.site0.{DOMAIN}"
"""A measured name (cached by the warm passes) queried once to check each server's path."""
LOG_WAIT_SECONDS = 10.0
BLOCKED_ADDRESS = "0.0.0.0"
ANSWERED_REASONS = frozenset({"cached", "forwarded"})
"""filterd_queries reasons of a normal answer; any other (offline, limit, blocked...) in a
round means the benchmark measured something else than it meant to."""

COLUMNS = ("dnsmasq", "household", "child", "child_apps", "unknown")


@dataclass(frozen=True)
class Variant:
    """One server under test: which program, its rules file, and the path it must take."""

    key: str
    server: str  # 'filterd' or 'dnsmasq'
    rules: str | None = None  # rules file text; None: no rules file
    child: str | None = None  # query log `child` of 127.0.0.1's queries; None: not checked
    capped: bool | None = None  # TTLs <= CHILD_TTL_CAP (True), > it (False), or not checked
    about: str = ""
    service: str | None = None  # query log `service` of the measured names; None: not checked


def child_rules(now: float, app_limit: bool = False) -> str:
    """127.0.0.1 is a 13-15-year-old's device: a daily limit, safe search, and a bedtime
    starting three days from today (local), so it cannot be open during the run; with
    ``app_limit`` also a daily limit for BENCH_APP (never spent during a run)."""
    from filterd.rules.model import DAYS

    today = datetime.fromtimestamp(now, ZoneInfo(TIMEZONE)).weekday()
    day = DAYS[(today + 3) % 7]
    return (
        f"timezone: {TIMEZONE}\n"
        "unknown_devices: household\n"
        "children:\n"
        f"  {CHILD_ID}:\n"
        "    name: Benchmark child\n"
        '    age_band: "13_15"\n'
        f'    limits: {{overall: 3h, {BENCH_APP + ": 3h, " if app_limit else ""}reset: "04:00"}}\n'
        f'    offline: [{{days: [{day}], start: "20:30", end: "07:00"}}]\n'
        "    safe_search: {google: true, bing: true, duckduckgo: true, youtube: moderate}\n"
        "devices:\n"
        f"  - {{ip: {servers.LOOPBACK}, name: dnsperf, owner: {CHILD_ID}}}\n"
        "end_of_rules: true\n"
    )


def unknown_rules(choice: str) -> str:
    """127.0.0.1 not listed (the child has another device), unknown devices get ``choice``."""
    return (
        f"timezone: {TIMEZONE}\n"
        f'unknown_devices: "{choice}"\n'
        "children:\n"
        f'  {CHILD_ID}: {{name: Benchmark child, age_band: "13_15", limits: {{overall: 3h}}}}\n'
        "devices:\n"
        f"  - {{ip: 127.0.0.2, name: the child's tablet, owner: {CHILD_ID}}}\n"
        "end_of_rules: true\n"
    )


def offline_during(rules_text: str, child: str | None, start: float, seconds: float) -> bool:
    """Whether the profile (a child's, or unknown devices' when ``child`` is None) is inside
    an offline window at any minute from ``start`` for ``seconds``, by filterd's own rules code."""
    from filterd.rules.decide import situation
    from filterd.rules.parse import parse_rules

    rules = parse_rules(rules_text)
    profile = rules.children[child] if child is not None else rules.unknown
    if profile is None:
        return False
    instants = range(int(start), int(start + seconds) + 60, 60)  # windows move by minutes
    return any(situation(profile, {}, t, rules.timezone).offline for t in instants)


def choose_unknown(now: float) -> tuple[str, list[str]]:
    """The first unknown_devices value whose bedtime stays closed, and those skipped."""
    skipped = []
    for choice in UNKNOWN_CHOICES:
        if not offline_during(unknown_rules(choice), None, now, CLOSED_FOR_SECONDS):
            return choice, skipped
        skipped.append(choice)
    raise servers.ServerError("every unknown_devices choice is inside its bedtime now")


def variants(options: RunOptions, now: float) -> tuple[list[Variant], dict[str, Any]]:
    """The servers to measure (as --only allows) and how the rules were chosen."""
    rules = child_rules(now)
    if offline_during(rules, CHILD_ID, now, CLOSED_FOR_SECONDS):  # cannot happen: 3 days off
        raise servers.ServerError("the child's offline window would be open during the run")
    choice, skipped = choose_unknown(now)
    chosen = {"unknown_devices": choice, "unknown_devices_skipped": skipped}
    found = [
        Variant("dnsmasq", "dnsmasq", about="dnsmasq"),
        Variant("household", "filterd", None, "", False, "filterd, no rules file"),
        Variant("child", "filterd", rules, CHILD_ID, True, "filterd, 127.0.0.1 a child's device"),
        Variant(
            "child_apps",
            "filterd",
            child_rules(now, app_limit=True),
            CHILD_ID,
            True,
            f"filterd, as child, every name an app's ({BENCH_APP}, with a daily limit)",
            BENCH_APP,
        ),
        Variant(
            "unknown",
            "filterd",
            unknown_rules(choice),
            UNKNOWN_ID,
            None,
            f"filterd, 127.0.0.1 unlisted, unknown_devices: {choice}",
        ),
    ]
    return [v for v in found if v.server in options.servers], chosen


def _probe(port: int, name: str) -> dict[str, Any]:
    """One A query from 127.0.0.1 (bound, as dnsperf's are): rcode, addresses, every TTL."""
    query = DNSRecord.question(name, "A")
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(2)
        sock.bind((servers.LOOPBACK, 0))
        sock.connect((servers.LOOPBACK, port))
        sock.send(query.pack())
        reply = DNSRecord.parse(sock.recv(4096))
    return {
        "rcode": str(RCODE.get(reply.header.rcode)),
        "addresses": [str(rr.rdata) for rr in reply.rr if rr.rtype == QTYPE.A],
        "ttls": [rr.ttl for rr in (*reply.rr, *reply.auth) if rr.rtype != QTYPE.OPT],
    }


def _log_children(database: Path, since: float | None = None) -> dict[str, int] | None:
    """Query-log rows from 127.0.0.1 by `child`; None until a row for CHECK_NAME at or after
    ``since`` is written (the log is written in batches, by another process)."""
    with (
        contextlib.suppress(sqlite3.Error),
        contextlib.closing(sqlite3.connect(database, timeout=5)) as db,
    ):
        if since is not None:
            row = db.execute(
                "SELECT 1 FROM queries WHERE name IN (?, ?) AND ts >= ? LIMIT 1",
                (CHECK_NAME, CHECK_NAME + ".", since),
            ).fetchone()
            if row is None:
                return None
        rows = db.execute(
            "SELECT child, COUNT(*) FROM queries WHERE client = ? GROUP BY child",
            (servers.LOOPBACK,),
        ).fetchall()
        return {child: n for child, n in rows}
    return None


def check_path(server: servers.Server, variant: Variant, database: Path) -> dict[str, Any]:
    """Prove with one real query that 127.0.0.1 gets the path this variant is meant to
    measure: answered, not blocked, TTLs capped (or not), the query log's `child` right.
    Raises when it does not, so a wrong path is never measured."""
    since = time.time() - 1
    answer = _probe(server.port, CHECK_NAME)
    problems = []
    if answer["rcode"] != "NOERROR" or not answer["addresses"]:
        problems.append(f"answered {answer['rcode']} with {answer['addresses']}")
    if BLOCKED_ADDRESS in answer["addresses"]:
        problems.append("answered with the blocked address")
    ttls = answer["ttls"]
    if variant.capped is True and max(ttls, default=0) > CHILD_TTL_CAP:
        problems.append(f"TTLs {ttls} not capped at {CHILD_TTL_CAP} s: not the child path")
    if variant.capped is False and min(ttls, default=0) <= CHILD_TTL_CAP:
        problems.append(f"TTLs {ttls} capped: not the household path")
    check: dict[str, Any] = {"name": CHECK_NAME, **answer}
    if variant.child is not None:
        deadline = time.monotonic() + LOG_WAIT_SECONDS
        while (children := _log_children(database, since)) is None:
            if time.monotonic() > deadline:
                break
            time.sleep(0.1)
        check["log_rows_by_child"] = children
        if children is None:
            problems.append(f"no query-log row for {CHECK_NAME} within {LOG_WAIT_SECONDS:g} s")
        elif set(children) != {variant.child}:
            problems.append(f"query log `child` {children}, expected only {variant.child!r}")
    if variant.service is not None:
        service = _log_service(database, since)
        check["log_service"] = service
        if service != variant.service:
            problems.append(f"query log `service` {service!r}, expected {variant.service!r}")
    if problems:
        raise servers.ServerError(f"{variant.key}: wrong path: " + "; ".join(problems))
    return check


def _log_service(database: Path, since: float) -> str | None:
    """The query log's `service` of CHECK_NAME's row from 127.0.0.1 (the check just made)."""
    with (
        contextlib.suppress(sqlite3.Error),
        contextlib.closing(sqlite3.connect(database, timeout=5)) as db,
    ):
        row = db.execute(
            "SELECT service FROM queries WHERE name = ? AND ts >= ? ORDER BY id DESC LIMIT 1",
            (CHECK_NAME, since),
        ).fetchone()
        return None if row is None else row[0]
    return None


def write_app_catalogue(workdir: Path) -> Path:
    """The shipped lists and app catalogue copied, with BENCH_APP owning the measured names."""
    from filterd.catalogue.load import CATALOGUE_FILE

    shipped = workdir / "shipped"
    shutil.copytree(CATALOGUE_FILE.parent, shipped)
    catalogue = shipped / CATALOGUE_FILE.name
    text = catalogue.read_text(encoding="utf-8")
    count = int(text.split("services_count: ", 1)[1].split("\n", 1)[0])
    text = text.replace(f"services_count: {count}", f"services_count: {count + 1}")
    text += (
        f"  {BENCH_APP}:\n    name: Benchmark app\n    kind: gaming\n"
        f"    domains: [{DOMAIN}]\n    checked: 2026-11-27\n    source: knowledge\n"
    )
    catalogue.write_text(text, encoding="utf-8")
    return shipped


def _reasons(server: servers.Server) -> dict[str, float]:
    """filterd_queries by reason (all rcodes) from /metrics; {} for a server without."""
    if server.metrics_port is None:
        return {}
    url = f"http://{servers.LOOPBACK}:{server.metrics_port}/metrics"
    found: dict[str, float] = {}
    with urllib.request.urlopen(url, timeout=5) as response:
        for line in response.read().decode().splitlines():
            if line.startswith("filterd_queries_total{") and 'reason="' in line:
                reason = line.split('reason="', 1)[1].split('"', 1)[0]
                found[reason] = found.get(reason, 0.0) + float(line.rsplit(" ", 1)[1])
    return found


def _round(
    server: servers.Server,
    upstream: ScriptedUpstream,
    query_file: Path,
    seconds: float,
    pinning: Pinning,
) -> dict[str, Any]:
    """One saturated run; the answers' reasons and what reached the upstream are kept."""
    upstream.clear_log()
    before = _reasons(server)
    result, shares = _measured(server, saturate_load(seconds), query_file, pinning)
    after = _reasons(server)
    reasons = {k: round(v - before.get(k, 0.0)) for k, v in after.items()}
    reasons = {k: v for k, v in reasons.items() if v}
    return {
        "qps": result.qps,
        "lost": result.lost,
        "rcodes": result.rcodes,
        "reasons": reasons,
        "unexpected_answers": sum(v for k, v in reasons.items() if k not in ANSWERED_REASONS),
        "forwarded_upstream": len(upstream.queries()),  # a warm cache forwards nothing
        "server_cpu_busy": shares["server"],
        "cpu": shares,
        "unreliable": any(
            (shares[key] or 0) > SATURATED_INTERFERENCE for key in ("other", "steal")
        ),
    }


@contextlib.contextmanager
def _prepared(
    variant: Variant,
    upstream: ScriptedUpstream,
    query_file: Path,
    workdir: Path,
    pinning: Pinning,
) -> Iterator[tuple[servers.Server, dict[str, Any]]]:
    """Start one server, warm its cache and check its path; stopped when the block ends."""
    workdir.mkdir()
    extra = ""
    if variant.rules is not None:
        rules = workdir / "rules.yaml"
        rules.write_text(variant.rules, encoding="utf-8")
        extra = f'rules: "{rules}"\n'
    if variant.service is not None:
        shipped = write_app_catalogue(workdir)
        extra += f'lists_update: {{shipped: "{shipped}", directory: "{workdir / "lists"}"}}\n'
    started = time.monotonic()
    with servers.start(
        variant.server, upstream.addr, workdir, pinning, PROBE_NAME, filterd_extra=extra
    ) as server:
        entry: dict[str, Any] = {"about": variant.about}
        entry["startup_seconds"] = round(time.monotonic() - started, 3)
        entry.update(_warm(server, upstream, query_file, pinning))
        entry["path_check"] = check_path(server, variant, workdir / "filterd.db")
        entry["rounds"] = []
        yield server, entry


def _summarise(entry: dict[str, Any], server: servers.Server) -> None:
    """Mean over the rounds, and what the server cost."""
    rounds = entry["rounds"]
    if rounds:
        entry["throughput_qps"] = round(statistics.mean(r["qps"] for r in rounds), 1)
        entry["throughput_lost"] = sum(r["lost"] for r in rounds)
        entry["server_cpu_busy"] = round(statistics.mean(r["server_cpu_busy"] for r in rounds), 3)
        entry["throughput_unreliable"] = any(r["unreliable"] for r in rounds)
        entry["unexpected_answers"] = sum(r["unexpected_answers"] for r in rounds)
        entry["forwarded_upstream"] = sum(r["forwarded_upstream"] for r in rounds)
    entry["peak_rss_by_process_kib"] = server.peak_rss_by_process()
    entry["peak_rss_kib"] = sum(entry["peak_rss_by_process_kib"].values())
    entry["command"] = [str(a) for a in server.process.args]


def measure(
    found: list[Variant],
    upstream: ScriptedUpstream,
    query_file: Path,
    tmpdir: Path,
    options: RunOptions,
    pinning: Pinning,
) -> dict[str, dict[str, Any]]:
    """Start, warm and check every server, then alternate saturated rounds over them all."""
    results: dict[str, dict[str, Any]] = {}
    running: dict[str, servers.Server] = {}
    with contextlib.ExitStack() as stack:
        for variant in found:
            print(f"[{NAME}] {variant.about}: start, warm, check path ...", flush=True)
            try:
                with contextlib.ExitStack() as one:
                    server, entry = one.enter_context(
                        _prepared(variant, upstream, query_file, tmpdir / variant.key, pinning)
                    )
                    stack.enter_context(one.pop_all())  # keep it running until the end
            except (servers.ServerError, dnsperf.DnsperfError, OSError) as exc:
                print(f"[{NAME}] {variant.key}: could not run: {exc}", flush=True)
                results[variant.key] = {"about": variant.about, "error": str(exc)}
                continue
            results[variant.key] = entry
            running[variant.key] = server
        waited, busy = machine.wait_quiet(options.durations.max_quiet_wait_seconds)
        rounds = QUICK_ROUNDS if options.quick else ROUNDS
        seconds = options.durations.saturate_seconds
        for n in range(rounds):
            order = list(running.items())
            for key, server in order[::-1] if n % 2 else order:  # ABBA: drift cancels
                if "error" in results[key]:
                    continue
                print(f"[{NAME}] {key}: saturated round {n + 1}/{rounds} ...", flush=True)
                try:
                    results[key]["rounds"].append(
                        _round(server, upstream, query_file, seconds, pinning)
                    )
                except (servers.ServerError, dnsperf.DnsperfError, OSError) as exc:
                    print(f"[{NAME}] {key}: could not run: {exc}", flush=True)
                    results[key]["error"] = str(exc)
        for key, server in running.items():
            results[key]["waited_for_quiet_seconds"] = waited
            results[key]["cpu_busy_before"] = busy
            if "error" not in results[key]:
                _summarise(results[key], server)
    # stopped: each query log is flushed, so it shows whose rules answered dnsperf's queries
    for key in running:
        if key != "dnsmasq":
            results[key]["log_rows_by_child"] = _log_children(tmpdir / key / "filterd.db")
    return results


def _ratio(results: dict[str, dict[str, Any]], a: str, b: str) -> float | None:
    """Throughput of ``a`` over ``b``, or None when either was not measured."""
    qa = results.get(a, {}).get("throughput_qps")
    qb = results.get(b, {}).get("throughput_qps")
    return round(qa / qb, 3) if qa and qb else None


def derive(results: dict[str, dict[str, Any]]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Throughput ratios and the target: the child path keeps 80% of the household's."""
    ratios = {
        "child_over_household": _ratio(results, "child", "household"),
        "child_over_dnsmasq": _ratio(results, "child", "dnsmasq"),
        "household_over_dnsmasq": _ratio(results, "household", "dnsmasq"),
        "unknown_over_household": _ratio(results, "unknown", "household"),
        "unknown_over_dnsmasq": _ratio(results, "unknown", "dnsmasq"),
        "child_apps_over_child": _ratio(results, "child_apps", "child"),
        "child_apps_over_dnsmasq": _ratio(results, "child_apps", "dnsmasq"),
    }
    pair = [results.get(k, {}) for k in ("child", "household")]
    value = ratios["child_over_household"]
    right_path = all(not e.get("unexpected_answers") for e in pair)
    targets = [
        {
            "target": f"filterd child path throughput >= {THROUGHPUT_TARGET:g} x household path",
            "value": value,
            "pass": value is not None and value >= THROUGHPUT_TARGET and right_path,
            "reliable": not any(e.get("throughput_unreliable") for e in pair),
        }
    ]
    apps_pair = [results.get(k, {}) for k in ("child_apps", "child")]
    apps_value = ratios["child_apps_over_child"]
    targets.append(
        {
            "target": f"filterd child path with app matching >= {APPS_TARGET:g} x without",
            "value": apps_value,
            "pass": apps_value is not None
            and apps_value >= APPS_TARGET
            and all(not e.get("unexpected_answers") for e in apps_pair),
            "reliable": not any(e.get("throughput_unreliable") for e in apps_pair),
        }
    )
    return ratios, targets


def run(options: RunOptions, pinning: Pinning) -> dict[str, Any]:
    """Choose the rules, start the upstream once, measure every server against it."""
    from tests.support.upstream_process import ScriptedUpstream  # written alongside filterd

    found, chosen = variants(options, time.time())
    with tempfile.TemporaryDirectory(prefix="filterd-bench-", ignore_cleanup_errors=True) as tmp:
        tmpdir = Path(tmp)
        query_file = write_query_file(tmpdir)
        with ScriptedUpstream(host=servers.LOOPBACK) as upstream:
            results = measure(found, upstream, query_file, tmpdir, options, pinning)
            upstream_addr = upstream.addr
    ratios, targets = derive(results)
    print(f"[{NAME}] app matching in the policy stage, in process ...", flush=True)
    in_process = app_matching.measure(
        child_rules(time.time()),
        child_rules(time.time(), app_limit=True),
        CHILD_ID,
        BENCH_APP,
        DOMAIN,
    )
    targets.append(
        {
            "target": "app matching adds <= 10% to a child's answer in the policy stage"
            " (in process, same run)",
            "value": in_process["slower_by"],
            "pass": in_process["slower_by"] <= 1 - APPS_TARGET,
            "reliable": True,
        }
    )
    return {
        "benchmark": NAME,
        "quick": options.quick,
        "settings": {
            "names": NAME_COUNT,
            "upstream": upstream_addr,
            "durations": vars(options.durations),
            "warm": vars(WARM),
            "verify": vars(VERIFY),
            "saturate": vars(saturate_load(options.durations.saturate_seconds)),
            "rounds": QUICK_ROUNDS if options.quick else ROUNDS,
            "dnsperf_query_timeout_s": dnsperf.QUERY_TIMEOUT,
            "cache_entries": servers.CACHE_ENTRIES,
            "child_ttl_cap": CHILD_TTL_CAP,
            **chosen,
            "rules_files": {v.key: v.rules for v in found if v.rules is not None},
        },
        "servers": results,
        "ratios": ratios,
        "app_matching_in_process": in_process,
        "targets": targets,
    }


def failed(data: dict[str, Any]) -> bool:
    """True when a selected server could not be measured or answered off its path."""
    return any("error" in r or r.get("unexpected_answers") for r in data["servers"].values())


def summary(data: dict[str, Any]) -> str:
    """One column per server, then the ratios, what was measured, and PASS/MISS."""
    res = data["servers"]
    names = [k for k in COLUMNS if k in res]
    ratios = data["ratios"]

    def cell(key: str, name: str, digits: int, scale: float = 1.0) -> str:
        value = res[name].get(key)
        return fmt(None if value is None else value * scale, digits)

    def round_qps(name: str, i: int) -> str:
        rounds = res[name].get("rounds", [])
        return fmt(rounds[i]["qps"], 0) if len(rounds) > i else "-"

    def check(name: str) -> str:
        ttls = res[name].get("path_check", {}).get("ttls")
        return f"{max(ttls)}" if ttls else "-"

    def child(name: str) -> str:
        rows = res[name].get("log_rows_by_child")
        return ", ".join(f"{k or '(none)'} {v:,}" for k, v in rows.items()) if rows else "-"

    rows = [
        ["throughput (q/s)", *(cell("throughput_qps", n, 0) for n in names)],
        *(
            [f"  round {i + 1}", *(round_qps(n, i) for n in names)]
            for i in range(data["settings"]["rounds"])
        ),
        ["  lost", *(cell("throughput_lost", n, 0) for n in names)],
        ["  server CPU busy", *(cell("server_cpu_busy", n, 2) for n in names)],
        ["  forwarded upstream", *(cell("forwarded_upstream", n, 0) for n in names)],
        ["  not cached/forwarded", *(cell("unexpected_answers", n, 0) for n in names)],
        ["check answer max TTL (s)", *(check(n) for n in names)],
        ["query log rows by child", *(child(n) for n in names)],
        ["peak RSS (MiB)", *(cell("peak_rss_kib", n, 1, 1 / 1024) for n in names)],
    ]
    lines = [format_table(["", *names], rows), ""]
    labels = {
        "child_over_household": "child / household",
        "child_over_dnsmasq": "child / dnsmasq",
        "household_over_dnsmasq": "household / dnsmasq",
        "unknown_over_household": "unknown / household",
        "unknown_over_dnsmasq": "unknown / dnsmasq",
        "child_apps_over_child": "child_apps / child",
        "child_apps_over_dnsmasq": "child_apps / dnsmasq",
    }
    for key, label in labels.items():
        if ratios.get(key) is not None:
            lines.append(f"throughput {label}: {ratios[key]:.2f}x")
    settings = data["settings"]
    for name in names:
        lines.append(f"{name}: {res[name]['about']}")
    if settings["unknown_devices_skipped"]:
        skipped = ", ".join(settings["unknown_devices_skipped"])
        lines.append(
            f"note: unknown measured with unknown_devices: {settings['unknown_devices']}; "
            f"{skipped} skipped, their bedtime is open within "
            f"{CLOSED_FOR_SECONDS // 60} min (every answer would be blocked)"
        )
    for name in names:
        entry = res[name]
        if "error" in entry:
            lines.append(f"{name}: NOT RUN: {entry['error'].splitlines()[0]}")
            continue
        if entry.get("throughput_unreliable"):
            lost = max(max(r["cpu"]["other"] or 0, r["cpu"]["steal"] or 0) for r in entry["rounds"])
            lines.append(
                f"warning: {name}: the server core was lost to something else up to {lost:.0%} "
                "of a round; those numbers are pessimistic"
            )
        if entry.get("unexpected_answers"):
            lines.append(
                f"WRONG PATH: {name} gave {entry['unexpected_answers']:,} answers that were not "
                f"cached or forwarded: {entry['rounds'][-1]['reasons']}"
            )
        if entry.get("forwarded_upstream"):
            lines.append(
                f"note: {name} forwarded {entry['forwarded_upstream']} queries upstream while "
                "saturated (cache entries expired?)"
            )
    in_process = data.get("app_matching_in_process")
    if in_process:
        best = in_process["best_us"]
        lines.append(
            f"policy stage per child answer (in process, best of {in_process['rounds']}):"
            f" {best['without']:.2f} us without app matching, {best['with']:.2f} us with;"
            f" median of {in_process['rounds']} paired rounds {in_process['slower_by']:+.1%}"
        )
    lines += target_lines(data["targets"])
    return "\n".join(lines)
