"""filterd's own CPU per cached answer, in process: this checkout and each ``--baseline DIR``.

cpu_per_query measures the whole server at a fixed rate, kernel and uvloop included; on this
shared 2-core machine its rounds move by several per cent, more than one change to the DNS
path saves. Here each checkout's real Daemon (real chain, cache, query log, clock; its own
code, from its own directory) answers the forwarder benchmark's 10,000 warm names handed
straight to its UDP protocol's datagram_received, with a transport that only counts the
answers (bench/python_path_child.py). The socket layer it leaves out is the same code for
every checkout. Reported: CPU time of the answering thread per answer (the best of 3 passes
over every name, in rounds whose order rotates, median round) and the Python calls per
answer, which do not move with load at all.

The client is loopback, as dnsperf's is in every benchmark here; rate limiting is off, as in
the forwarder benchmark's config.
"""

from __future__ import annotations

import contextlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from bench.machine import Pinning
from bench.options import REPO_ROOT, RunOptions, variants
from bench.report import fmt, format_table

NAME = "python_path"
CHILD = Path(__file__).resolve().with_name("python_path_child.py")
ROUNDS = 7
QUICK_ROUNDS = 3
READY_TIMEOUT = 120.0


class Checkout:
    """One checkout's filterd answering in its own process, pinned to the server core."""

    def __init__(self, label: str, tree: Path, upstream: str, workdir: Path, pinning: Pinning):
        python = tree / ".venv" / "bin" / "python"
        executable = str(python) if python.exists() else sys.executable
        # -P: the child's own folder (bench/) is not put first on the path, so the checkout's
        # modules are found, not bench's (bench/dashboard.py is not the dashboard).
        argv = [executable, "-P", str(CHILD), upstream, str(workdir)]
        env = dict(os.environ, PYTHONPATH=str(tree.resolve()))
        self.label = label
        self.process = subprocess.Popen(
            pinning.prefix(pinning.server_cpu) + argv,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            cwd=workdir,
            env=env,
            text=True,
        )
        self.ready = self._read()
        if not self.ready.get("ready"):
            raise RuntimeError(f"{label}: its filterd did not start answering from the cache")

    def _read(self) -> dict[str, Any]:
        line = self.process.stdout.readline()
        if not line:
            code = self.process.wait(timeout=READY_TIMEOUT)
            raise RuntimeError(f"{self.label}: stopped (exit code {code})")
        return json.loads(line)

    def measure(self) -> float:
        """Microseconds of CPU per cached answer, best of the child's passes."""
        self.process.stdin.write("measure\n")
        self.process.stdin.flush()
        return self._read()["us"]

    def stop(self) -> None:
        with contextlib.suppress(OSError):
            self.process.stdin.write("stop\n")
            self.process.stdin.close()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def run(options: RunOptions, pinning: Pinning) -> dict[str, Any]:
    """Start every checkout's filterd, then measure them in rotating order, round by round."""
    from tests.support.upstream_process import ScriptedUpstream  # written alongside filterd

    rounds = QUICK_ROUNDS if options.quick else ROUNDS
    chosen = [
        (label, tree or REPO_ROOT) for label, kind, tree in variants(options) if kind == "filterd"
    ]
    results: dict[str, dict[str, Any]] = {}
    with (
        tempfile.TemporaryDirectory(prefix="filterd-bench-", ignore_cleanup_errors=True) as tmp,
        ScriptedUpstream(host="127.0.0.1") as upstream,
        contextlib.ExitStack() as stack,
    ):
        running: dict[str, Checkout] = {}
        for label, tree in chosen:
            workdir = Path(tmp) / label
            workdir.mkdir()
            print(f"[{NAME}] {label}: starting and warming the cache ...", flush=True)
            checkout = Checkout(label, tree, upstream.addr, workdir, pinning)
            stack.callback(checkout.stop)
            running[label] = checkout
            results[label] = {
                "tree": None if tree == REPO_ROOT else str(tree),
                "calls_per_answer": checkout.ready["calls"],
                "rounds_us": [],
            }
        labels = list(running)
        for i in range(rounds):
            for label in labels[i % len(labels) :] + labels[: i % len(labels)]:
                us = running[label].measure()
                results[label]["rounds_us"].append(round(us, 3))
                print(f"[{NAME}] round {i + 1}/{rounds} {label}: {us:.3f} us/answer", flush=True)
    for entry in results.values():
        entry["us_median"] = statistics.median(entry["rounds_us"])
    return {"benchmark": NAME, "quick": options.quick, "rounds": rounds, "checkouts": results}


def failed(data: dict[str, Any]) -> bool:
    """True when a checkout was not measured in every round."""
    return any(len(c["rounds_us"]) != data["rounds"] for c in data["checkouts"].values())


def summary(data: dict[str, Any]) -> str:
    """One row per checkout: Python calls and CPU per cached answer, and the ratio to this."""
    found = data["checkouts"]
    this = found.get("filterd", {}).get("us_median")
    rows = [
        [
            label if entry["tree"] is None else f"{label} ({entry['tree']})",
            fmt(entry["calls_per_answer"], 1),
            fmt(entry["us_median"], 3),
            fmt(min(entry["rounds_us"]), 3),
            fmt(this / entry["us_median"] if this else None, 3),
        ]
        for label, entry in found.items()
    ]
    headers = ["own work per cached answer", "Python calls", "CPU us (median)", "best", "this / it"]
    return format_table(headers, rows)
