"""A Pi's budget (issue 13): every process of the appliance together under 200 MB of RSS, with a
1,000,000-domain index and 30 days of query log.

Builds (cached in the temp directory, like the dashboard benchmark) a filterd.db holding a
month of query log written with filterd's own schema and writer statement
(bench.dashboard.ensure_data: 5,000,000 rows for 4 children and 10 devices; 1,000,000 with
--quick), and a 1,000,000-domain list compiled into an index by `filterd lists update`. Then
starts the real processes an appliance runs: `filterd run` (with its query-log writer child)
on that index, database and rules, and `filterd dashboard`, forwarding to a scripted upstream on
loopback (not counted: on the box it is the internet). While dnsperf asks a home's mix (a fifth
of the names on the list, most names new so the cache fills) at BUSY_QPS, a signed-in carer
loads the home page, the blocked log (24 h and 30 days) and Health over and over. RSS of every
process is sampled throughout; the result is the sum of each process's peak (VmHWM), which is
at least the peak of their sum, against TARGET_MB (MB = 10^6 bytes).
"""

from __future__ import annotations

import contextlib
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import yaml

from bench import blocklists, dashboard, dnsperf, machine, servers
from bench.machine import Pinning
from bench.options import RunOptions
from bench.report import fmt, format_table, target_lines

NAME = "pi_budget"

DOMAINS = 1_000_000
TARGET_MB = 200.0
BUSY_QPS = 300  # a busy home: several phones, a console and a television streaming
SECONDS = 60.0
QUICK_SECONDS = 20.0
PAGES = ("/", "/blocked/", "/blocked/?range=30d", "/health")
SAMPLE_INTERVAL = 0.1
PASSWORD = "a long pass phrase for the box"
KIB = 1024


def _index(directory: Path, pinning: Pinning) -> tuple[Path, Path, Path, dict[str, Any]]:
    """(list file, index directory, shipped directory, compile result), reused when built."""
    list_file = directory / "1M.txt"
    shipped = directory / "shipped"
    shipped.mkdir(exist_ok=True)
    workdir = directory / "compile"
    index_dir = workdir / "lists"
    if not list_file.exists() or list_file.stat().st_size == 0:
        with open(list_file, "w", encoding="ascii") as out:
            for start in range(0, DOMAINS, 100_000):
                end = min(start + 100_000, DOMAINS)
                out.write("\n".join(blocklists.domain(i) for i in range(start, end)) + "\n")
    if (index_dir / "index.bin").exists():
        return list_file, index_dir, shipped, {"reused": True}
    if workdir.exists():
        import shutil

        shutil.rmtree(workdir)
    result = blocklists.compile_index(DOMAINS, list_file, workdir, shipped, pinning)
    return list_file, index_dir, shipped, {"reused": False, **result}


def _queries(directory: Path) -> Path:
    """dnsperf's mix: a fifth listed names, the rest names of sites (most never asked twice)."""
    path = directory / "mix.txt"
    if not path.exists():
        lines = []
        for i in range(50_000):
            if i % 5 == 0:
                lines.append(f"{blocklists.domain(i * 17 % DOMAINS)} A")
            else:
                lines.append(f"www.site{i}.example {'AAAA' if i % 3 == 0 else 'A'}")
        path.write_text("\n".join(lines) + "\n", encoding="ascii")
    return path


def _config(run_dir: Path, data_dir: Path, index_dir: Path, list_file: Path, shipped: Path, up):
    port, dash = servers.free_port(), servers.free_port()
    config = {
        "listen": [f"{servers.LOOPBACK}:{port}"],
        "upstreams": [up.addr],
        "allow_clients": ["127.0.0.0/8"],
        "database": str(data_dir / "filterd.db"),
        "rules": str(data_dir / "rules.yaml"),
        "rate_limit": {"queries_per_second": 0},
        "query_log": {"retention_days": dashboard.DAYS + 1},
        "dashboard": {
            "listen": f"{servers.LOOPBACK}:{dash}",
            "database": str(run_dir / "dashboard.db"),
        },
    }
    text = yaml.safe_dump(config) + blocklists.lists_yaml(list_file, index_dir, shipped)
    path = run_dir / "filterd.yaml"
    path.write_text(text, encoding="utf-8")
    return path, port, f"https://{servers.LOOPBACK}:{dash}"


class Sampler(threading.Thread):
    """RSS of each process tree every SAMPLE_INTERVAL: the peak of the sum, and who was in it."""

    def __init__(self, roots: dict[str, int]) -> None:
        super().__init__(daemon=True)
        self.roots = roots
        self.stop_event = threading.Event()
        self.peak_sum_kib = 0
        self.samples = 0
        self.seen: dict[int, str] = {}
        self.first_kib: dict[int, int] = {}  # each process's RSS when first sampled

    def run(self) -> None:
        while not self.stop_event.is_set():
            total = 0
            for role, root in self.roots.items():
                for pid in servers._process_tree(root):
                    self.seen.setdefault(pid, f"{role}: {servers._status_text(pid, 'Name')}")
                    rss = servers._status_kib(pid, "VmRSS")
                    self.first_kib.setdefault(pid, rss)
                    total += rss
            self.peak_sum_kib = max(self.peak_sum_kib, total)
            self.samples += 1
            self.stop_event.wait(SAMPLE_INTERVAL)

    def peaks(self) -> dict[str, dict[str, int]]:
        """Per process seen (still running): RSS when first sampled, now, and its peak
        (VmHWM, which covers its start too), KiB."""
        return {
            f"{pid} {label}": {
                "first_kib": self.first_kib.get(pid, 0),
                "now_kib": servers._status_kib(pid, "VmRSS"),
                "peak_kib": servers._status_kib(pid, "VmHWM"),
            }
            for pid, label in self.seen.items()
            if Path(f"/proc/{pid}").exists()
        }


def _pages(url: str, stop: threading.Event, done: dict[str, list[float]]) -> None:
    """A carer looking at the dashboard, page after page, until `stop`."""
    from tests.support.web_client import Device

    client = Device(url)
    reply = client.log_in("carer", PASSWORD)
    if reply.status != 302:
        raise RuntimeError(f"log in answered {reply.status}")
    while not stop.is_set():
        for page in PAGES:
            started = time.perf_counter()
            reply = client.get(page)
            if reply.status != 200:
                raise RuntimeError(f"GET {page} answered {reply.status}")
            done.setdefault(page, []).append((time.perf_counter() - started) * 1000)


def run(options: RunOptions, pinning: Pinning) -> dict[str, Any]:
    from tests.support.dashboard_process import DashboardProcess
    from tests.support.upstream_process import ScriptedUpstream

    rows = dashboard.QUICK_ROWS if options.quick else dashboard.ROWS
    seconds = QUICK_SECONDS if options.quick else SECONDS
    base = Path(tempfile.gettempdir()) / "filterd-bench-pi-budget"
    data_dir = base / f"log-{rows // 1_000_000}m"
    base.mkdir(exist_ok=True)
    print(f"[{NAME}] data: {rows:,} query-log rows over {dashboard.DAYS} days", flush=True)
    meta, reused = dashboard.ensure_data(data_dir, rows)
    said = "reused" if reused else "built"
    print(f"[{NAME}] {said} the log; now the 1M-domain index ...", flush=True)
    list_file, index_dir, shipped, compiled = _index(base, pinning)
    queries = _queries(base)
    db_bytes = sum(p.stat().st_size for p in data_dir.glob("filterd.db*"))
    run_dir = Path(tempfile.mkdtemp(prefix="filterd-pi-budget-"))
    waited, busy_before = machine.wait_quiet(options.durations.max_quiet_wait_seconds)
    with contextlib.ExitStack() as stack:
        up = stack.enter_context(ScriptedUpstream())
        config, port, url = _config(run_dir, data_dir, index_dir, list_file, shipped, up)
        argv = [*servers.filterd_command(), "run", "--config", str(config)]
        filterd = stack.enter_context(
            servers.running(
                "filterd", pinning.prefix(pinning.server_cpu) + argv, port, run_dir, "probe.example"
            )
        )
        add = [*servers.filterd_command(), "users", "add", "carer", "--role", "administrator"]
        subprocess.run(
            [*add, "--config", str(config)],
            input=PASSWORD + "\n",
            text=True,
            capture_output=True,
            check=True,
            timeout=60,
        )
        listen = url.removeprefix("https://")
        board = DashboardProcess(config, listen, run_dir).start(timeout=60)
        stack.callback(board.stop)
        sampler = Sampler({"filterd": filterd.pid, "dashboard": board.proc.pid})
        sampler.start()
        before = machine.cpu_times()
        stop, loads = threading.Event(), {}
        errors: list[BaseException] = []

        def browse() -> None:
            try:
                _pages(url, stop, loads)
            except BaseException as exc:  # reported after the run
                errors.append(exc)

        browser = threading.Thread(target=browse, daemon=True)
        browser.start()
        load = dnsperf.Load(seconds=seconds, max_qps=BUSY_QPS, outstanding=50, clients=4)
        result = dnsperf.run(load, port, queries, pinning)
        stop.set()
        browser.join(timeout=60)
        time.sleep(1)  # the log writer's last batch
        sampler.stop_event.set()
        sampler.join()
        peaks = sampler.peaks()
        busy_during = machine.busy_since(before)
    if errors:
        raise RuntimeError(f"dashboard pages failed: {errors[0]!r}")
    total_kib = sum(p["peak_kib"] for p in peaks.values())
    total_mb = total_kib * KIB / 1e6
    reliable = max(busy_before.values(), default=0.0) <= machine.QUIET
    return {
        "settings": {
            "domains": DOMAINS,
            "log_rows": rows,
            "days": dashboard.DAYS,
            "dns_qps": BUSY_QPS,
            "seconds": seconds,
            "pages": list(PAGES),
        },
        "data": {**meta, "reused": reused, "db_bytes": db_bytes, "index": compiled},
        "dns": {
            "sent": result.sent,
            "completed": result.completed,
            "rcodes": result.rcodes,
            "qps": result.qps,
        },
        "page_loads": {page: len(times) for page, times in loads.items()},
        "page_ms_median": {
            page: round(sorted(times)[len(times) // 2], 1) for page, times in loads.items()
        },
        "peak_rss_kib_by_process": peaks,
        "peak_of_sum_kib": sampler.peak_sum_kib,
        "samples": sampler.samples,
        "quiet_wait_seconds": waited,
        "busy_before": busy_before,
        "busy_during": busy_during,
        "targets": [
            {
                "target": f"every process's peak RSS together <= {TARGET_MB:g} MB",
                "value": round(total_mb, 1),
                "pass": total_mb <= TARGET_MB,
                "reliable": reliable,
            }
        ],
    }


def failed(data: dict[str, Any]) -> bool:
    """A run that answered no DNS measured nothing."""
    return data["dns"]["completed"] == 0


def summary(data: dict[str, Any]) -> str:
    s, d = data["settings"], data["data"]
    lines = [
        f"{s['domains']:,}-domain index, {s['log_rows']:,} query-log rows over {s['days']} days"
        f" (filterd.db {fmt(d['db_bytes'] / 1e6, 0)} MB); DNS at {s['dns_qps']} q/s for"
        f" {s['seconds']:g} s ({data['dns']['completed']:,} answered) while the dashboard"
        " served " + ", ".join(f"{page} x{n}" for page, n in data["page_loads"].items()),
        "",
    ]

    def mb(kib: int) -> str:
        return fmt(kib * KIB / 1e6, 1)

    by_process = data["peak_rss_kib_by_process"]
    rows = [
        [name, mb(p["first_kib"]), mb(p["now_kib"]), mb(p["peak_kib"])]
        for name, p in sorted(by_process.items(), key=lambda i: -i[1]["peak_kib"])
    ]
    rows.append(["all together (sum of peaks)", "", "", fmt(data["targets"][0]["value"], 1)])
    rows.append(["peak of the sum (sampled)", "", "", mb(data["peak_of_sum_kib"])])
    headers = ["process", "RSS at start MB", "at end MB", "peak MB"]
    lines.append(format_table(headers, rows))
    lines.append("")
    lines.append(
        "page medians: "
        + ", ".join(f"{p} {fmt(ms, 0)} ms" for p, ms in data["page_ms_median"].items())
    )
    lines += target_lines(data["targets"])
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit("run it as: python -m bench pi_budget [--quick]")
