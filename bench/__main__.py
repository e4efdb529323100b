"""``python -m bench [BENCHMARK ...] [--quick] [--only filterd|dnsmasq] [--baseline DIR ...]``.

Benchmarks are modules with ``NAME``, ``run(options, pinning)``, ``summary(data)`` and
``failed(data)``; add one to ``BENCHMARKS`` to make it selectable by name.
"""

from __future__ import annotations

import argparse
import signal
import sys
import types
from datetime import UTC, datetime
from pathlib import Path
from typing import NoReturn

from bench import (
    blocklists,
    cpu_per_query,
    dashboard,
    forwarder,
    login_flood,
    machine,
    name_patterns,
    pi_budget,
    profiles,
    python_path,
    soak,
)
from bench.options import REPO_ROOT, SERVERS, RunOptions
from bench.report import utc_stamp, write_results

BUSY_WARNING = 0.10
"""Warn when any CPU is busier than this before we start anything."""

BENCHMARKS: dict[str, types.ModuleType] = {
    forwarder.NAME: forwarder,
    cpu_per_query.NAME: cpu_per_query,
    python_path.NAME: python_path,
    blocklists.NAME: blocklists,
    profiles.NAME: profiles,
    dashboard.NAME: dashboard,
    name_patterns.NAME: name_patterns,
    soak.NAME: soak,
    login_flood.NAME: login_flood,
    pi_budget.NAME: pi_budget,
}
ON_REQUEST = {soak.NAME}
"""Run only when named (the soak takes 10 minutes), never as part of "all"."""


def parse_args(argv: list[str]) -> tuple[list[str], RunOptions]:
    """Benchmarks to run (default: all) and the shared options."""
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument(
        "benchmarks",
        nargs="*",
        metavar="BENCHMARK",
        help=f"which to run: {', '.join(BENCHMARKS)} (default: all but {', '.join(ON_REQUEST)})",
    )
    parser.add_argument("--quick", action="store_true", help="short phases, ~1 minute smoke run")
    parser.add_argument("--only", choices=SERVERS, help="measure just this server")
    parser.add_argument(
        "--baseline",
        type=Path,
        action="append",
        default=[],
        metavar="DIR",
        help="another checkout (e.g. an older commit) whose filterd forwarder, cpu_per_query "
        "and python_path measure too; may be given more than once",
    )
    args = parser.parse_args(argv)
    unknown = sorted(set(args.benchmarks) - set(BENCHMARKS))
    if unknown:
        parser.error(f"unknown benchmark {', '.join(unknown)}; choose from {', '.join(BENCHMARKS)}")
    names = args.benchmarks or [name for name in BENCHMARKS if name not in ON_REQUEST]
    servers = (args.only,) if args.only else SERVERS
    for tree in args.baseline:
        if not (tree / "filterd" / "__main__.py").exists():
            parser.error(f"--baseline {tree}: no filterd checkout there")
    options = RunOptions(quick=args.quick, servers=servers, baselines=tuple(args.baseline))
    return names, options


def _terminate(signum: int, _frame: object) -> NoReturn:
    """Turn SIGTERM/SIGHUP into an exception so every started process is stopped."""
    raise SystemExit(128 + signum)


def main(argv: list[str] | None = None) -> int:
    """Run the selected benchmarks; 0 unless something could not run (MISS is still 0)."""
    names, options = parse_args(sys.argv[1:] if argv is None else argv)
    # Ctrl-C must reach us even when started with SIGINT ignored (e.g. as a background job),
    # or a half-finished run would be written as if it were complete.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, _terminate)
    signal.signal(signal.SIGHUP, _terminate)
    if str(REPO_ROOT) not in sys.path:
        sys.path.insert(0, str(REPO_ROOT))  # tests.support, when run from elsewhere

    pinning = machine.choose_pinning()
    host = machine.describe(pinning)  # before pinning ourselves: records every usable CPU
    machine.pin_self(pinning)
    busy = ", ".join(f"cpu{c} {b:.0%}" for c, b in host["cpu_busy_before"].items())
    print(
        f"machine: {host['nproc']} CPUs ({host['cpu_model']}), "
        f"load {host['loadavg_before']['1m']:.2f}, busy before start: {busy}",
        flush=True,
    )
    if max(host["cpu_busy_before"].values(), default=0.0) > BUSY_WARNING:
        print("warning: the machine is already busy; numbers will be noisy", file=sys.stderr)
    if not pinning.enabled:
        print("warning: fewer than two CPUs available; running unpinned", file=sys.stderr)

    status = 0
    for name in names:
        module = BENCHMARKS[name]
        stamp = utc_stamp()
        started = datetime.now(UTC)
        try:
            data = module.run(options, pinning)
        except KeyboardInterrupt:
            print("\ninterrupted; all started processes stopped", file=sys.stderr)
            return 130
        except Exception as exc:  # report and move on to the next benchmark
            print(f"[{name}] could not run: {exc!r}", file=sys.stderr)
            status = 1
            continue
        data = {
            "started_utc": started.isoformat(timespec="seconds"),
            "duration_seconds": round((datetime.now(UTC) - started).total_seconds(), 1),
            "machine": host,
            **data,
        }
        path = write_results(name, data, options.results_dir, stamp)
        print()
        print(module.summary(data))
        print(f"\nresults: {path.relative_to(REPO_ROOT)} (and {name}-latest.json)")
        if module.failed(data):
            status = 1
    return status


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:  # before any benchmark started: nothing to clean up
        sys.exit(130)
