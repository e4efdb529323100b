"""Instructions filterd's main thread executes per cached answer: a count a busy machine does
not change, for before/after comparisons of the hot path.

``python -m bench.instructions [--tree DIR ...]`` runs filterd's daemon in process (its real
chain, cache, query log and clock; no sockets: each packet goes straight to the function the
UDP socket calls) under valgrind's callgrind, once with the warm-up only and once with PASSES
more passes over the forwarder benchmark's 2,000 names as cache hits, and divides the main
thread's difference by the answers. Each --tree is another checkout (e.g. an older commit in
a `git worktree`), run with this checkout's Python and its own filterd. Needs valgrind.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

HERE = Path(__file__).resolve()
REPO_ROOT = HERE.parent.parent
NAMES = 2_000
PASSES = 5
TOTALS = re.compile(r"^(?:summary|totals): (\d+)", re.MULTILINE)


async def _answer_from_cache(passes: int, workdir: Path, upstream: str) -> None:
    """In the child: the daemon warmed with every name, then `passes` passes of cache hits."""
    from dnslib import DNSRecord

    from bench.servers import filterd_config
    from filterd.config import load_config
    from filterd.daemon import Daemon
    from tests.support.filterd_process import free_port

    try:
        from filterd.dns.query import Transport
    except ImportError:  # a checkout from before filterd/dns
        from filterd.query import Transport  # type: ignore[no-redef]

    path = filterd_config(free_port(), upstream, workdir, free_port())
    daemon = Daemon(load_config(path), path)
    await daemon.start()
    handle = getattr(daemon, "handle", None) or daemon.service.handle  # older: DnsService
    packets = [
        bytes(DNSRecord.question(f"www.site{i}.bench.test", "A").pack()) for i in range(NAMES)
    ]
    for packet in packets:  # fetched once from the upstream ...
        answer = handle(packet, "127.0.0.1", Transport.UDP)
        if not isinstance(answer, bytes):
            await answer
    for _ in range(passes + 1):  # ... then answered from the cache (one pass is warm-up)
        for packet in packets:
            handle(packet, "127.0.0.1", Transport.UDP)
    # Out at once: an orderly stop waits on timers and a child process, and the instructions
    # spent waiting depend on how slowly valgrind runs, not on the answers.
    os._exit(0)


def _child(passes: int, upstream: str, workdir: Path) -> None:
    # Run as a script, this file's folder is first on the path, where bench/dashboard.py would
    # stand for the dashboard package: take it off. The tree's filterd comes first, then ours.
    sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != HERE.parent]
    sys.path.append(str(REPO_ROOT))
    os.chdir(workdir)
    asyncio.run(_answer_from_cache(passes, workdir, upstream))


def main_thread_instructions(tree: Path, passes: int, upstream: str) -> int:
    """Instructions of the child's main thread, from callgrind's per-thread totals."""
    with tempfile.TemporaryDirectory(prefix="filterd-callgrind-") as tmp:
        out = Path(tmp) / "out"
        argv = [
            "valgrind", "--tool=callgrind", "--separate-threads=yes", "--dump-instr=no",
            f"--callgrind-out-file={out}", sys.executable, str(HERE), "--child", str(passes),
            "--upstream", upstream, "--workdir", tmp,
        ]  # fmt: skip
        env = dict(os.environ, PYTHONPATH=str(tree.resolve()), PYTHONHASHSEED="0")
        done = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)
        files = sorted(Path(tmp).glob("out-01")) or sorted(Path(tmp).glob("out"))
        if done.returncode != 0 or not files:
            raise RuntimeError(f"valgrind failed for {tree}:\n{done.stderr[-2000:]}")
        match = TOTALS.search(files[0].read_text(encoding="utf-8", errors="replace"))
        if match is None:
            raise RuntimeError(f"no instruction total in callgrind's output for {tree}")
        return int(match[1])


def per_answer(trees: list[Path]) -> dict[Path, float]:
    """Main-thread instructions per cached answer of each tree: (warm-up + PASSES) minus
    warm-up only. The valgrind runs go side by side (the counts do not depend on it), all
    asking one scripted upstream started here."""
    from tests.support.upstream_process import ScriptedUpstream

    runs = [(tree, passes) for tree in trees for passes in (0, PASSES)]
    with ScriptedUpstream(host="127.0.0.1") as upstream, ThreadPoolExecutor(len(runs)) as pool:
        found = pool.map(lambda run: main_thread_instructions(*run, upstream.addr), runs)
        counts = dict(zip(runs, found, strict=True))
    return {t: (counts[t, PASSES] - counts[t, 0]) / (PASSES * NAMES) for t in trees}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.instructions", description=__doc__)
    parser.add_argument("--tree", type=Path, action="append", default=[], metavar="DIR")
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--upstream", help=argparse.SUPPRESS)
    parser.add_argument("--workdir", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child is not None:
        _child(args.child, args.upstream, args.workdir)
        return 0
    trees = [REPO_ROOT, *args.tree]
    counts = per_answer(trees)
    first = counts[REPO_ROOT]
    for tree, count in counts.items():
        print(f"{count:10,.0f} instructions per cached answer  {first / count:5.3f}x  {tree}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
