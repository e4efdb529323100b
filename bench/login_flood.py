"""Login flood benchmark: the dashboard's peak memory while 40 clients hammer /login (issue 12).

Starts the real dashboard process on a fresh dashboard.db with one account, then for SECONDS
has WORKERS threads post wrong passwords for unknown and known names, each worker from its own
127.x source address (as many devices on the Wi-Fi would), and reads the process's peak
resident memory (VmHWM) and CPU time, while filterd on the same machine answers cached names
every 20 ms (its p50/p99 latency idle and during the flood). argon2id at 64 MiB with 8 server
threads peaked at 613 MB in the review; the dashboard now hashes one 19 MiB hash at a time.

`python -m bench.login_flood [--tree DIR]` measures another checkout (e.g. an older commit in
a `git worktree`) with the same load, for a before/after figure.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import yaml

from bench import servers
from bench.machine import Pinning
from bench.options import REPO_ROOT, RunOptions
from bench.report import format_table
from tests.support.dns_client import timed_ask
from tests.support.filterd_process import free_port
from tests.support.web_client import Device

NAME = "login_flood"
DNS_NAMES = 50
WORKERS = 40
SECONDS = 12.0
PASSWORD = "correct horse battery"


def _status(pid: int, field: str) -> int:
    text = Path(f"/proc/{pid}/status").read_text()
    match = re.search(rf"^{field}:\s+(\d+) kB", text, re.M)
    return int(match[1]) if match else 0


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _percentile(values: list[float], share: float) -> float | None:
    ordered = sorted(values)
    if not ordered:
        return None
    return round(ordered[min(len(ordered) - 1, int(len(ordered) * share))] * 1000, 2)


def _dns_latencies(port: int, seconds: float) -> list[float]:
    """Cached names asked every 20 ms: what a home's devices feel meanwhile."""
    found: list[float] = []
    stop_at = time.monotonic() + seconds
    n = 0
    while time.monotonic() < stop_at:
        reply, took = timed_ask(port, f"site{n % DNS_NAMES}.example", timeout=2.0)
        found.append(took if reply is not None else 2.0)
        n += 1
        time.sleep(0.02)
    return found


def flood(tree: Path, seconds: float = SECONDS) -> dict[str, Any]:
    """The flood against the dashboard of `tree`, with this tree's filterd answering DNS on
    the same machine (the daemon is the same before and after; only the dashboard differs)."""
    from tests.support.upstream_process import ScriptedUpstream

    work = Path(tempfile.mkdtemp(prefix="filterd-bench-login-"))
    with ScriptedUpstream(host=servers.LOOPBACK) as upstream:
        dns_dir = work / "dns"
        dns_dir.mkdir()
        port, metrics = free_port(), free_port()
        config = servers.filterd_config(port, upstream.addr, dns_dir, metrics)
        argv = [*servers.filterd_command(), "run", "--config", str(config)]
        with servers.running("filterd", argv, port, dns_dir, "probe.example"):
            for n in range(DNS_NAMES):  # warm the cache
                timed_ask(port, f"site{n}.example", timeout=2.0)
            return _flood(tree, work, seconds, port)


def _flood(tree: Path, work: Path, seconds: float, dns_port: int) -> dict[str, Any]:
    listen = f"127.0.0.1:{free_port()}"
    (work / "rules.yaml").write_text("timezone: Europe/London\nend_of_rules: true\n")
    config = {
        "listen": ["127.0.0.1:1053"],
        "upstreams": ["127.0.0.1:1"],
        "database": str(work / "filterd.db"),
        "rules": str(work / "rules.yaml"),
        "dashboard": {"listen": listen, "database": str(work / "dashboard.db")},
    }
    (work / "filterd.yaml").write_text(yaml.safe_dump(config))
    env = dict(os.environ, PYTHONPATH=str(tree))
    add = [sys.executable, "-m", "filterd", "users", "add", "carer", "--role", "carer"]
    subprocess.run(
        [*add, "--config", str(work / "filterd.yaml")],
        input=PASSWORD + "\n",
        text=True,
        cwd=tree,
        env=env,
        check=True,
        capture_output=True,
    )
    log = (work / "dashboard.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "filterd", "dashboard", "--config", str(work / "filterd.yaml")],
        cwd=work,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = ""
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and not base:
            for scheme in ("https", "http"):
                try:
                    Device(f"{scheme}://{listen}").get("/login", timeout=1)
                    base = f"{scheme}://{listen}"
                    break
                except OSError:
                    continue
            time.sleep(0.1)
        if not base:
            raise RuntimeError((work / "dashboard.log").read_text())
        idle_kb = _status(process.pid, "VmRSS")
        dns_idle = _dns_latencies(dns_port, 3.0)
        cpu_before = _cpu_seconds(process.pid)
        answered: list[int] = []
        stop_at = time.monotonic() + seconds

        def worker(number: int) -> None:
            device = Device(base, source=f"127.0.4.{number + 1}")
            n = 0
            while time.monotonic() < stop_at:
                name = "carer" if n % 2 else f"nobody{number}-{n}"
                try:
                    answered.append(device.log_in(name, "not the password at all").status)
                except OSError:
                    answered.append(0)
                n += 1

        threads = [threading.Thread(target=worker, args=(i,)) for i in range(WORKERS)]
        for thread in threads:
            thread.start()
        dns_flood = _dns_latencies(dns_port, seconds)
        for thread in threads:
            thread.join()
        peak_kb = _status(process.pid, "VmHWM")
        cpu = _cpu_seconds(process.pid) - cpu_before
    finally:
        process.terminate()
        process.wait(timeout=10)
        log.close()
    return {
        "tree": str(tree),
        "scheme": base.split(":")[0],
        "seconds": seconds,
        "workers": WORKERS,
        "requests": len(answered),
        "statuses": {str(s): answered.count(s) for s in sorted(set(answered))},
        "idle_rss_mb": round(idle_kb / 1024, 1),
        "peak_rss_mb": round(peak_kb / 1024, 1),
        "cpu_seconds": round(cpu, 1),
        "dns_ms_idle": {"p50": _percentile(dns_idle, 0.5), "p99": _percentile(dns_idle, 0.99)},
        "dns_ms_flood": {"p50": _percentile(dns_flood, 0.5), "p99": _percentile(dns_flood, 0.99)},
    }


def run(options: RunOptions, pinning: Pinning) -> dict[str, Any]:
    return flood(REPO_ROOT, SECONDS / 2 if options.quick else SECONDS)


def failed(data: dict[str, Any]) -> bool:
    return data["peak_rss_mb"] > 150


def summary(data: dict[str, Any]) -> str:
    rows = [
        ["requests", str(data["requests"])],
        ["answers", json.dumps(data["statuses"])],
        ["idle RSS (MB)", str(data["idle_rss_mb"])],
        ["peak RSS (MB)", str(data["peak_rss_mb"])],
        ["dashboard CPU (s)", str(data["cpu_seconds"])],
        ["DNS p50/p99 ms idle", f"{data['dns_ms_idle']['p50']} / {data['dns_ms_idle']['p99']}"],
        ["DNS p50/p99 ms flood", f"{data['dns_ms_flood']['p50']} / {data['dns_ms_flood']['p99']}"],
    ]
    title = f"login flood: {data['workers']} clients for {data['seconds']:.0f} s"
    return title + "\n" + format_table(["", "value"], rows)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tree", type=Path, default=REPO_ROOT, help="checkout to measure")
    parser.add_argument("--seconds", type=float, default=SECONDS)
    args = parser.parse_args()
    print(json.dumps(flood(args.tree.resolve(), args.seconds), indent=2))
